"""In-place changes to arguments: reported by the worker, applied by the grader."""

from __future__ import annotations

import numpy as np

from gradekit.sandbox.codec import Handle
from gradekit.sandbox.mutations import ArgumentWatch, apply_updates


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


def test_updates_land_in_the_callers_objects() -> None:
    x, cache, bn_param = np.zeros(3), (np.zeros(2),), {"mode": "train"}
    apply_updates((x, cache), {"bn_param": bn_param}, [
        (("args", 0), np.arange(3.0)),
        (("args", 1, 0), np.full(2, 7.0)),
        (("kwargs", "bn_param"), {"mode": "train", "running_mean": np.ones(3)}),
    ])
    assert np.array_equal(x, [0, 1, 2]) and np.array_equal(cache[0], [7, 7])
    assert set(bn_param) == {"mode", "running_mean"}


def test_updates_that_do_not_fit_are_ignored() -> None:
    x, params = np.zeros(3), {"a": 1}
    apply_updates((x,), {"params": params}, [
        (("args", 0), np.zeros(4)),  # wrong shape
        (("args", 5), np.zeros(3)),  # no such argument
        (("kwargs", "params"), [1, 2]),  # wrong kind
        (("globals",), {}),  # no such root
        "not an update",
    ])
    assert np.array_equal(x, np.zeros(3)) and params == {"a": 1}
