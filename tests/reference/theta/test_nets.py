"""Tests of reference/theta/nets.py: the seed's printed constants, central-difference
gradients, PyTorch's ops where torch is installed, and the given Solver training a net."""

import numpy as np
import pytest

from gradekit.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from reference.theta import nets
from reference.theta.solver import Solver


def _linspace(low: float, high: float, *shape: int) -> np.ndarray:
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


def _linspace_net(cls: type, dims: list[int]) -> object:
    """A net with the notebook's linspace parameters (same ranges for every layer after the
    first, as the seed's cells set them)."""
    model = cls(*dims, weight_scale=1e-2)
    ranges = [((-0.7, 0.3), (-0.1, 0.9))] + [((-0.3, 0.4), (-0.9, 0.1))] * (len(dims) - 2)
    for layer, ((w_lo, w_hi), (b_lo, b_hi)) in enumerate(ranges, 1):
        model.params[f"theta{layer}"] = _linspace(w_lo, w_hi, dims[layer - 1], dims[layer])
        model.params[f"theta{layer}_0"] = np.linspace(b_lo, b_hi, dims[layer])
    return model


X = _linspace(-5.5, 4.5, 5, 3).T
Y = np.array([0, 5, 1])


def test_affine_forward_reproduces_the_printed_difference():
    x, theta, theta0 = _linspace(-0.1, 0.5, 2, 4, 5, 6), _linspace(-0.2, 0.3, 120, 3), \
        np.linspace(-0.3, 0.1, 3)
    out, cache = nets.affine_forward(x, theta, theta0)
    correct = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    # the product's last bits follow the BLAS kernel: another seed's machine printed
    # 9.769847728806635e-10, and AVX-512 OpenBLAS gives 9.769848888397517e-10
    assert rel_error(out, correct) == pytest.approx(9.769849468192957e-10, rel=1e-6)
    assert cache[0] is x and cache[1] is theta and cache[2] is theta0


def test_relu_forward_reproduces_the_printed_difference():
    out, cache = nets.relu_forward(_linspace(-0.5, 0.5, 3, 4))
    correct = np.array([[0, 0, 0, 0], [0, 0, 0.04545455, 0.13636364],
                        [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert rel_error(out, correct) == pytest.approx(4.999999798022158e-08, rel=1e-6)
    assert cache.shape == (3, 4)


@pytest.mark.parametrize(("cls", "dims", "losses"), [
    (nets.TwoLayerNet, [5, 50, 7], (3.4702243556, 26.5948426952)),
    (nets.ThreeLayerNet, [5, 50, 30, 7], (6.56064352723, 59.1928674811)),
])
def test_nets_reproduce_the_notebook_losses(cls, dims, losses):
    model = _linspace_net(cls, dims)
    assert model.loss(X).shape == (3, 7)
    for reg, expected in zip((0.0, 1.0), losses, strict=True):
        model.reg = reg
        assert abs(model.loss(X, Y)[0] - expected) < 1e-10


def test_three_layer_reg_loss_is_the_verified_value():
    model = _linspace_net(nets.ThreeLayerNet, [5, 50, 30, 7])
    model.reg = 1.0
    assert model.loss(X, Y)[0] == pytest.approx(59.192867481098666, abs=1e-12)


def test_layer_gradients_match_central_differences():
    rng = np.random.RandomState(0)
    x, theta, theta0, dout = rng.randn(4, 2, 3), rng.randn(6, 5), rng.randn(5), rng.randn(4, 5)
    _, cache = nets.affine_relu_forward(x, theta, theta0)
    got = nets.affine_relu_backward(dout, cache)
    for index, value in enumerate((x, theta, theta0)):
        def f(v, index=index):
            args = [x, theta, theta0]
            args[index] = v
            return nets.affine_relu_forward(*args)[0]
        assert rel_error(got[index], eval_numerical_gradient_array(f, value, dout)) < 1e-8
    scores, y = rng.randn(6, 4), rng.randint(4, size=6)
    _, dx = nets.softmax_loss(scores, y)
    numeric = eval_numerical_gradient(lambda s: nets.softmax_loss(s, y)[0], scores, verbose=False)
    assert rel_error(dx, numeric) < 1e-8


@pytest.mark.parametrize("cls", [nets.TwoLayerNet, nets.ThreeLayerNet])
def test_net_gradients_match_central_differences(cls):
    rng = np.random.RandomState(1)
    np.random.seed(1)
    dims = [4, 6, 3] if cls is nets.TwoLayerNet else [4, 6, 5, 3]
    model = cls(*dims, weight_scale=0.5, reg=0.7)
    for name in model.params:
        if name.endswith("_0"):
            model.params[name] = 0.2 * rng.randn(*model.params[name].shape)
    Xs, ys = rng.randn(5, 4), rng.randint(3, size=5)
    _, grads = model.loss(Xs, ys)
    for name, value in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(Xs, ys)[0], value, verbose=False)
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(2)
    x, theta, theta0 = rng.randn(5, 2, 3), rng.randn(6, 4), rng.randn(4)
    tx = torch.tensor(x, requires_grad=True)
    tt, t0 = torch.tensor(theta, requires_grad=True), torch.tensor(theta0, requires_grad=True)
    scores = torch.relu(tx.reshape(5, -1) @ tt + t0)
    y = rng.randint(4, size=5)
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y))
    loss.backward()
    out, cache = nets.affine_relu_forward(x, theta, theta0)
    ours, dscores = nets.softmax_loss(out, y)
    dx, dtheta, dtheta0 = nets.affine_relu_backward(dscores, cache)
    assert ours == pytest.approx(loss.item(), rel=1e-12)
    for mine, theirs in ((dx, tx), (dtheta, tt), (dtheta0, t0)):
        assert rel_error(mine, theirs.grad.numpy()) < 1e-10


def test_the_given_solver_trains_theta_named_params():
    rng = np.random.RandomState(3)
    X_all = rng.randn(80, 8)
    y_all = np.argmax(X_all @ rng.randn(8, 3), axis=1)  # a rule a net can learn
    data = {"X_train": X_all[:60], "y_train": y_all[:60], "X_val": X_all[60:], "y_val": y_all[60:]}
    np.random.seed(3)
    model = nets.ThreeLayerNet(input_dim=8, hidden_dim_1=20, hidden_dim_2=20, num_classes=3,
                               weight_scale=0.1)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.1},
                    num_epochs=60, batch_size=20, verbose=False)
    solver.train()
    assert solver.train_acc_history[-1] > 0.8
    assert set(model.params) == {f"theta{i}{s}" for i in (1, 2, 3) for s in ("", "_0")}
