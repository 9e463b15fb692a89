"""Inputs of the visible checks whose expected results are recorded in ``goldens.npz``.

Each case builds its inputs itself (seeded), so the same case runs on our solution when an
instructor records it and on your notebook's functions when you run ``gradekit check``.
"""

import numpy as np

from gradekit.goldens import GoldenSet

cases = GoldenSet()


def seeded(seed: int = 4) -> np.random.RandomState:
    return np.random.RandomState(seed)


def linspace(low: float, high: float, *shape: int) -> np.ndarray:
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


#: the notebook's linspace parameters: the first layer's ranges, then every later layer's
FIRST_RANGES = ((-0.7, 0.3), (-0.1, 0.9))
LATER_RANGES = ((-0.3, 0.4), (-0.9, 0.1))


def make_net(c, cls: str, dims: list[int], **kwargs):
    """``nets.<cls>`` of layer sizes ``dims`` (input, hidden..., classes), by keyword."""
    names = ("input_dim", "hidden_dim", "num_classes") if len(dims) == 3 else (
        "input_dim", "hidden_dim_1", "hidden_dim_2", "num_classes")
    return c.get(f"nets.{cls}")(**dict(zip(names, dims, strict=True)), **kwargs)


def linspace_net(c, cls: str, dims: list[int]):
    """The net ``nets.<cls>`` of sizes ``dims`` with the notebook's linspace parameters,
    its linspace inputs X (3 samples of 5 features) and labels y = [0, 5, 1]."""
    model = make_net(c, cls, dims, weight_scale=1e-2)
    for layer in range(1, len(dims)):
        (w_lo, w_hi), (b_lo, b_hi) = FIRST_RANGES if layer == 1 else LATER_RANGES
        model.params[f"theta{layer}"] = linspace(w_lo, w_hi, dims[layer - 1], dims[layer])
        model.params[f"theta{layer}_0"] = np.linspace(b_lo, b_hi, num=dims[layer])
    return model, linspace(-5.5, 4.5, 5, 3).T, np.asarray([0, 5, 1])


@cases.case("nets.affine_backward", part="layers", tol=1e-9)
def affine_backward(c):
    rng = seeded()
    x, theta, theta0, dout = rng.randn(10, 2, 3), rng.randn(6, 5), rng.randn(5), rng.randn(10, 5)
    _, cache = c.get("nets.affine_forward")(x, theta, theta0)
    dx, dtheta, dtheta0 = c.get("nets.affine_backward")(dout, cache)
    return {"dx": dx, "dtheta": dtheta, "dtheta0": dtheta0}


@cases.case("nets.relu_backward", part="layers", tol=1e-12)
def relu_backward(c):
    rng = seeded()
    x, dout = rng.randn(10, 10), rng.randn(10, 10)
    _, cache = c.get("nets.relu_forward")(x)
    return {"dx": c.get("nets.relu_backward")(dout, cache)}


@cases.case("nets.softmax_loss", part="softmax", tol=1e-9)
def softmax_loss(c):
    rng = seeded()
    x, y = 0.001 * rng.randn(50, 10), rng.randint(10, size=50)
    loss, dx = c.get("nets.softmax_loss")(x, y)
    return {"loss": loss, "dx": dx}


def _net_gradients(c, cls: str, dims: list[int]):
    model, X, y = linspace_net(c, cls, dims)
    results = {}
    for reg in (0.0, 0.7):
        model.reg = reg
        _, grads = model.loss(X, y)
        results.update({f"d{name}_reg{reg}": value for name, value in grads.items()})
    return results


@cases.case("nets.TwoLayerNet", part="two_layer", tol=1e-8)
def two_layer_gradients(c):
    return _net_gradients(c, "TwoLayerNet", [5, 50, 7])


@cases.case("nets.ThreeLayerNet", part="three_layer", tol=1e-8)
def three_layer_gradients(c):
    return _net_gradients(c, "ThreeLayerNet", [5, 50, 30, 7])
