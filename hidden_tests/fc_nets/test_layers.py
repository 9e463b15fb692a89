"""Hidden checks of the basic layers: the reference runs live beside the student's code."""

import numpy as np
import pytest

from gradekit.harness.checks import assert_norm_close, assert_rel_close

pytestmark = [pytest.mark.part("layers"), pytest.mark.visibility("hidden")]


@pytest.mark.parametrize("shape", [(3, 7), (2, 3, 4), (5, 2, 3, 2, 2)])
def test_affine_forward_matches_reference(impl, ref, rng, shape):
    x = rng.randn(*shape)
    D = int(np.prod(shape[1:]))
    w, b = rng.randn(D, 6), rng.randn(6)
    out, _ = impl.get("layers.affine_forward")(x, w, b)
    assert_rel_close(out, ref.get("layers.affine_forward")(x, w, b)[0], 1e-9,
                     what="affine_forward output")


def test_affine_backward_matches_reference(impl, ref, rng):
    x, w, b = rng.randn(4, 3, 2), rng.randn(6, 5), rng.randn(5)
    dout = rng.randn(4, 5)
    _, cache = impl.get("layers.affine_forward")(x, w, b)
    got = impl.get("layers.affine_backward")(dout, cache)
    want = ref.get("layers.affine_backward")(dout, ref.get("layers.affine_forward")(x, w, b)[1])
    for name, g, e in zip(("dx", "dw", "db"), got, want, strict=True):
        assert_rel_close(g, e, 1e-9, what=f"affine_backward {name}")


def test_affine_keeps_float32(impl, ref, rng):
    x = rng.randn(4, 3).astype(np.float32)
    w, b = rng.randn(3, 2).astype(np.float32), rng.randn(2).astype(np.float32)
    out, _ = impl.get("layers.affine_forward")(x, w, b)
    assert out.dtype == np.float32, f"float32 inputs gave a {out.dtype} output"
    want, _ = ref.get("layers.affine_forward")(*(a.astype(np.float64) for a in (x, w, b)))
    assert_norm_close(out, want, 1e-5, what="affine_forward float32 output")


def test_relu_matches_reference_and_accepts_either_gradient_at_zero(impl, ref, rng):
    x = rng.randn(6, 5)
    x[0, :3] = 0.0  # the kink: 0 and dout are both accepted there
    dout = rng.randn(6, 5)
    out, cache = impl.get("layers.relu_forward")(x)
    assert_rel_close(out, np.maximum(x, 0), 1e-12, what="relu_forward output")
    dx = impl.get("layers.relu_backward")(dout, cache)
    away = x != 0
    want = ref.get("layers.relu_backward")(dout, ref.get("layers.relu_forward")(x)[1])
    assert_rel_close(dx[away], want[away], 1e-12, what="relu_backward away from 0")
    at_zero = ~away
    assert np.all((dx[at_zero] == 0) | (dx[at_zero] == dout[at_zero])), \
        "relu_backward at x == 0 must be 0 or pass dout through"


# (spread, offset) of the scores: tiny, ordinary, and huge with a spread every probability
# survives (exp(1000) overflows without the max shift the notebook asks for, while the
# shifted classic form -- exponentiate, normalise, log of the true class -- stays exact)
SCORES = {"tiny": (1e-3, 0.0), "unit": (1.0, 0.0), "offset 1000": (3.0, 1000.0)}


@pytest.mark.parametrize("loss", ["svm_loss", "softmax_loss"])
@pytest.mark.parametrize("scores", sorted(SCORES))
def test_losses_match_reference_including_extreme_scores(impl, ref, rng, loss, scores):
    spread, offset = SCORES[scores]
    x = offset + spread * rng.randn(20, 7)
    y = rng.randint(7, size=20)
    got_loss, got_dx = impl.get(f"layers.{loss}")(x, y)
    want_loss, want_dx = ref.get(f"layers.{loss}")(x, y)
    where = f"scores {offset:g} ± {spread:g}"
    shift = " (shift the scores by their row maximum first)" if offset else ""
    assert np.isfinite(got_loss), f"{loss} is not finite for {where}{shift}"
    assert_rel_close(got_loss, want_loss, 1e-9, what=f"{loss} value ({where})")
    assert_rel_close(got_dx, want_dx, 1e-8, what=f"{loss} gradient ({where})")


def test_affine_relu_sandwich_matches_reference(impl, ref, rng):
    x, w, b, dout = rng.randn(3, 2, 2), rng.randn(4, 5), rng.randn(5), rng.randn(3, 5)
    out, cache = impl.get("layer_utils.affine_relu_forward")(x, w, b)
    r_out, r_cache = ref.get("layer_utils.affine_relu_forward")(x, w, b)
    assert_rel_close(out, r_out, 1e-9, what="affine_relu_forward output")
    got = impl.get("layer_utils.affine_relu_backward")(dout, cache)
    want = ref.get("layer_utils.affine_relu_backward")(dout, r_cache)
    for name, g, e in zip(("dx", "dw", "db"), got, want, strict=True):
        assert_rel_close(g, e, 1e-9, what=f"affine_relu_backward {name}")
