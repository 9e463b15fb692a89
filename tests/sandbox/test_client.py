"""WorkerClient: calls, errors, captured output, restarts and budgets, in every mode."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from sandbox_helpers import FILES, MODULES, TIGHT, affine_verdict, needs_bwrap

from gradekit.sandbox import launcher
from gradekit.sandbox.client import WorkerClient, describe_exit
from gradekit.sandbox.errors import (
    BudgetExhausted,
    CallTimeout,
    StaleHandleError,
    StudentError,
    WorkerCrashed,
)
from gradekit.sandbox.limits import Limits
from gradekit.sandbox.mutations import observing


@pytest.fixture(params=[pytest.param("bwrap", marks=needs_bwrap), "subprocess", "none"])
def any_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_components_calls_and_errors_in_every_mode(make_client, any_mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=any_mode)
    assert client.available() == sorted(
        ["layers.affine_backward", "layers.affine_forward"]
        + [f"tools.{name}" for name in ("Counter", "chatty", "die", "divide", "draw",
                                        "kernel_limits", "nap", "normalize", "whoami")])
    assert client.kind("tools.Counter") == "class" and client.kind("tools.nap") == "function"
    assert affine_verdict(client) == "pass"
    with pytest.raises(StudentError) as raised:
        client.call("tools.divide", 1, 0)
    assert raised.value.type_name == "ZeroDivisionError"
    assert "tools.py" in raised.value.traceback_text and "worker.py" not in (
        raised.value.traceback_text)


def test_kernel_limits_hold_in_the_worker(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    assert client.call("tools.kernel_limits") == [TIGHT.cpu_seconds, TIGHT.address_space,
                                                   TIGHT.file_size, 0]


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader drops privileges")
def test_a_root_grader_runs_each_submission_as_a_uid_of_its_own(make_client) -> None:
    first = make_client(FILES, MODULES, sandbox="bwrap")
    second = make_client(FILES, MODULES, sandbox="bwrap")
    uids = {first.confinement.uid, second.confinement.uid}
    assert len(uids) == 2 and not uids & {0, 65534, None}
    for client in (first, second):
        uid = client.confinement.uid
        assert client.call("tools.whoami") == (uid, uid, [])


def test_cache_round_trip_feeds_the_backward_pass(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    x, w, b = np.ones((2, 3)), np.arange(12.0).reshape(3, 4), np.zeros(4)
    out, cache = client.call("layers.affine_forward", x, w, b)
    dx, _, db = client.call("layers.affine_backward", np.ones_like(out), cache)
    assert np.allclose(dx, np.ones((2, 4)) @ w.T) and np.allclose(db, 2 * np.ones(4))


def test_state_comes_back_and_arrays_stay_pristine(make_client, any_mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=any_mode)
    x, bn_param = np.arange(6.0).reshape(3, 2), {"mode": "train"}
    with observing() as seen:
        out = client.call("tools.normalize", x, bn_param=bn_param)
    assert np.array_equal(bn_param["running_mean"], [2.0, 3.0])
    assert np.array_equal(x, np.arange(6.0).reshape(3, 2)), "the grader's x was overwritten"
    assert np.array_equal(out.mean(axis=0), [0.0, 0.0])
    changed = {(c.path, c.applied): c for c in seen}
    assert set(changed) == {((), True), ((), False)}
    assert changed[(), False].root is x and np.array_equal(changed[(), False].value, out)
    assert changed[(), True].root is bn_param


def test_seeding_the_grader_seeds_the_student_code(make_client, any_mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=any_mode)
    np.random.seed(231)
    expected = [np.random.randn(3), np.random.randn(2), np.random.randn(4), np.random.randn(1)]
    np.random.seed(231)
    assert np.array_equal(client.call("tools.draw", 3), expected[0])
    assert np.array_equal(np.random.randn(2), expected[1])  # the draws were consumed
    assert client.call("tools.nap", 0) == 0  # draws nothing: the state need not travel
    assert np.array_equal(client.call("tools.draw", 4), expected[2])
    assert np.array_equal(np.random.randn(1), expected[3])


def test_output_is_captured_from_python_and_c(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    assert client.call("tools.chatty", 3) == 3
    time.sleep(0.1)
    assert "line 3" in client.output() and "from C-level stderr" in client.output()


def test_timeout_kills_and_the_next_call_gets_a_fresh_worker(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    counter = client.call("tools.Counter", 0)
    started = time.monotonic()
    with pytest.raises(CallTimeout, match="did not finish within 2 s"):
        client.call("tools.nap", 30)
    assert time.monotonic() - started < 4
    assert affine_verdict(client) == "pass"
    with pytest.raises(StaleHandleError, match="create it again"):
        counter.bump()


def test_an_interrupted_call_leaves_no_late_reply_behind(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            client.call("tools.nap", 0.8)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    time.sleep(0.8)
    assert client.call("tools.nap", 0) == 0


def test_exit_is_reported_as_a_crash(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    with pytest.raises(WorkerCrashed, match="exited with code 7") as raised:
        client.call("tools.die", 7)
    assert raised.value.returncode == 7
    assert affine_verdict(client) == "pass"


def test_the_submission_budget_stops_further_calls(make_client) -> None:
    limits = Limits(**{**TIGHT.__dict__, "submission_seconds": 3.0})
    client = make_client(FILES, MODULES, limits=limits)
    with pytest.raises(CallTimeout):
        client.call("tools.nap", 30)
    with pytest.raises(BudgetExhausted, match="time budget of 3 s"):
        client.call("tools.nap", 30)
    with pytest.raises(BudgetExhausted, match="skipped"):
        client.call("tools.divide", 1, 1)


def test_fallback_without_bubblewrap_warns_and_works(make_client, monkeypatch) -> None:
    monkeypatch.setattr(launcher, "bwrap_works", lambda: False)
    with pytest.warns(RuntimeWarning, match="bubblewrap is unavailable"):
        assert launcher.resolve_mode("auto") == "subprocess"
    with pytest.raises(launcher.SandboxUnavailable, match="install the 'bubblewrap'"):
        WorkerClient("/nonexistent", {}, sandbox="bwrap")
    client = make_client(FILES, MODULES, sandbox="subprocess")
    assert client.mode == "subprocess" and affine_verdict(client) == "pass"


@pytest.mark.parametrize(("returncode", "mode", "text"), [
    (-9, "subprocess", "SIGKILL"),
    (137, "bwrap", "SIGKILL"),
    (-24, "subprocess", "CPU time limit"),
    (-11, "subprocess", "segmentation fault"),
    (3, "bwrap", "exited with code 3"),
    (-15, "subprocess", "killed by signal SIGTERM"),
    (250, "bwrap", "ended with status 250"),
])
def test_exit_descriptions_name_the_likely_cause(returncode: int, mode: str, text: str) -> None:
    assert text in describe_exit(returncode, mode, TIGHT)
