"""Hidden checks of the layers and the loss: the reference runs live beside the student's
code, on inputs the notebook never tries (non-zero biases, more dimensions, huge scores)."""

import numpy as np
import pytest

from gradekit.harness.checks import assert_not_mutated, assert_rel_close

pytestmark = pytest.mark.visibility("hidden")


@pytest.mark.part("layers")
@pytest.mark.parametrize("shape", [(3, 7), (2, 3, 4), (4, 2, 3, 2, 2)])
def test_affine_matches_reference_and_keeps_its_cache(impl, ref, rng, shape):
    x = rng.randn(*shape)
    d = int(np.prod(shape[1:]))
    theta, theta0, dout = rng.randn(d, 6), rng.randn(6), rng.randn(shape[0], 6)
    out, cache = impl.get("nets.affine_forward")(x, theta, theta0)
    want, want_cache = ref.get("nets.affine_forward")(x, theta, theta0)
    assert_rel_close(out, want, 1e-9, what="affine_forward output")
    assert isinstance(cache, tuple) and len(cache) == 3, \
        "affine_forward's cache must be the tuple (x, theta, theta0)"
    for name, got, expected in zip(("x", "theta", "theta0"), cache, (x, theta, theta0),
                                   strict=True):
        assert np.array_equal(got, expected), f"the cache's {name} is not the {name} passed in"
    got = impl.get("nets.affine_backward")(dout, cache)
    expected = ref.get("nets.affine_backward")(dout, want_cache)
    for name, g, e in zip(("dx", "dtheta", "dtheta0"), got, expected, strict=True):
        if name == "dx":
            assert np.shape(g) == shape, f"dx has shape {np.shape(g)}: reshape it to x's " \
                f"shape {shape}"
        assert_rel_close(g, e, 1e-9, what=f"affine_backward {name}")


@pytest.mark.part("layers")
def test_relu_matches_reference_and_accepts_either_gradient_at_zero(impl, ref, rng):
    x = rng.randn(6, 5)
    x[0, :3] = 0.0  # the kink: 0 and dout are both right there
    dout = rng.randn(6, 5)
    out, cache = impl.get("nets.relu_forward")(x)
    assert_rel_close(out, np.maximum(x, 0), 1e-12, what="relu_forward output")
    assert np.array_equal(cache, x), "relu_forward's cache must be its input x"
    dx = np.asarray(impl.get("nets.relu_backward")(dout, cache))
    want = ref.get("nets.relu_backward")(dout, x)
    away = x != 0
    assert_rel_close(dx[away], want[away], 1e-12, what="relu_backward away from 0")
    assert np.all((dx[~away] == 0) | (dx[~away] == dout[~away])), \
        "relu_backward at x == 0 must be 0 or pass dout through"


# (spread, offset) of the scores: tiny, ordinary, and huge, which overflow exp() unless each
# row is shifted by its maximum first
SCORES = {"tiny": (1e-3, 0.0), "unit": (1.0, 0.0), "offset 1000": (3.0, 1000.0)}


@pytest.mark.part("softmax")
@pytest.mark.parametrize("scores", sorted(SCORES))
def test_softmax_matches_reference_including_huge_scores(impl, ref, rng, scores):
    spread, offset = SCORES[scores]
    x, y = offset + spread * rng.randn(20, 7), rng.randint(7, size=20)
    loss, dx = impl.get("nets.softmax_loss")(x, y)
    want_loss, want_dx = ref.get("nets.softmax_loss")(x, y)
    where = f"scores {offset:g} ± {spread:g}"
    shift = " (shift each row of scores by its maximum first)" if offset else ""
    assert np.isfinite(loss), f"softmax_loss is not finite for {where}{shift}"
    assert_rel_close(loss, want_loss, 1e-9, what=f"softmax_loss value ({where})")
    assert_rel_close(dx, want_dx, 1e-8, what=f"softmax_loss dx ({where}){shift}")


@pytest.mark.part("softmax")
def test_softmax_averages_over_the_batch(impl, ref, rng):
    x, y = rng.randn(5, 3), rng.randint(3, size=5)
    doubled_x, doubled_y = np.concatenate([x, x]), np.concatenate([y, y])
    loss, dx = impl.get("nets.softmax_loss")(doubled_x, doubled_y)
    want_loss, want_dx = ref.get("nets.softmax_loss")(doubled_x, doubled_y)
    assert_rel_close(loss, want_loss, 1e-9,
                     what="softmax_loss of a batch repeated twice (divide by m)")
    assert_rel_close(dx, want_dx, 1e-9, what="softmax_loss dx of a repeated batch (divide by m)")


@pytest.mark.parametrize(("part", "name"), [
    pytest.param("layers", "relu_backward", marks=pytest.mark.part("layers")),
    pytest.param("layers", "affine_backward", marks=pytest.mark.part("layers")),
    pytest.param("softmax", "softmax_loss", marks=pytest.mark.part("softmax")),
])
def test_leaves_its_inputs_alone(impl, rng, part, name):
    """The notebook's gradient checks reuse their arrays: a layer that writes into one breaks
    every check after it."""
    x, dout = rng.randn(4, 3), rng.randn(4, 3)
    args = {"relu_backward": (dout, x),
            "affine_backward": (dout, (x, rng.randn(3, 3), rng.randn(3))),
            "softmax_loss": (x, rng.randint(3, size=4))}[name]
    assert_not_mutated(impl.get(f"nets.{name}"), *args, what=name)
