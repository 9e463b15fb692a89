"""Inputs of the visible checks of the conv nets part; their results are in ``goldens.npz``.

The fully connected checks (affine, ReLU, softmax, TwoLayerNet, FullyConnectedNet) come with
the base assignment's tests (``tests/fc_nets/``); these add the checks the
ConvolutionalNetworks notebook prints, and the FullyConnectedNet initial losses the
FullyConnectedNets notebook prints (2.3004790897684924 and 7.052114776533016 at seed 231).
"""

import numpy as np

from gradekit.goldens import GoldenSet

cases = GoldenSet()


def _seeded(seed: int = 231) -> np.random.RandomState:
    return np.random.RandomState(seed)


def _linspace(low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


# -- models ------------------------------------------------------------------------------
@cases.case("classifiers.fc_net.FullyConnectedNet", part="fc_net", tol=1e-9)
def fc_net_initial_loss(c):
    """The notebook's check: your initialisation draws W1, W2, W3 in that order."""
    np.random.seed(231)  # the weights come from the global generator (it travels to the worker)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    results = {}
    for reg in (0.0, 3.14):
        model = c.get("classifiers.fc_net.FullyConnectedNet")(
            [H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
            dtype=np.float64)
        results[f"loss_reg{reg}"] = model.loss(X, y)[0]
    return results


# -- convolution and pooling ---------------------------------------------------------------
@cases.case("layers.conv_forward_naive", part="conv", tol=1e-9)
def conv_forward(c):
    x = _linspace(-0.1, 0.5, (2, 3, 4, 4))
    w = _linspace(-0.2, 0.3, (3, 3, 4, 4))
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = c.get("layers.conv_forward_naive")(x, w, b, {"stride": 2, "pad": 1})
    return {"out": out}


@cases.case("layers.conv_backward_naive", part="conv", points=2, tol=1e-8)
def conv_backward(c):
    rng = _seeded()
    x, w, b = rng.randn(4, 3, 5, 5), rng.randn(2, 3, 3, 3), rng.randn(2)
    dout = rng.randn(4, 2, 5, 5)
    _, cache = c.get("layers.conv_forward_naive")(x, w, b, {"stride": 1, "pad": 1})
    dx, dw, db = c.get("layers.conv_backward_naive")(dout, cache)
    return {"dx": dx, "dw": dw, "db": db}


@cases.case("layers.max_pool_forward_naive", part="conv", tol=1e-9)
def max_pool_forward(c):
    x = _linspace(-0.3, 0.4, (2, 3, 4, 4))
    pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
    out, _ = c.get("layers.max_pool_forward_naive")(x, pool_param)
    return {"out": out}


@cases.case("layers.max_pool_backward_naive", part="conv", tol=1e-9)
def max_pool_backward(c):
    rng = _seeded()
    x, dout = rng.randn(3, 2, 8, 8), rng.randn(3, 2, 4, 4)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    _, cache = c.get("layers.max_pool_forward_naive")(x, pool_param)
    return {"dx": c.get("layers.max_pool_backward_naive")(dout, cache)}


# -- the three-layer conv net ----------------------------------------------------------------
@cases.case("classifiers.cnn.ThreeLayerConvNet", part="cnn", points=2, tol=1e-7)
def three_layer_conv_net(c):
    """The notebook's small net, with weights set here (your initialisation is checked
    elsewhere): scores, loss and gradients without and with regularisation."""
    rng = _seeded()
    model = c.get("classifiers.cnn.ThreeLayerConvNet")(
        num_filters=3, filter_size=3, input_dim=(3, 16, 16), hidden_dim=7, dtype=np.float64)
    shapes = {"W1": (3, 3, 3, 3), "b1": (3,), "W2": (3 * 8 * 8, 7), "b2": (7,),
              "W3": (7, 10), "b3": (10,)}
    for name, shape in shapes.items():
        model.params[name] = 0.1 * rng.randn(*shape)
    X, y = rng.randn(2, 3, 16, 16), rng.randint(10, size=2)
    results = {"scores": model.loss(X)}
    for reg in (0.0, 0.5):
        model.reg = reg  # read when loss() runs, not only in the constructor
        loss, grads = model.loss(X, y)
        results[f"loss_reg{reg}"] = loss
        results.update({f"d{k}_reg{reg}": v for k, v in grads.items()})
    return results
