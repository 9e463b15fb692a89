"""The dlvc reference against seed 003: its printed numbers, gradients by central
differences, the random-draw order the notebook's checks depend on."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).parents[3] / "reference" / "dlvc" / "assignment3.py"
_spec = importlib.util.spec_from_file_location("dlvc_assignment3", PATH)
a3 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(a3)


def close(got, want, decimal: int) -> None:
    np.testing.assert_array_almost_equal(got, want, decimal)


def test_softmax_and_its_derivative():
    np.random.seed(1)
    Z, Y = np.random.randn(3, 4), np.array([[1, 0, 1, 2]])
    A, cache, loss = a3.softmax_cross_entropy_loss(Z, Y)
    close(loss, 1.2223655548779273, 5)
    close(A[:, 0], [0.57495949, 0.26917503, 0.15586548], 5)
    close(a3.softmax_cross_entropy_loss_der(Y, cache)[:, 0],
          [0.14373987, -0.18270624, 0.03896637], 5)
    assert a3.softmax_cross_entropy_loss(Z)[2] == []
    assert np.all(np.isfinite(a3.softmax_cross_entropy_loss(1e4 * Z, Y)[0]))


def test_dropout_draws_and_sentinels():
    np.random.seed(1)
    out, (p, mode, mask) = a3.dropout(np.random.rand(3, 4), 0.3)
    close(out[0], [5.95745721e-01, 0.0, 1.63392596e-04, 4.31903675e-01], 5)
    assert (p, mode) == (0.3, 'train') and mask[0, 1] == 0
    np.random.seed(1)
    state = np.random.get_state()[1].copy()
    assert a3.dropout(np.ones((2, 2)), 0)[1] == (0, 'train', None)
    assert np.array_equal(np.random.get_state()[1], state), "drop_prob 0 must not draw"
    assert a3.dropout(np.ones((2, 2)), 0.3, 'test')[1][2] is None
    with pytest.raises(ValueError):
        a3.dropout(np.ones((2, 2)), 0.3, 'eval')


def test_batchnorm_numbers_and_integer_input():
    beta, gamma = np.array([[1.], [2.], [3.]]), np.array([[4.], [5.], [6.]])
    out, cache = a3.batchnorm(np.array([[1, 2], [3, 4], [5, 6]]), beta, gamma)
    close(out, [[-2.99992, 4.99992], [-2.9999, 6.9999], [-2.99988, 8.99988]], 5)
    dA, dbeta, dgamma = a3.batchnorm_der(np.array([[4., 5.], [8., 10.], [12., 15.]]), cache)
    close(dA, [[-1.5999e-4, 1.5999e-4], [-3.9998e-4, 3.9998e-4], [-7.1996e-4, 7.1996e-4]], 8)
    close(dbeta, [[9.], [18.], [27.]], 10)
    close(dgamma, [[0.99998], [1.99996], [2.99994]], 8)
    empty = np.asarray([])
    assert a3.batchnorm(out, empty, empty)[1] == {}
    assert a3.batchnorm_der(dA, {})[1:] == ([], [])


def test_batchnorm_gradient_by_central_differences():
    r = np.random.RandomState(0)
    A, beta, gamma, dout = r.randn(3, 6), r.randn(3, 1), r.randn(3, 1), r.randn(3, 6)
    dA, dbeta, dgamma = a3.batchnorm_der(dout, a3.batchnorm(A, beta, gamma)[1])
    for which, analytic in ((0, dA), (1, dbeta), (2, dgamma)):
        args = [A, beta, gamma]
        numeric = np.zeros_like(args[which])
        for i in np.ndindex(numeric.shape):
            plus, minus = args[which].copy(), args[which].copy()
            plus[i] += 1e-5
            minus[i] -= 1e-5
            f = [a3.batchnorm(*args[:which], v, *args[which + 1:])[0] for v in (plus, minus)]
            numeric[i] = np.sum((f[0] - f[1]) * dout) / 2e-5
        close(analytic, numeric, 6)


def test_initialisation_scale_and_rng_order():
    np.random.seed(1)
    p = a3.initialize_network([3, 4, 1], ['relu', 'linear'], [0.3, 0.5])
    close(p['W1'][0], [1.87563247, -0.70639546, -0.60988021], 6)
    p = a3.initialize_bnorm_params(a3.initialize_velocity(p), [1, 0], True)
    np.random.seed(1)
    np.random.randn(4, 3)
    np.random.randn(1, 4)
    close(p['bnorm_beta1'], np.random.randn(4, 1), 12)  # after the weights, beta then gamma
    close(p['bnorm_gamma1'], np.random.randn(4, 1), 12)
    assert p['bnorm_beta2'].size == 0 and np.all(p['VdW1'] == 0)


def _two_updates(apply_momentum: bool, n: int, m: int, labels: list[float]) -> dict:
    np.random.seed(1)
    A0, Y = np.random.randn(n, m), np.array([labels])
    p = a3.initialize_network([n, n + 1, 2], ['relu', 'linear'], [0.3, 0])
    p = a3.initialize_bnorm_params(a3.initialize_velocity(p, apply_momentum), [0, 0],
                                   apply_momentum)
    A, caches = a3.multi_layer_forward(A0, p, 'train')
    _, cache, _ = a3.softmax_cross_entropy_loss(A, Y)
    grads = a3.multi_layer_backward(a3.softmax_cross_entropy_loss_der(Y, cache), caches, p)
    p = a3.update_parameters_with_momentum_Adam(p, grads, 1)
    return a3.update_parameters_with_momentum_Adam(p, grads, 1)


def test_adam_and_sgd_updates():
    p = _two_updates(True, 3, 4, [1., 0., 0., 1.])
    close(p['W1'][0], [-2.7191573, -2.79033829, 3.6559832], 6)
    close(p['GdW1'][2], [1.60088503e-05, 4.31196318e-06, 6.13777575e-08], 6)
    close(p['b2'], [[2.34685986], [-2.34685986]], 6)
    p = _two_updates(False, 2, 3, [1., 0., 0.])
    close(p['W2'], [[-0.16928131, -1.50183323, -4.86682037],
                    [-1.47305905, 0.85926252, 5.16232096]], 6)


def test_course_sgd_batchnorm_bug_is_kept():
    np.random.seed(0)
    p = a3.initialize_network([2, 2], ['linear'], [0])
    p = a3.initialize_bnorm_params(a3.initialize_velocity(p, False), [1], False)
    gamma = p['bnorm_gamma1'].copy()
    grads = {'dW1': np.zeros((2, 2)), 'db1': np.zeros((2, 1)),
             'dbnorm_beta1': np.ones((2, 1)), 'dbnorm_gamma1': np.zeros((2, 1))}
    a3.update_parameters_with_momentum_Adam(p, grads, 0.5)
    close(p['bnorm_gamma1'], gamma - 0.5, 12)  # the course's code: beta's gradient


def test_network_costs_and_classify():
    np.random.seed(1)
    A0, Y = np.random.randn(3, 6), np.array([[1., 0., 2., 0, 1., 2.]])
    costs, _ = a3.multi_layer_network(A0, Y, [3, 6, 3], ['relu', 'linear'], [0.3, 0], [0, 0],
                                      num_epochs=1, batch_size=2, learning_rate=1e-1,
                                      decay_rate=1, log=False, log_step=1)
    close(costs, [0.8291501476754569, 3.1183677832322285, 4.988510889921268], 6)
    np.random.seed(1)
    X = np.random.randn(3, 4)
    p = a3.initialize_bnorm_params(
        a3.initialize_network([3, 4, 2], ['relu', 'linear'], [0.3, 0]), [0, 0], False)
    np.testing.assert_array_equal(a3.classify(X, p), [[1, 1, 0, 1]])
