"""Hidden tests of Assignment 3: what the notebook's visible cells miss.

Exact values against the live reference (``ref``) on inputs the notebook never tries, the
robustness probes of the course's known failure modes (integer and list inputs, large
logits, ``drop_prob = 0``, a mistyped mode, empty batchnorm parameters), and tests of the
update fed the reference's gradients, so a bug in the carried-over functions costs their
own (0-point) part rather than the update's points.
"""

import numpy as np
import pytest

from gradekit.harness.checks import assert_decimal_close
from gradekit.sandbox.errors import StudentError

A3 = "assignment3."
hidden = pytest.mark.visibility("hidden")


def fn(view, name: str):
    return view.get(A3 + name)


def rng(seed: int = 3) -> np.random.RandomState:
    return np.random.RandomState(seed)


# --- carried over from Assignment 2 (0 points, still reported) -------------------------

@hidden
@pytest.mark.part("assignment2")
def test_relu_der_takes_a_list_cache(impl):
    dz = fn(impl, "relu_der")(np.array([1., 2., 3., 4.]), {"Z": [-1, 0, 2, 3]})
    np.testing.assert_array_equal(np.asarray(dz).reshape(-1), [0, 0, 3, 4],
                                  err_msg="relu_der must accept cache['Z'] as a list")


@hidden
@pytest.mark.part("assignment2")
def test_softmax_of_integer_scores(impl, ref):
    Z, Y = np.array([[1, 2], [3, 4], [0, 1]]), np.array([[1, 0]])
    A, _, loss = fn(impl, "softmax_cross_entropy_loss")(Z, Y)
    A_ref, _, loss_ref = fn(ref, "softmax_cross_entropy_loss")(Z, Y)
    assert_decimal_close(A, A_ref, 6, what="softmax of integer scores (an integer copy of Z "
                         "truncates the probabilities to 0)")
    assert_decimal_close(loss, loss_ref, 6, what="loss of integer scores")


@hidden
@pytest.mark.part("assignment2")
def test_softmax_of_large_scores(impl, ref):
    Z, Y = 1000 * rng().randn(4, 6), np.array([[0., 1., 2., 3., 0., 1.]])
    A, _, _ = fn(impl, "softmax_cross_entropy_loss")(Z, Y)
    assert np.all(np.isfinite(A)), "softmax overflows on large scores: subtract each " \
        "column's maximum before np.exp"
    assert_decimal_close(A, fn(ref, "softmax_cross_entropy_loss")(Z, Y)[0], 6,
                         what="softmax of large scores")


@hidden
@pytest.mark.part("assignment2")
def test_softmax_without_labels(impl, ref):
    Z = rng().randn(5, 7)
    A, cache, loss = fn(impl, "softmax_cross_entropy_loss")(Z)
    assert np.size(loss) == 0, f"without Y the loss must be [] (got {loss!r})"
    assert_decimal_close(A, fn(ref, "softmax_cross_entropy_loss")(Z)[0], 6, what="softmax A")
    assert_decimal_close(cache["A"], A, 6, what="softmax cache['A']")


@hidden
@pytest.mark.part("assignment2")
def test_softmax_der_values(impl, ref):
    r = rng()
    Z, Y = r.randn(5, 7), r.randint(5, size=(1, 7)).astype(float)
    _, cache, _ = fn(ref, "softmax_cross_entropy_loss")(Z, Y)
    assert_decimal_close(fn(impl, "softmax_cross_entropy_loss_der")(Y, cache),
                         fn(ref, "softmax_cross_entropy_loss_der")(Y, cache), 8,
                         what="softmax_cross_entropy_loss_der (A - one_hot(Y)) / m")


@hidden
@pytest.mark.part("assignment2")
def test_linear_forward_values(impl):
    np.random.seed(1)
    A_prev, W, b = np.random.randn(3, 4), np.random.randn(3, 3), np.random.randn(3, 1)
    Z, cache = fn(impl, "linear_forward")(A_prev, W, b)
    assert_decimal_close(Z, [[0.65036003, 1.94315195, 2.30260611, -0.55271251],
                             [-1.3143044, 2.19021833, -0.10185631, 4.02150494],
                             [0.72429623, -0.59024014, -0.11212296, 2.28098772]], 6,
                         what="linear_forward Z = W A_prev + b")
    assert_decimal_close(cache["A"], A_prev, 12, what="linear_forward cache['A']")


@hidden
@pytest.mark.part("assignment2")
def test_linear_backward_values(impl, ref):
    np.random.seed(1)
    dZ, A = np.random.randn(3, 4), np.random.randn(5, 4)
    W, b = np.random.randn(3, 5), np.random.randn(3, 1)
    got = fn(impl, "linear_backward")(dZ, {"A": A}, W, b)
    want = fn(ref, "linear_backward")(dZ, {"A": A}, W, b)
    for name, g, w in zip(("dA_prev", "dW", "db"), got, want, strict=True):
        assert_decimal_close(g, w, 8, what=f"linear_backward {name} (no 1/m here)")


# --- dropout -----------------------------------------------------------------------------

@hidden
@pytest.mark.part("dropout")
@pytest.mark.points(3)
def test_dropout_other_probability(impl, ref):
    x = rng().randn(6, 9)
    np.random.seed(7)
    out, cache = fn(impl, "dropout")(x, 0.6, mode='train')
    np.random.seed(7)
    out_ref, cache_ref = fn(ref, "dropout")(x, 0.6, mode='train')
    assert_decimal_close(out, out_ref, 8, what="dropout at drop_prob 0.6")
    assert_decimal_close(cache[2], cache_ref[2], 8, what="dropout mask at drop_prob 0.6")
    assert cache[0] == 0.6, "dropout's cache[0] must be drop_prob"


@hidden
@pytest.mark.part("dropout")
@pytest.mark.points(2)
def test_dropout_zero_draws_nothing(impl):
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    fn(impl, "dropout")(rng().randn(3, 3), 0, mode='train')
    assert np.random.rand() == expected, "dropout with drop_prob 0 must not draw random " \
        "numbers (the later masks of the network would shift)"


@hidden
@pytest.mark.part("dropout")
@pytest.mark.points(2)
def test_dropout_test_mode_mask_is_none(impl):
    _, cache = fn(impl, "dropout")(rng().randn(3, 3), 0.3, mode='test')
    assert cache[2] is None, "dropout in test mode must cache the mask None"


@hidden
@pytest.mark.part("dropout")
@pytest.mark.points(3)
def test_dropout_rejects_a_bad_mode(impl):
    with pytest.raises(StudentError) as raised:
        fn(impl, "dropout")(rng().randn(3, 3), 0.3, mode='eval')
    if raised.value.type_name == "NotImplementedError":
        raise raised.value
    assert raised.value.type_name == "ValueError", \
        f"dropout with mode 'eval' must raise ValueError, it raised {raised.value.type_name}"


@hidden
@pytest.mark.part("dropout")
@pytest.mark.points(3)
def test_dropout_der_other_mask(impl, ref):
    r = rng()
    dA, mask = r.randn(5, 6), (r.rand(5, 6) < 0.4) / 0.4
    for cache in ((0.6, 'train', mask), (0, 'train', None), (0.6, 'test', None)):
        assert_decimal_close(fn(impl, "dropout_der")(dA, cache),
                             fn(ref, "dropout_der")(dA, cache), 10,
                             what=f"dropout_der with cache (drop_prob, mode) = {cache[:2]}")


# --- batchnorm ---------------------------------------------------------------------------

def _bn_inputs():
    r = rng(11)
    return r.randn(4, 8) * 3 + 1, r.randn(4, 1), r.randn(4, 1), r.randn(4, 8)


@hidden
@pytest.mark.part("batchnorm")
@pytest.mark.points(4)
def test_batchnorm_random_values(impl, ref):
    A, beta, gamma, _ = _bn_inputs()
    assert_decimal_close(fn(impl, "batchnorm")(A, beta, gamma)[0],
                         fn(ref, "batchnorm")(A, beta, gamma)[0], 8, what="batchnorm output")
    one = (A[:1], beta[:1], gamma[:1])  # a layer of one unit: beta and gamma of size 1
    assert_decimal_close(fn(impl, "batchnorm")(*one)[0], fn(ref, "batchnorm")(*one)[0], 8,
                         what="batchnorm of a one-unit layer")


@hidden
@pytest.mark.part("batchnorm")
@pytest.mark.points(3)
def test_batchnorm_integer_input(impl):
    out, _ = fn(impl, "batchnorm")(np.array([[1, 2], [3, 4], [5, 6]]),
                                   np.array([[1.], [2.], [3.]]), np.array([[4.], [5.], [6.]]))
    assert_decimal_close(out, [[-2.99992, 4.99992], [-2.9999, 6.9999], [-2.99988, 8.99988]], 5,
                         what="batchnorm of an integer A (an integer copy of A truncates)")


@hidden
@pytest.mark.part("batchnorm")
@pytest.mark.points(3)
def test_batchnorm_off_with_empty_parameters(impl):
    A = rng().randn(3, 5)
    out, cache = fn(impl, "batchnorm")(A, np.asarray([]), np.asarray([]))
    assert_decimal_close(out, A, 12, what="batchnorm with empty beta and gamma (must be off)")
    assert not cache, f"batchnorm off must give the empty cache {{}}, got {cache!r}"
    dA = rng(4).randn(3, 5)
    dA_out, dbeta, dgamma = fn(impl, "batchnorm_der")(dA, {})
    assert_decimal_close(dA_out, dA, 12, what="batchnorm_der of an empty cache (must pass dA)")
    assert np.size(dbeta) == 0 and np.size(dgamma) == 0, \
        "batchnorm_der of an empty cache must return [] for dbeta and dgamma"


@hidden
@pytest.mark.part("batchnorm")
@pytest.mark.points(5)
def test_batchnorm_der_central_differences(impl):
    A, beta, gamma, dout = _bn_inputs()
    forward = fn(impl, "batchnorm")
    dA, dbeta, dgamma = fn(impl, "batchnorm_der")(dout, forward(A, beta, gamma)[1])
    args = {"A": A, "beta": beta, "gamma": gamma}
    for name, analytic in (("A", dA), ("beta", dbeta), ("gamma", dgamma)):
        value, numeric, h = args[name], np.zeros_like(args[name]), 1e-5
        for i in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[i] += h
            minus[i] -= h
            f_plus = forward(**{**args, name: plus})[0]
            f_minus = forward(**{**args, name: minus})[0]
            numeric[i] = np.sum((np.asarray(f_plus) - np.asarray(f_minus)) * dout) / (2 * h)
        assert_decimal_close(analytic, numeric, 5,
                             what=f"batchnorm_der d{name} against central differences")


# --- initialisation ----------------------------------------------------------------------

@hidden
@pytest.mark.part("initialization")
@pytest.mark.points(3)
def test_initialize_network_three_layers(impl, ref):
    dims, acts, drops = [6, 5, 4, 3], ['relu', 'relu', 'linear'], [0.1, 0.2, 0]
    np.random.seed(2)
    p = fn(impl, "initialize_network")(dims, acts, drops)
    np.random.seed(2)
    q = fn(ref, "initialize_network")(dims, acts, drops)
    assert p['numLayers'] == 3, f"numLayers must be len(net_dims) - 1, got {p['numLayers']}"
    for k in (1, 2, 3):
        assert_decimal_close(p[f'W{k}'], q[f'W{k}'], 8, what=f"W{k} (randn layer by layer, "
                             "times 2/sqrt(n_in))")
        assert np.shape(p[f'b{k}']) == (dims[k], 1) and np.all(np.asarray(p[f'b{k}']) == 0), \
            f"b{k} must be zeros of shape ({dims[k]}, 1)"
        assert p[f'act{k}'] == acts[k - 1] and p[f'dropout{k}'] == drops[k - 1]


@hidden
@pytest.mark.part("initialization")
@pytest.mark.points(2)
def test_initialize_velocity_exact_zeros(impl, ref):
    np.random.seed(2)
    p = fn(ref, "initialize_network")([6, 5, 3], ['relu', 'linear'], [0, 0])
    p = fn(impl, "initialize_velocity")(p, True)
    for key in ('VdW1', 'Vdb1', 'GdW1', 'Gdb1', 'VdW2', 'Vdb2', 'GdW2', 'Gdb2'):
        assert np.all(np.asarray(p[key]) == 0), f"{key} must be all zeros"
    q = fn(impl, "initialize_velocity")(fn(ref, "initialize_network")([3, 2], ['linear'], [0]),
                                        False)
    assert q['apply_momentum'] is False or q['apply_momentum'] == False, \
        "initialize_velocity(parameters, False) must record apply_momentum False"  # noqa: E712


# --- the update, fed the reference's gradients ------------------------------------------

def _state(ref, apply_momentum: bool, bnorm: list[int]):
    """A network, its state and the gradients of one pass, all from the reference."""
    np.random.seed(8)
    X, Y = np.random.randn(5, 9), np.random.randint(3, size=(1, 9)).astype(float)
    p = fn(ref, "initialize_network")([5, 6, 3], ['relu', 'linear'], [0, 0])
    p = fn(ref, "initialize_velocity")(p, apply_momentum)
    p = fn(ref, "initialize_bnorm_params")(p, bnorm, apply_momentum)
    A, caches = fn(ref, "multi_layer_forward")(X, p, 'train')
    _, cache, _ = fn(ref, "softmax_cross_entropy_loss")(A, Y)
    return p, fn(ref, "multi_layer_backward")(
        fn(ref, "softmax_cross_entropy_loss_der")(Y, cache), caches, p)


@hidden
@pytest.mark.part("adam")
@pytest.mark.parametrize("apply_momentum, bnorm", [(True, [0, 0]), (False, [0, 0]),
                                                   (True, [1, 0])],
                         ids=["adam", "sgd", "adam-with-batchnorm"])
def test_update_on_reference_gradients(impl, ref, apply_momentum, bnorm):
    p, grads = _state(ref, apply_momentum, bnorm)
    q, _ = _state(ref, apply_momentum, bnorm)
    for _ in range(3):
        p = fn(impl, "update_parameters_with_momentum_Adam")(p, grads, 0.05)
        q = fn(ref, "update_parameters_with_momentum_Adam")(q, grads, 0.05)
    keys = [k for k in q if k[:1] in "WbVG" and np.size(q[k])]
    for key in keys:
        assert_decimal_close(p[key], q[key], 8, what=f"{key} after three updates at alpha "
                             "0.05")


# --- the network and classify ------------------------------------------------------------

@hidden
@pytest.mark.part("network")
def test_multi_layer_network_three_layers(isolated, ref):
    np.random.seed(4)
    X, Y = np.random.randn(5, 23), np.random.randint(4, size=(1, 23)).astype(float)
    args = (X, Y, [5, 7, 6, 4], ['relu', 'relu', 'linear'], [0.2, 0.4, 0], [0, 0, 0])
    kwargs = dict(num_epochs=3, batch_size=5, learning_rate=0.05, decay_rate=0.5,
                  apply_momentum=True, log=False, log_step=2)
    np.random.seed(9)
    costs, p = fn(isolated, "multi_layer_network")(*args, **kwargs)  # on the reference's parts
    np.random.seed(9)
    want, q = fn(ref, "multi_layer_network")(*args, **kwargs)
    assert_decimal_close(costs, want, 6, what="costs (every log_step-th of 15 minibatches, "
                         "the last one partial, lr / (1 + decay_rate * epoch))")
    assert_decimal_close(p['W2'], q['W2'], 6, what="the trained W2")


@hidden
@pytest.mark.part("classify")
@pytest.mark.points(2)
def test_classify_seed_setup(isolated, ref):
    np.random.seed(1)
    X = np.random.randn(3, 4)
    p = fn(ref, "initialize_network")([3, 4, 2], ['relu', 'linear'], [0.3, 0])
    p = fn(ref, "initialize_bnorm_params")(p, [0, 0], False)
    got = fn(isolated, "classify")(X, p)
    assert np.shape(got) == (1, 4), f"classify must return shape (1, m), got {np.shape(got)}"
    np.testing.assert_array_equal(got, [[1, 1, 0, 1]], err_msg="classify's labels")


@hidden
@pytest.mark.part("classify")
@pytest.mark.points(3)
def test_classify_with_batchnorm_and_dropout(isolated, ref):
    np.random.seed(6)
    X = np.random.randn(5, 12)
    p = fn(ref, "initialize_network")([5, 8, 4], ['relu', 'linear'], [0.5, 0])
    p = fn(ref, "initialize_bnorm_params")(p, [1, 0], False)
    got = fn(isolated, "classify")(X, p)
    assert np.shape(got) == (1, 12), f"classify must return shape (1, m), got {np.shape(got)}"
    np.testing.assert_array_equal(got, fn(ref, "classify")(X, p),
                                  err_msg="classify must run in test mode (no dropout)")
