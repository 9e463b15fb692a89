"""Inputs of the visible checks; their expected results are recorded in ``goldens.npz``.

Every case builds its inputs itself (seeded), so the same case runs on the reference when an
instructor records it and on your code when you run ``gradekit check``.
"""

import numpy as np

from gradekit.goldens import GoldenSet

cases = GoldenSet()


def _seeded(seed: int = 231) -> np.random.RandomState:
    return np.random.RandomState(seed)


def _linspace(low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


# -- layers -----------------------------------------------------------------------------
@cases.case("layers.affine_forward", part="layers", tol=1e-9)
def affine_forward(c):
    x = _linspace(-0.1, 0.5, (2, 4, 5, 6))
    w = _linspace(-0.2, 0.3, (120, 3))
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = c.get("layers.affine_forward")(x, w, b)
    return {"out": out}


@cases.case("layers.affine_backward", part="layers", tol=1e-9)
def affine_backward(c):
    rng = _seeded()
    x, w, b = rng.randn(10, 2, 3), rng.randn(6, 5), rng.randn(5)
    dout = rng.randn(10, 5)
    _, cache = c.get("layers.affine_forward")(x, w, b)
    dx, dw, db = c.get("layers.affine_backward")(dout, cache)
    return {"dx": dx, "dw": dw, "db": db}


@cases.case("layers.relu_forward", part="layers", tol=1e-9)
def relu_forward(c):
    out, _ = c.get("layers.relu_forward")(_linspace(-0.5, 0.5, (3, 4)))
    return {"out": out}


@cases.case("layers.relu_backward", part="layers", tol=1e-9)
def relu_backward(c):
    rng = _seeded()
    x, dout = rng.randn(10, 10), rng.randn(10, 10)
    _, cache = c.get("layers.relu_forward")(x)
    return {"dx": c.get("layers.relu_backward")(dout, cache)}


@cases.case("layer_utils.affine_relu_forward", part="layers", tol=1e-9)
def affine_relu(c):
    rng = _seeded()
    x, w, b, dout = rng.randn(2, 3, 4), rng.randn(12, 10), rng.randn(10), rng.randn(2, 10)
    out, cache = c.get("layer_utils.affine_relu_forward")(x, w, b)
    dx, dw, db = c.get("layer_utils.affine_relu_backward")(dout, cache)
    return {"out": out, "dx": dx, "dw": dw, "db": db}


@cases.case("layers.svm_loss", part="layers", tol=1e-9)
def svm_loss(c):
    rng = _seeded()
    x = 0.001 * rng.randn(50, 10)
    y = rng.randint(10, size=50)
    loss, dx = c.get("layers.svm_loss")(x, y)
    return {"loss": loss, "dx": dx}


@cases.case("layers.softmax_loss", part="layers", tol=1e-9)
def softmax_loss(c):
    rng = _seeded()
    x = 0.001 * rng.randn(50, 10)
    y = rng.randint(10, size=50)
    loss, dx = c.get("layers.softmax_loss")(x, y)
    return {"loss": loss, "dx": dx}


# -- models -----------------------------------------------------------------------------
def _two_layer_net(c, reg: float):
    N, D, H, C = 3, 5, 50, 7
    model = c.get("classifiers.fc_net.TwoLayerNet")(
        input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3, reg=reg)
    model.params["W1"] = _linspace(-0.7, 0.3, (D, H))
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = _linspace(-0.3, 0.4, (H, C))
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = _linspace(-5.5, 4.5, (D, N)).T
    return model, X, np.asarray([0, 5, 1])


@cases.case("classifiers.fc_net.TwoLayerNet", part="fc_net", points=2, tol=1e-9)
def two_layer_net(c):
    model, X, y = _two_layer_net(c, reg=0.0)
    scores = model.loss(X)
    loss, grads = model.loss(X, y)
    model.reg = 1.0
    reg_loss, reg_grads = model.loss(X, y)
    results = {"scores": scores, "loss": loss, "reg_loss": reg_loss}
    results.update({f"d{k}": v for k, v in grads.items()})
    results.update({f"reg_d{k}": v for k, v in reg_grads.items()})
    return results


def _fc_net(c, reg: float, **options):
    rng = _seeded()
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    model = c.get("classifiers.fc_net.FullyConnectedNet")(
        [H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
        dtype=np.float64, **options)
    dims = [D, H1, H2, C]
    for i in range(3):  # set the weights here: your initialisation is checked elsewhere
        model.params[f"W{i + 1}"] = 5e-2 * rng.randn(dims[i], dims[i + 1])
        model.params[f"b{i + 1}"] = 0.1 * rng.randn(dims[i + 1])
    return model, X, y


@cases.case("classifiers.fc_net.FullyConnectedNet", part="fc_net", points=2, tol=1e-7)
def fc_net(c):
    results = {}
    for reg in (0.0, 3.14):
        model, X, y = _fc_net(c, reg)
        loss, grads = model.loss(X, y)
        results[f"loss_reg{reg}"] = loss
        results.update({f"d{k}_reg{reg}": v for k, v in grads.items()})
    return results


# -- update rules -----------------------------------------------------------------------
def _optim_inputs():
    N, D = 4, 5
    return _linspace(-0.4, 0.6, (N, D)), _linspace(-0.6, 0.4, (N, D)), N, D


def _momentum_step(c, rule: str):
    w, dw, N, D = _optim_inputs()
    config = {"learning_rate": 1e-3, "velocity": _linspace(0.6, 0.9, (N, D))}
    next_w, config = c.get(f"optim.{rule}")(w, dw, config=config)
    return {"next_w": next_w, "velocity": config["velocity"]}


@cases.case("optim.sgd_momentum", part="optim", tol=1e-8)
def sgd_momentum(c):
    return _momentum_step(c, "sgd_momentum")


@cases.case("optim.sgd_nesterov_momentum", part="optim", tol=1e-8)
def sgd_nesterov_momentum(c):
    return _momentum_step(c, "sgd_nesterov_momentum")


@cases.case("optim.rmsprop", part="optim", tol=1e-7)
def rmsprop(c):
    w, dw, N, D = _optim_inputs()
    config = {"learning_rate": 1e-2, "cache": _linspace(0.6, 0.9, (N, D))}
    next_w, config = c.get("optim.rmsprop")(w, dw, config=config)
    return {"next_w": next_w, "cache": config["cache"]}


@cases.case("optim.adam", part="optim", tol=1e-7)
def adam(c):
    w, dw, N, D = _optim_inputs()
    config = {"learning_rate": 1e-2, "m": _linspace(0.6, 0.9, (N, D)),
              "v": _linspace(0.7, 0.5, (N, D)), "t": 5}
    next_w, config = c.get("optim.adam")(w, dw, config=config)
    return {"next_w": next_w, "m": config["m"], "v": config["v"], "t": config["t"]}


# -- normalization ----------------------------------------------------------------------
def _norm_inputs():
    rng = _seeded()
    x = 5 * rng.randn(4, 5) + 12
    return x, rng.randn(5), rng.randn(5), rng.randn(4, 5)


@cases.case("layers.batchnorm_forward", part="normalization", points=2, tol=1e-7)
def batchnorm(c):
    x, gamma, beta, dout = _norm_inputs()
    bn_param = {"mode": "train"}
    out, cache = c.get("layers.batchnorm_forward")(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = c.get("layers.batchnorm_backward")(dout, cache)
    test_out, _ = c.get("layers.batchnorm_forward")(x, gamma, beta, dict(bn_param, mode="test"))
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta,
            "running_mean": bn_param["running_mean"], "running_var": bn_param["running_var"],
            "test_out": test_out}


@cases.case("layers.batchnorm_backward_alt", part="normalization", tol=1e-7)
def batchnorm_alt(c):
    x, gamma, beta, dout = _norm_inputs()
    _, cache = c.get("layers.batchnorm_forward")(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = c.get("layers.batchnorm_backward_alt")(dout, cache)
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


@cases.case("layers.layernorm_forward", part="normalization", points=2, tol=1e-7)
def layernorm(c):
    x, gamma, beta, dout = _norm_inputs()
    x, dout = x.T.copy(), dout.T.copy()  # 5 samples of 4 features
    gamma, beta = gamma[:4], beta[:4]
    out, cache = c.get("layers.layernorm_forward")(x, gamma, beta, {})
    dx, dgamma, dbeta = c.get("layers.layernorm_backward")(dout, cache)
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
