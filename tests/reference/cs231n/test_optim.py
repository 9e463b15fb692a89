"""Tests for reference/cs231n/optim.py: notebook vectors, defaults, and no mutation."""

import numpy as np
import pytest
from cs231n_vectors import (
    ADAM_M,
    ADAM_NEXT_W,
    ADAM_V,
    MOMENTUM_NEXT_W,
    MOMENTUM_VELOCITY,
    NESTEROV_NEXT_W,
    RMSPROP_CACHE,
    RMSPROP_NEXT_W,
    linspace_array,
)

from gradekit.gradient_check import rel_error
from reference.cs231n import optim

SHAPE = (4, 5)


def _w_and_dw() -> tuple[np.ndarray, np.ndarray]:
    return linspace_array(-0.4, 0.6, SHAPE), linspace_array(-0.6, 0.4, SHAPE)


# (rule, config built from the notebook cell, expected next_w, expected state, tolerance)
NOTEBOOK_CHECKS = {
    "sgd_momentum": (
        optim.sgd_momentum,
        lambda: {"learning_rate": 1e-3, "velocity": linspace_array(0.6, 0.9, SHAPE)},
        MOMENTUM_NEXT_W,
        {"velocity": MOMENTUM_VELOCITY},
        1e-7,
    ),
    "sgd_nesterov_momentum": (
        optim.sgd_nesterov_momentum,
        lambda: {"learning_rate": 1e-3, "velocity": linspace_array(0.6, 0.9, SHAPE)},
        NESTEROV_NEXT_W,
        {"velocity": MOMENTUM_VELOCITY},
        1e-7,
    ),
    "rmsprop": (
        optim.rmsprop,
        lambda: {"learning_rate": 1e-2, "cache": linspace_array(0.6, 0.9, SHAPE)},
        RMSPROP_NEXT_W,
        {"cache": RMSPROP_CACHE},
        1e-6,
    ),
    "adam": (
        optim.adam,
        lambda: {
            "learning_rate": 1e-2,
            "m": linspace_array(0.6, 0.9, SHAPE),
            "v": linspace_array(0.7, 0.5, SHAPE),
            "t": 5,
        },
        ADAM_NEXT_W,
        {"m": ADAM_M, "v": ADAM_V},
        1e-6,
    ),
}


@pytest.mark.parametrize("name", NOTEBOOK_CHECKS)
def test_notebook_update_vectors(name: str) -> None:
    rule, make_config, expected_next_w, expected_state, tolerance = NOTEBOOK_CHECKS[name]
    w, dw = _w_and_dw()
    next_w, config = rule(w, dw, config=make_config())
    assert rel_error(next_w, expected_next_w) < tolerance
    for key, expected in expected_state.items():
        assert rel_error(config[key], expected) < tolerance, key


def test_adam_increments_t_before_bias_correction() -> None:
    w, dw = _w_and_dw()
    _, config = optim.adam(w, dw)
    assert config["t"] == 1
    # With zero moments and t = 1, bias correction makes the first step lr * dw / |dw|.
    first_step, _ = optim.adam(w, dw)
    np.testing.assert_allclose(w - first_step, 1e-3 * np.sign(dw), rtol=1e-6)


ALL_RULES = [optim.sgd, optim.sgd_momentum, optim.sgd_nesterov_momentum, optim.rmsprop, optim.adam]


@pytest.mark.parametrize(
    ("rule", "learning_rate"),
    [(rule, 1e-3 if rule is optim.adam else 1e-2) for rule in ALL_RULES],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_defaults_are_filled_in(rule, learning_rate: float) -> None:
    w, dw = _w_and_dw()
    _, config = rule(w, dw)
    assert config["learning_rate"] == learning_rate
    _, kept = rule(w, dw, {"learning_rate": 0.5})
    assert kept["learning_rate"] == 0.5


def test_rule_specific_defaults() -> None:
    w, dw = _w_and_dw()
    assert optim.sgd_momentum(w, dw)[1]["momentum"] == 0.9
    assert optim.sgd_nesterov_momentum(w, dw)[1]["momentum"] == 0.9
    rms = optim.rmsprop(w, dw)[1]
    assert (rms["decay_rate"], rms["epsilon"]) == (0.99, 1e-8)
    adam = optim.adam(w, dw)[1]
    assert (adam["beta1"], adam["beta2"], adam["epsilon"]) == (0.9, 0.999, 1e-8)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_rules_return_new_weights_and_descend(rule) -> None:
    w, dw = _w_and_dw()
    w_before, dw_before = w.copy(), dw.copy()
    next_w, _ = rule(w, dw)
    assert next_w is not w
    assert np.array_equal(w, w_before) and np.array_equal(dw, dw_before)
    # From rest, every rule's first step moves against the gradient.
    assert np.all(np.sign(w - next_w) == np.sign(dw))


def test_sgd_step() -> None:
    w, dw = _w_and_dw()
    next_w, _ = optim.sgd(w, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, w - 0.1 * dw)
