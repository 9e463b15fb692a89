"""Hidden checks of the update rules, from a state that is already far from zero."""

import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close

pytestmark = [pytest.mark.part("optim"), pytest.mark.visibility("hidden")]

# rule -> (state keys, a config whose moments and step count are already non-zero)
RULES = {
    "sgd_momentum": lambda rng, shape: {"learning_rate": 3e-2, "momentum": 0.8,
                                        "velocity": rng.randn(*shape)},
    "sgd_nesterov_momentum": lambda rng, shape: {"learning_rate": 3e-2, "momentum": 0.8,
                                                 "velocity": rng.randn(*shape)},
    "rmsprop": lambda rng, shape: {"learning_rate": 5e-3, "decay_rate": 0.95,
                                   "cache": rng.rand(*shape) + 0.1},
    "adam": lambda rng, shape: {"learning_rate": 2e-3, "beta1": 0.85, "beta2": 0.99,
                                "m": rng.randn(*shape), "v": rng.rand(*shape) + 0.1, "t": 7},
}


def _compare_state(got: dict, want: dict, what: str) -> None:
    for key, expected in want.items():
        assert key in got, f"{what}: the returned config has no {key!r}"
        assert_rel_close(np.asarray(got[key]), np.asarray(expected), 1e-9,
                         what=f"{what} config[{key!r}]")


@pytest.mark.parametrize("rule", sorted(RULES))
def test_step_from_a_preset_state_matches_reference(impl, ref, rng, rule):
    w, dw = rng.randn(6, 4), rng.randn(6, 4)
    config = RULES[rule](rng, w.shape)
    want_w, want_config = ref.get(f"optim.{rule}")(w.copy(), dw, config=dict(config))
    got_w, got_config = impl.get(f"optim.{rule}")(w.copy(), dw, config=dict(config))
    assert_rel_close(got_w, want_w, 1e-9, what=f"{rule} next_w")
    _compare_state(got_config, want_config, rule)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_three_steps_from_default_config_match_reference(impl, ref, rng, rule):
    w = rng.randn(5, 3)
    got_w, want_w, got_config, want_config = w.copy(), w.copy(), None, None
    for step in range(3):
        dw = rng.randn(5, 3)
        got_w, got_config = impl.get(f"optim.{rule}")(got_w, dw, config=got_config)
        want_w, want_config = ref.get(f"optim.{rule}")(want_w, dw, config=want_config)
        assert_rel_close(got_w, want_w, 1e-9, what=f"{rule} w after step {step + 1} "
                                                   "(starting from config=None)")
    _compare_state(got_config, want_config, f"{rule} defaults")
