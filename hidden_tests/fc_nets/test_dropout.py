"""Hidden checks of inverted dropout, where ``p`` is the probability of keeping a unit.

Students may draw their masks differently, so these checks are statistical and structural
rather than comparisons with the reference's mask.
"""

import numpy as np
import pytest

pytestmark = [pytest.mark.part("dropout"), pytest.mark.visibility("hidden")]


@pytest.mark.parametrize("p", [0.3, 0.6, 0.75])
def test_train_mode_keeps_p_and_rescales(impl, rng, p):
    x = rng.randn(400, 400) + 10
    out, _ = impl.get("layers.dropout_forward")(x, {"mode": "train", "p": p, "seed": 7})
    zeroed = np.mean(out == 0)
    assert abs(zeroed - (1 - p)) < 0.01, \
        f"p={p}: {zeroed:.3f} of units were dropped, expected {1 - p:.2f} (p is KEEP probability)"
    kept = out != 0
    assert np.allclose(out[kept], x[kept] / p), f"p={p}: kept units must be scaled by 1/p"


def test_test_mode_is_identity_and_seed_is_reproducible(impl, rng):
    x = rng.randn(50, 30)
    out, _ = impl.get("layers.dropout_forward")(x, {"mode": "test", "p": 0.4})
    assert np.array_equal(out, x), "test-mode dropout must return its input unchanged"
    first, _ = impl.get("layers.dropout_forward")(x, {"mode": "train", "p": 0.4, "seed": 3})
    again, _ = impl.get("layers.dropout_forward")(x, {"mode": "train", "p": 0.4, "seed": 3})
    assert np.array_equal(first, again), "the same seed must give the same mask"


def test_backward_routes_through_the_forward_mask(impl, rng):
    x, dout = rng.randn(30, 20) + 5, rng.randn(30, 20)
    out, cache = impl.get("layers.dropout_forward")(x, {"mode": "train", "p": 0.5, "seed": 11})
    kept = out != 0
    assert 0.3 < kept.mean() < 0.7 and np.allclose(out[kept], 2 * x[kept]), \
        "dropout_forward (p=0.5) must keep about half the units, scaled by 1/p"
    dx = impl.get("layers.dropout_backward")(dout, cache)
    assert np.allclose(dx, dout * out / x), "dropout_backward must apply the forward mask / p"


def test_dropout_keeps_float32(impl, rng):
    x = (rng.randn(40, 50) + 5).astype(np.float32)
    for mode in ("train", "test"):
        out, _ = impl.get("layers.dropout_forward")(x, {"mode": mode, "p": 0.5, "seed": 1})
        assert out.dtype == np.float32, f"{mode}-mode dropout turned float32 into {out.dtype}"
        kept = out != 0
        share = 1.0 if mode == "test" else 0.5
        assert abs(kept.mean() - share) < 0.1 and np.allclose(out[kept], x[kept] / share), \
            f"{mode}-mode dropout of float32 input must keep a share {share:g} scaled by 1/p"
