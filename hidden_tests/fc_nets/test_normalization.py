"""Hidden checks of batch and layer normalization."""

import numpy as np
import pytest

from gradekit.harness.checks import assert_norm_close, assert_rel_close

pytestmark = [pytest.mark.part("normalization"), pytest.mark.visibility("hidden")]


def _inputs(rng, N=8, D=5):
    return 3 * rng.randn(N, D) + 4, 1 + rng.rand(D), rng.randn(D), rng.randn(N, D)


def test_batchnorm_train_forward_and_running_statistics(impl, ref, rng):
    x, gamma, beta, _ = _inputs(rng)
    got_param, want_param = {"mode": "train"}, {"mode": "train"}
    for _ in range(3):
        out, _ = impl.get("layers.batchnorm_forward")(x, gamma, beta, got_param)
        want, _ = ref.get("layers.batchnorm_forward")(x, gamma, beta, want_param)
        x = x * 1.1 + 0.5
    assert_rel_close(out, want, 1e-9, what="batchnorm_forward train output")
    for key in ("running_mean", "running_var"):
        assert key in got_param, f"batchnorm_forward did not store {key!r} in bn_param"
        assert_rel_close(got_param[key], want_param[key], 1e-9,
                         what=f"bn_param[{key!r}] after 3 training steps (momentum 0.9)")


def test_batchnorm_test_mode_uses_the_given_statistics(impl, ref, rng):
    x, gamma, beta, _ = _inputs(rng)
    param = {"mode": "test", "running_mean": rng.randn(5), "running_var": rng.rand(5) + 0.5}
    out, _ = impl.get("layers.batchnorm_forward")(x, gamma, beta, dict(param))
    want, _ = ref.get("layers.batchnorm_forward")(x, gamma, beta, dict(param))
    assert_rel_close(out, want, 1e-9, what="batchnorm_forward test-mode output")


@pytest.mark.parametrize("backward", ["batchnorm_backward", "batchnorm_backward_alt"])
def test_batchnorm_backward_matches_reference(impl, ref, rng, backward):
    x, gamma, beta, dout = _inputs(rng)
    _, cache = impl.get("layers.batchnorm_forward")(x, gamma, beta, {"mode": "train"})
    _, r_cache = ref.get("layers.batchnorm_forward")(x, gamma, beta, {"mode": "train"})
    got = impl.get(f"layers.{backward}")(dout, cache)
    want = ref.get(f"layers.{backward}")(dout, r_cache)
    for name, g, e in zip(("dx", "dgamma", "dbeta"), got, want, strict=True):
        assert_rel_close(g, e, 1e-7, what=f"{backward} {name}")


def test_batchnorm_keeps_float32(impl, ref, rng):
    x, gamma, beta, _ = (a.astype(np.float32) for a in _inputs(rng))
    out, _ = impl.get("layers.batchnorm_forward")(x, gamma, beta, {"mode": "train"})
    assert out.dtype == np.float32, f"float32 input gave {out.dtype} output"
    want, _ = ref.get("layers.batchnorm_forward")(*(a.astype(np.float64) for a in (
        x, gamma, beta)), {"mode": "train"})
    assert_norm_close(out, want, 1e-4, what="batchnorm_forward float32 train output")


@pytest.mark.parametrize("N", [1, 6])
def test_layernorm_matches_reference_even_for_one_sample(impl, ref, rng, N):
    x, gamma, beta, dout = _inputs(rng, N=N)
    out, cache = impl.get("layers.layernorm_forward")(x, gamma, beta, {})
    want, r_cache = ref.get("layers.layernorm_forward")(x, gamma, beta, {})
    assert_rel_close(out, want, 1e-9, what=f"layernorm_forward output (N={N})")
    got = impl.get("layers.layernorm_backward")(dout, cache)
    expected = ref.get("layers.layernorm_backward")(dout, r_cache)
    for name, g, e in zip(("dx", "dgamma", "dbeta"), got, expected, strict=True):
        assert_rel_close(g, e, 1e-7, what=f"layernorm_backward {name} (N={N})")
