import numpy as np
import pytest

from gradekit.harness.checks import (
    assert_dtype,
    assert_dtype_preserved,
    assert_faster,
    assert_gradient_matches,
    assert_model_gradients,
    assert_norm_close,
    assert_not_mutated,
    assert_rel_close,
    assert_shape,
    unchanged,
)


def fails(match: str):
    return pytest.raises(AssertionError, match=match)


def test_rel_close_passes_within_tolerance():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    assert_rel_close(x * (1 + 1e-9), x, 1e-8)
    assert_rel_close(np.float64(2.0), 2.0, 1e-12)
    assert_rel_close(np.zeros((0, 3)), np.zeros((0, 3)), 1e-12)


def test_rel_close_reports_the_worst_element():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = expected.copy()
    actual[1, 0] = 3.3
    with fails(r"^dx: relative error 4\.8e-02 exceeds 1e-07 \(worst at \(1, 0\): got 3\.3, "
               r"expected 3\)$"):
        assert_rel_close(actual, expected, 1e-7, what="dx")


def test_rel_close_checks_shape_dtype_none_and_nan_first():
    expected = np.ones((2, 3))
    with fails(r"^out: shape \(3, 2\), expected \(2, 3\)$"):
        assert_rel_close(np.ones((3, 2)), expected, 1e-7, what="out")
    with fails(r"^out: dtype float32, expected float64$"):
        assert_rel_close(expected.astype(np.float32), expected, 1e-7, what="out")
    assert_rel_close(expected.astype(np.float32), expected, 1e-7, check_dtype=False)
    with fails("out: got None; does the function return its result"):
        assert_rel_close(None, expected, 1e-7, what="out")
    broken = expected.copy()
    broken[0, 2] = np.nan
    with fails(r"out: 1 non-finite value\(s\), first at \(0, 2\): nan"):
        assert_rel_close(broken, expected, 1e-7, what="out")
    with fails("out: expected numbers, got an array of <U1"):
        assert_rel_close(np.array(["a"]), np.array(["a"]), 1e-7, what="out")


def test_shape_and_dtype_helpers():
    assert_shape(np.zeros((2, 3)), (2, 3))
    with fails(r"scores: shape \(2,\), expected \(2, 1\)"):
        assert_shape(np.zeros(2), (2, 1), what="scores")
    assert_dtype(np.zeros(2, np.float32), "float32")
    with fails("W1: dtype float64, expected float32"):
        assert_dtype(np.zeros(2), np.float32, what="W1")


def test_gradient_of_a_scalar_loss():
    x = np.array([1.0, -2.0, 3.0])
    assert_gradient_matches(lambda v: float(np.sum(v ** 2)), x, 2 * x, 1e-8)
    with fails(r"dW \(analytic vs numerical\): relative error 3\.3e-01 exceeds 1e-07"):
        assert_gradient_matches(lambda v: float(np.sum(v ** 2)), x, x, 1e-7, what="dW")
    assert x.tolist() == [1.0, -2.0, 3.0]  # perturbed in place, then restored


def test_gradient_of_a_layer_with_upstream_dout():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    relu = lambda v: np.maximum(0, v)  # noqa: E731
    assert_gradient_matches(relu, x, dout * (x > 0), 1e-8, dout=dout, what="dx")
    with fails("dx"):
        assert_gradient_matches(relu, x, dout, 1e-8, dout=dout, what="dx")


def affine_forward(x, w, b):
    x += 0  # harmless
    return x @ w + b, (x, w, b)


def sloppy_backward(dout, cache):
    _, w, _ = cache
    w *= 2  # modifies the cache in place
    return dout @ w.T


def test_not_mutated_passes_through_the_result():
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
    out, cache = assert_not_mutated(affine_forward, x, w, b)
    assert out.shape == (2, 4) and cache[1] is w


def test_not_mutated_names_the_argument_and_the_place():
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
    with fails(r"^sloppy_backward: cache\[1\] was modified in place \(12 of 12 elements\)$"):
        assert_not_mutated(sloppy_backward, np.ones((2, 4)), (x, w, b))


def test_not_mutated_without_a_signature_uses_positions():
    def clear(*arrays):
        arrays[1][:] = 0

    with fails(r"^clear: argument 2 was modified in place \(1 of 2 elements\)$"):
        assert_not_mutated(clear, np.ones(2), np.array([1.0, 0.0]))


def test_unchanged_follows_dicts_and_lists():
    config = {"m": np.zeros(3), "t": 0, "history": [np.ones(2)]}
    with unchanged(config=config):
        assert config["m"].sum() == 0  # reading is fine
    with fails(r"config\['v'\] was added"), unchanged(config=config):
        config["v"] = np.zeros(3)
    added = r"config\['history'\] changed length from 1 to 2"
    with fails(added), unchanged(config=config):
        config["history"].append(np.ones(2))
    config["history"].pop()
    modified = r"config\['history'\]\[0\] was modified in place \(1 of 2 elements\)"
    with fails(modified), unchanged(config=config):
        config["history"][0][1] = 7.0


def test_unchanged_treats_nan_as_equal_to_itself():
    x = np.array([np.nan, 1.0])
    with unchanged(x=x):
        pass


def test_dtype_preserved_checks_picked_outputs():
    def forward(x, w):
        return x @ w, {"x64": x.astype(np.float64)}

    out, cache = assert_dtype_preserved(forward, np.ones((2, 3)), np.ones((3, 2)),
                                        pick=lambda r: r[0])
    assert out.dtype == np.float32 and cache["x64"].dtype == np.float64
    with fails(r"forward: given float32 inputs, output\[1\]\['x64'\] is float64 "
               r"\(expected float32\)"):
        assert_dtype_preserved(forward, np.ones((2, 3)), np.ones((3, 2)))


def test_dtype_preserved_catches_an_upcast():
    def upcast(x):
        return x * np.float64(2.0) + np.zeros(1)

    with fails("upcast: given float32 inputs, output is float64"):
        assert_dtype_preserved(upcast, np.ones(3))


class TinyNet:
    """A linear softmax-free model, loss = 0.5 * ||X W + b - y||^2 / N (+ a bug switch)."""

    def __init__(self, bug: bool = False) -> None:
        rng = np.random.default_rng(1)
        self.params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
        self.bug = bug

    def loss(self, X, y):
        W, b = self.params["W"], self.params["b"]
        residual = X @ W + b - y
        N = X.shape[0]
        grads = {"W": X.T @ residual / N, "b": residual.sum(axis=0) / N}
        if self.bug:
            grads["b"] = grads["b"] * 2
        return 0.5 * np.sum(residual ** 2) / N, grads


def test_model_gradients_match_and_parameters_are_restored():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    model = TinyNet()
    W = model.params["W"]
    assert_model_gradients(model, X, y, 1e-7)
    assert model.params["W"] is W


def test_model_gradients_name_the_wrong_parameter():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    with fails(r"^TinyNet db \(analytic vs numerical\): relative error"):
        assert_model_gradients(TinyNet(bug=True), X, y, 1e-7, what="TinyNet")
    assert_model_gradients(TinyNet(bug=True), X, y, 1e-7, names=["W"])
    with fails("TinyNet: loss\\(\\) returned no gradient for 'gamma1'"):
        assert_model_gradients(TinyNet(), X, y, 1e-7, names=["gamma1"], what="TinyNet")


def test_model_gradient_check_keeps_float32_parameters():
    model = TinyNet()
    model.params = {k: v.astype(np.float32) for k, v in model.params.items()}
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    assert_model_gradients(model, X, y, 1e-2, names=["b"])
    assert model.params["b"].dtype == np.float32


def test_assert_faster_measures_the_speedup():
    x = np.arange(20000.0)

    def vectorised(v):
        return v * 2.0

    def loop(v):
        return np.array([2.0 * e for e in v])

    assert assert_faster(vectorised, loop, x, at_least=5) > 5
    with fails(r"^loop: only \d+\.\dx faster than vectorised .* needs 1e\+06x$"):
        assert_faster(loop, vectorised, x, at_least=1e6, repeat=1)


def test_a_keepdims_shape_fails_when_strict_and_says_why():
    from gradekit.harness import checks

    with pytest.raises(AssertionError, match=r"dgamma: shape \(1, 3\), expected \(3,\) "
                                             r"\(the same number of values: a keepdims"):
        assert_rel_close(np.ones((1, 3)), np.ones(3), 1e-9, what="dgamma")
    assert checks.SHAPES.get() == "strict"


def test_a_keepdims_shape_passes_when_lenient_with_a_note():
    from gradekit.harness import checks

    notes: list[str] = []
    shapes, noted = checks.SHAPES.set("lenient"), checks.NOTES.set(notes)
    try:
        assert_rel_close(np.full((1, 3), 2.0), np.full(3, 2.0), 1e-9, what="dgamma")
        assert_norm_close(np.ones((3, 1)), np.ones(3), 1e-9, what="dbeta")
        with pytest.raises(AssertionError, match="relative error"):  # values still count
            assert_rel_close(np.full((1, 3), 2.5), np.full(3, 2.0), 1e-9, what="dgamma")
        with pytest.raises(AssertionError, match=r"shape \(2, 3\), expected \(3,\)$"):
            assert_rel_close(np.ones((2, 3)), np.ones(3), 1e-9, what="dgamma")
    finally:
        checks.NOTES.reset(noted)
        checks.SHAPES.reset(shapes)
    assert notes[0].startswith("dgamma has shape (1, 3), expected (3,): accepted")
    assert len(notes) == 2 and "dbeta has shape (3, 1)" in notes[1]


def test_decimal_closeness_follows_numpy_testing():
    from gradekit.harness.checks import assert_decimal_close

    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert_decimal_close(want + 1.4e-6, want, 6)  # |a - b| < 1.5e-6 passes, as in numpy
    assert_decimal_close([[1, 2], [3, 4]], want, 9)  # lists and ints are numbers too
    with pytest.raises(AssertionError, match=r"1 of 4 values differ at 6 decimals \(worst at "
                                             r"\(1, 0\): got 3.0000016, expected 3\)"):
        assert_decimal_close(want + np.array([[0, 0], [1.6e-6, 0]]), want, 6, "A")
    with pytest.raises(AssertionError, match="1 of 4 values differ"):
        assert_decimal_close(np.array([[1.0, np.nan], [3.0, 4.0]]), want, 2)
    with pytest.raises(AssertionError, match="shape"):
        assert_decimal_close(want.ravel(), want, 6)
