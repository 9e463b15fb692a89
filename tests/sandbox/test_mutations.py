"""In-place changes to arguments: reported by the worker, judged by the grader."""

from __future__ import annotations

import numpy as np

from gradekit.sandbox.codec import Handle
from gradekit.sandbox.mutations import (
    ArgumentWatch,
    apply_updates,
    observing,
    pristine,
    restore_pristine,
)


def test_only_what_changed_is_reported() -> None:
    x, untouched, cache = np.zeros(3), np.ones(2), (np.zeros(2), np.zeros(1), {"k": 1})
    bn_param, config, bn_params = {"mode": "train"}, {"lr": 0.1}, [{"mode": "train"}]
    args = [x, untouched, cache, config, bn_params, 3.0]
    watch = ArgumentWatch(args, {"bn_param": bn_param}, args, {"bn_param": bn_param})
    assert watch.updates() == []
    x += 1
    cache[0][0] = 5
    cache[2]["k"] = 2
    bn_param["running_mean"] = np.ones(3)
    bn_params[0]["running_var"] = np.ones(3)  # nested one level down
    paths = [path for path, _ in watch.updates()]
    assert paths == [("args", 0), ("args", 2, 0), ("args", 2, 2), ("args", 4),
                     ("kwargs", "bn_param")]


def test_arguments_sent_as_handles_are_not_reported() -> None:
    handle = Handle(0, 1, "dict")
    live = {"W1": np.zeros(2)}
    watch = ArgumentWatch([handle], {}, [live], {})
    live["W1"][0] = 1
    assert watch.updates() == []


def test_state_is_written_back_and_everything_else_only_observed() -> None:
    x, cache, bn_param = np.zeros(3), (np.zeros(2), [{"mode": "train"}]), {"mode": "train"}
    hidden_dims = [5]
    seen = apply_updates("f", (x, cache, hidden_dims), {"bn_param": bn_param}, [
        (("args", 0), np.arange(3.0)),
        (("args", 1, 0), np.full(2, 7.0)),
        (("args", 1, 1), [{"mode": "test"}]),
        (("args", 2), [5, 7]),
        (("kwargs", "bn_param"), {"mode": "train", "running_mean": np.ones(3)}),
    ])
    assert np.array_equal(x, np.zeros(3)) and np.array_equal(cache[0], np.zeros(2))
    assert hidden_dims == [5]
    assert cache[1] == [{"mode": "test"}] and set(bn_param) == {"mode", "running_mean"}
    assert [(c.root is arg, c.path, c.applied) for c, arg in zip(
        seen, (x, cache, cache, hidden_dims, bn_param), strict=True)] == [
        (True, (), False), (True, (0,), False), (True, (1,), True), (True, (), False),
        (True, (), True)]
    restore_pristine()
    assert bn_param == {"mode": "train"} and cache[1] == [{"mode": "train"}]


def test_the_reference_is_handed_pristine_values() -> None:
    bn_param, untouched = {"mode": "train", "p": 0.5}, {"mode": "test"}
    apply_updates("f", (), {"bn_param": bn_param}, [
        (("kwargs", "bn_param"), {"mode": "test", "p": 1.0})])
    try:
        args = pristine((bn_param, [bn_param], untouched, np.ones(2)))
        assert args[0] == {"mode": "train", "p": 0.5} and args[0] is not bn_param
        assert args[1] == [{"mode": "train", "p": 0.5}]
        assert args[2] is untouched, "objects no student call wrote into are passed as they are"
        assert bn_param == {"mode": "test", "p": 1.0}, "the student's view keeps its state"
    finally:
        restore_pristine()
    assert pristine(bn_param) is bn_param == {"mode": "train", "p": 0.5}


def test_changes_are_handed_to_open_observers() -> None:
    x = np.zeros(2)
    with observing() as outer:
        with observing() as inner:
            apply_updates("f", (x,), {}, [(("args", 0), np.ones(2))])
        apply_updates("g", (x,), {}, [(("args", 0), np.ones(2))])
    assert [c.call for c in outer] == ["f", "g"] and [c.call for c in inner] == ["f"]


def test_updates_that_do_not_fit_are_ignored() -> None:
    x, params = np.zeros(3), {"a": 1}
    seen = apply_updates("f", (x,), {"params": params}, [
        (("args", 5), np.zeros(3)),  # no such argument
        (("kwargs", "params"), [1, 2]),  # a list where state was: observed, not written
        (("kwargs", "params"), "text"),  # not a kind an argument can become
        (("globals",), {}),  # no such root
        "not an update",
    ])
    assert np.array_equal(x, np.zeros(3)) and params == {"a": 1}
    assert [(c.path, c.applied) for c in seen] == [((), False)]
