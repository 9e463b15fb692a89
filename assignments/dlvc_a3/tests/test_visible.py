"""Visible checks of Assignment 3, the notebook's own test cells with its expected numbers.

Run them with ``gradekit check``. Each check seeds NumPy's global generator with 1 first, as
the notebook's cells do, so the random draws (inputs, weights, dropout masks) must come in
the notebook's order. Arrays compare as ``numpy.testing.assert_array_almost_equal`` with the
cell's ``decimal``. The graders run more checks than these.
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_decimal_close

A3 = "assignment3."
BN_A = [[1., 2.], [3., 4.], [5., 6]]
BN_BETA = [[1.], [2.], [3.]]
BN_GAMMA = [[4.], [5.], [6.]]
KEEP = 1 / 0.7  # the scale of a kept unit at drop probability 0.3


def fn(impl, name: str):
    return impl.get(A3 + name)


@pytest.mark.part("assignment2")
def test_relu(impl):
    a, cache = fn(impl, "relu")([-2, -1, 0, 1, 2])
    np.testing.assert_array_equal(a, [0, 0, 0, 1, 2], err_msg="relu must be max(0, Z)")
    np.testing.assert_array_equal(cache["Z"], [-2, -1, 0, 1, 2],
                                  err_msg="relu's cache must hold its input as cache['Z']")


@pytest.mark.part("assignment2")
def test_relu_der(impl):
    dz = fn(impl, "relu_der")(np.array([[0, 2], [1, 1]]), {"Z": np.array([[-1, 2], [1, -2]])})
    np.testing.assert_array_equal(dz, [[0, 2], [1, 0]],
                                  err_msg="relu_der must pass dA where Z > 0 and give 0 elsewhere")


SOFTMAX_A = [[0.57495949, 0.38148818, 0.05547572, 0.36516899],
             [0.26917503, 0.07040735, 0.53857622, 0.49875847],
             [0.15586548, 0.54810447, 0.40594805, 0.13607254]]


@pytest.mark.part("assignment2")
def test_softmax_cross_entropy_loss(impl):
    np.random.seed(1)
    Z = np.random.randn(3, 4)
    A, cache, loss = fn(impl, "softmax_cross_entropy_loss")(Z, np.array([[1, 0, 1, 2]]))
    assert_decimal_close(loss, 1.2223655548779273, 5, what="softmax_cross_entropy_loss loss")
    assert_decimal_close(A, SOFTMAX_A, 5, what="softmax_cross_entropy_loss A (softmax over "
                         "each column)")
    assert_decimal_close(cache["A"], SOFTMAX_A, 5, what="softmax cache['A']")


@pytest.mark.part("assignment2")
def test_softmax_cross_entropy_loss_der(impl):
    np.random.seed(1)
    np.random.randn(3, 4)
    dZ = fn(impl, "softmax_cross_entropy_loss_der")(np.array([[1, 0, 1, 2]]),
                                                    {"A": np.array(SOFTMAX_A)})
    assert_decimal_close(dZ, [[0.14373987, -0.15462795, 0.01386893, 0.09129225],
                              [-0.18270624, 0.01760184, -0.11535594, 0.12468962],
                              [0.03896637, 0.13702612, 0.10148701, -0.21598186]], 5,
                         what="softmax_cross_entropy_loss_der(Y, cache) ((A - one_hot(Y)) / m)")


@pytest.mark.part("dropout")
@pytest.mark.points(10)
def test_dropout_forward(impl):
    dropout = fn(impl, "dropout")
    np.random.seed(1)
    x = np.random.rand(3, 4)
    out, cache = dropout(x, 0.3, mode='train')
    assert_decimal_close(out, [[5.95745721e-01, 0.0, 1.63392596e-04, 4.31903675e-01],
                               [2.09651273e-01, 1.31912278e-01, 2.66086016e-01, 4.93658181e-01],
                               [0.0, 0.0, 5.98849306e-01, 9.78885001e-01]], 5,
                         what="dropout output in train mode (mask = (rand(n, m) < keep) / keep)")
    assert_decimal_close(cache[2], [[KEEP, 0., KEEP, KEEP], [KEEP, KEEP, KEEP, KEEP],
                                    [0., 0., KEEP, KEEP]], 5,
                         what="dropout mask cache[2] (scaled by 1/keep)")
    assert cache[1] == 'train', f"dropout's cache[1] must be the mode 'train', got {cache[1]!r}"

    np.random.seed(1)
    x = np.random.rand(3, 4)
    out, cache = dropout(x, 0.3, mode='test')
    assert_decimal_close(out, x, 6, what="dropout in test mode (must leave A unchanged)")
    assert cache[1] == 'test', f"dropout's cache[1] must be the mode 'test', got {cache[1]!r}"

    np.random.seed(1)
    x = np.random.rand(3, 4)
    out, cache = dropout(x, 0, mode='train')
    assert_decimal_close(out, x, 6, what="dropout with drop_prob 0 (must leave A unchanged)")
    assert cache[0] == 0 and cache[1] == 'train', \
        f"dropout's cache must start (drop_prob, mode) = (0, 'train'), got {cache[:2]!r}"
    assert cache[2] is None, "dropout with drop_prob 0 must cache the mask None"


@pytest.mark.part("dropout")
@pytest.mark.points(10)
def test_dropout_der(impl):
    np.random.seed(1)
    dA = np.random.rand(4, 2)
    mask = np.array([[KEEP, KEEP], [KEEP, KEEP], [KEEP, 0.], [KEEP, KEEP]])
    der = fn(impl, "dropout_der")
    assert_decimal_close(der(dA, (0.3, 'test', None)), dA, 6,
                         what="dropout_der in test mode (must return dA_in)")
    assert_decimal_close(der(dA, (0.3, 'train', mask)),
                         [[5.95745721e-01, 1.02903499e+00], [1.63392596e-04, 4.31903675e-01],
                          [2.09651273e-01, 0.0], [2.66086016e-01, 4.93658181e-01]], 6,
                         what="dropout_der in train mode (mask * dA_in)")


@pytest.mark.part("batchnorm")
@pytest.mark.points(15)
def test_batchnorm_forward(impl):
    out, _ = fn(impl, "batchnorm")(np.array(BN_A), np.array(BN_BETA), np.array(BN_GAMMA))
    assert_decimal_close(out, [[-2.99992, 4.99992], [-2.9999, 6.9999], [-2.99988, 8.99988]], 5,
                         what="batchnorm(A, beta, gamma) (each feature over axis 1, eps 1e-5)")


@pytest.mark.part("batchnorm")
@pytest.mark.points(15)
def test_batchnorm_der(impl):
    _, cache = fn(impl, "batchnorm")(np.array(BN_A), np.array(BN_BETA), np.array(BN_GAMMA))
    dA, dbeta, dgamma = fn(impl, "batchnorm_der")(np.array([[4., 5.], [8., 10.], [12., 15.]]),
                                                  cache)
    assert_decimal_close(dA, [[-0.00016, 0.00016], [-0.0004, 0.0004], [-0.00072, 0.00072]], 5,
                         what="batchnorm_der dA_out")
    assert_decimal_close(dbeta, [[9.], [18.], [27.]], 5, what="batchnorm_der dbeta (second "
                         "of (dA_out, dbeta, dgamma))")
    assert_decimal_close(dgamma, [[1.], [2.], [3.]], 4, what="batchnorm_der dgamma (third)")


@pytest.mark.part("initialization")
@pytest.mark.points(5)
def test_initialize_network(impl):
    np.random.seed(1)
    p = fn(impl, "initialize_network")([3, 4, 1], ['relu', 'linear'], [0.3, 0.5])
    assert_decimal_close(p['W1'], [[1.87563247, -0.70639546, -0.60988021],
                                   [-1.23895745, 0.99928666, -2.65758797],
                                   [2.01473508, -0.87896602, 0.36839462],
                                   [-0.28794811, 1.68829682, -2.37884559]], 6,
                         what="W1 (randn(n_out, n_in) * 2/sqrt(n_in))")
    shapes = {k: np.shape(p[k]) for k in ('W1', 'W2', 'b1', 'b2')}
    assert shapes == {'W1': (4, 3), 'W2': (1, 4), 'b1': (4, 1), 'b2': (1, 1)}, \
        f"W{{l}} must be (n_out, n_in) and b{{l}} (n_out, 1), got {shapes}"
    assert p['b1'].all() == 0 and p['b2'].all() == 0, "biases must start at zero"
    assert (p['act1'], p['act2']) == ('relu', 'linear'), "act{l} must hold the activations"
    assert (p['dropout1'], p['dropout2']) == (0.3, 0.5), "dropout{l} must hold drop_prob_list"


@pytest.mark.part("initialization")
@pytest.mark.points(5)
def test_initialize_velocity(impl):
    np.random.seed(1)
    p = fn(impl, "initialize_network")([5, 4, 1], ['relu', 'linear'], [0.3, 0.5])
    p = fn(impl, "initialize_velocity")(p)
    expected = {'VdW1': (4, 5), 'VdW2': (1, 4), 'Vdb1': (4, 1), 'Vdb2': (1, 1),
                'GdW1': (4, 5), 'GdW2': (1, 4), 'Gdb1': (4, 1), 'Gdb2': (1, 1)}
    for key, shape in expected.items():
        assert key in p, f"initialize_velocity must add {key}"
        assert np.shape(p[key]) == shape, f"{key} must be shaped {shape}, got {np.shape(p[key])}"
        assert p[key].all() == 0, f"{key} must start at zero"
    assert p['apply_momentum'] == True, "parameters['apply_momentum'] must be set"  # noqa: E712


def _two_updates(impl, apply_momentum: bool, n: int, m: int, labels: list[float]) -> dict:
    """The notebook's update cell: a forward and backward pass of a 2-layer net, then the
    update called twice with the same gradients at alpha 1."""
    np.random.seed(1)
    A0 = np.random.randn(n, m)
    Y = np.array([labels])
    p = fn(impl, "initialize_network")([n, n + 1, 2], ['relu', 'linear'], [0.3, 0])
    p = fn(impl, "initialize_velocity")(p, apply_momentum)
    p = fn(impl, "initialize_bnorm_params")(p, [0, 0], apply_momentum)
    A, caches = fn(impl, "multi_layer_forward")(A0, p, 'train')
    _, cache, _ = fn(impl, "softmax_cross_entropy_loss")(A, Y)
    dAL = fn(impl, "softmax_cross_entropy_loss_der")(Y, cache)
    gradients = fn(impl, "multi_layer_backward")(dAL, caches, p)
    update = fn(impl, "update_parameters_with_momentum_Adam")
    p = update(p, gradients, 1)
    return update(p, gradients, 1)


ADAM = {
    'W1': [[-2.7191573, -2.79033829, 3.6559832], [1.07680635, 2.14776979, 1.3330437],
           [-2.29708863, -1.67003859, -3.38885276], [3.66847147, -1.30571348, -1.76653199]],
    'b1': [[2.34687006], [-2.3468659], [-2.34495502], [-2.34646538]],
    'W2': [[3.247725, 1.66314062, -2.46646577, 1.41104969],
           [-2.61475713, -1.81651301, 1.65191479, -2.74357265]],
    'b2': [[2.34685986], [-2.34685986]],
    'VdW1': [[0.04959329, 0.08954598, -0.02339858], [-0.03635384, -0.13950981, -0.01346142],
             [0.00538899, 0.00279682, 0.00033368], [-0.01183912, 0.01798966, 0.01645148]],
    'Vdb1': [[-0.08461959], [0.06005603], [0.0039684], [0.00860207]],
    'GdW1': [[1.35578790e-03, 4.42016104e-03, 3.01803982e-04],
             [7.28528402e-04, 1.07289049e-02, 9.98913468e-05],
             [1.60088503e-05, 4.31196318e-06, 6.13777575e-08],
             [7.72653956e-05, 1.78398694e-04, 1.49195616e-04]],
    'Gdb1': [[3.94718747e-03], [1.98819556e-03], [8.68115211e-06], [4.07898679e-05]],
    'VdW2': [[-0.07598473, -0.07214759, 0.00302548, -0.02342229],
             [0.07598473, 0.07214759, -0.00302548, 0.02342229]],
    'Vdb2': [[-0.0457975], [0.0457975]],
    'GdW2': [[3.18272027e-03, 2.86938965e-03, 5.04586721e-06, 3.02415905e-04],
             [3.18272027e-03, 2.86938965e-03, 5.04586721e-06, 3.02415905e-04]],
    'Gdb2': [[0.00115619], [0.00115619]],
}
SGD = {
    'W1': [[2.38556532, -1.43370309], [0.82922072, -0.60237324], [-1.52567143, -0.53983959]],
    'b1': [[0.1551979], [0.23272841], [-2.21221693]],
    'W2': [[-0.16928131, -1.50183323, -4.86682037], [-1.47305905, 0.85926252, 5.16232096]],
    'b2': [[-0.21232129], [0.21232129]],
}


@pytest.mark.part("adam")
def test_update_with_momentum(impl):
    p = _two_updates(impl, True, 3, 4, [1., 0., 0., 1.])
    for key, expected in ADAM.items():
        assert_decimal_close(p[key], expected, 6, what=f"{key} after two Adam updates "
                             "(no bias correction, eps inside the sqrt, beta2 0.99)")


@pytest.mark.part("adam")
def test_update_without_momentum(impl):
    p = _two_updates(impl, False, 2, 3, [1., 0., 0.])
    for key, expected in SGD.items():
        assert_decimal_close(p[key], expected, 6,
                             what=f"{key} after two SGD updates (apply_momentum False)")


@pytest.mark.part("network")
def test_multi_layer_network_costs(impl):
    np.random.seed(1)
    A0 = np.random.randn(3, 6)
    Y = np.array([[1., 0., 2., 0, 1., 2.]])
    costs, _ = fn(impl, "multi_layer_network")(
        A0, Y, [3, 6, 3], ['relu', 'linear'], [0.3, 0], [0, 0], num_epochs=1, batch_size=2,
        learning_rate=1e-1, decay_rate=1, apply_momentum=True, log=False, log_step=1)
    assert_decimal_close(costs, [0.8291501476754569, 3.1183677832322285, 4.988510889921268], 6,
                         what="the costs of 3 sequential minibatches of 2")
