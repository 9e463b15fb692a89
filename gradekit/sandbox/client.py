"""The grader's side of a worker: start it, call into it, time it out, restart it.

:class:`WorkerClient` owns one submission's worker for its whole grading run. Calls have a
wall-clock timeout and share a per-submission budget; a worker that hangs, dies or breaks the
protocol is killed, and the next call starts a fresh one that re-imports the modules that
loaded before. Every failure surfaces as a :mod:`gradekit.sandbox.errors` exception whose
message a student can act on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gradekit.sandbox.capture import OutputCapture
from gradekit.sandbox.channel import Channel, ChannelClosedError, write_all
from gradekit.sandbox.codec import Caps, Decoder, Encoder, Handle, loopback
from gradekit.sandbox.confinement import Confinement, new_confinement
from gradekit.sandbox.errors import (
    BudgetExhausted,
    CallTimeout,
    ImportFailure,
    StaleHandleError,
    StudentError,
    WireError,
    WorkerCrashed,
)
from gradekit.sandbox.launcher import enlarge_pipe, plan_worker, prepare_workdir
from gradekit.sandbox.limits import Limits
from gradekit.sandbox.mutations import apply_updates
from gradekit.sandbox.proxies import RemoteObject, Requester, wrap
from gradekit.sandbox.rng import adopt, global_state, same_state
from gradekit.sandbox.worker import Session, StandInRefusedError, serve_one

#: operations that run the student's code: they carry the grader's random state and stand-ins
CALLS = ("call", "losses")


def _holds_handle(value: Any) -> bool:
    if isinstance(value, Handle):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_handle(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_handle(k) or _holds_handle(v) for k, v in value.items())
    return False


def describe_exit(returncode: int | None, mode: str, limits: Limits) -> str:
    """Say why a worker ended, in terms of what the student's code probably did."""
    if returncode is None:
        return "the worker stopped responding"
    signum = -returncode if returncode < 0 else None
    if mode == "bwrap" and returncode > 128:
        signum = returncode - 128  # bubblewrap reports a signal death as 128 + signal
    if signum == signal.SIGXCPU:
        return f"killed: CPU time limit of {limits.cpu_seconds} s reached"
    if signum == signal.SIGKILL:
        return "killed (SIGKILL): a resource limit was hit or the code killed its own process"
    if signum == signal.SIGSEGV:
        return "crashed with a segmentation fault"
    if signum is not None:
        try:
            return f"killed by signal {signal.Signals(signum).name}"
        except ValueError:
            return f"ended with status {returncode}"
    return (f"the worker exited with code {returncode}; does the code call sys.exit(), "
            "os._exit() or exit()?")


class WorkerClient:
    """One submission's worker, seen from the grader.

    ``root`` holds the student package; ``modules`` maps component prefixes to dotted module
    names (``{"layers": "cs231n.layers"}``). ``confinement`` is the submission's isolation
    (see :mod:`gradekit.sandbox.confinement`); without one the client makes its own from
    ``sandbox`` (``auto``: bubblewrap, else a plain subprocess with a warning; ``bwrap``,
    ``subprocess`` or ``none``: in-process, only for students checking their own code),
    ``limits`` and ``hidden_paths``. One client serves one thread: calls are strictly one at
    a time on one pipe.
    """

    def __init__(self, root: str | os.PathLike[str], modules: Mapping[str, str],
                 api: str = "cs231n", sandbox: str = "auto", limits: Limits | None = None,
                 hidden_paths: Iterable[str | os.PathLike[str]] = (),
                 confinement: Confinement | None = None) -> None:
        self.root = Path(root).resolve()
        self.modules = dict(modules)
        self.api = api
        self._owned = contextlib.ExitStack()
        if confinement is None:
            confinement = self._owned.enter_context(new_confinement(
                sandbox, limits, hidden=[self.root, *(Path(p) for p in hidden_paths)]))
        self.confinement = confinement
        self.limits = confinement.limits
        self.mode = confinement.mode
        self.caps = Caps.from_limits(self.limits)
        self.capture = OutputCapture(self.limits.output_bytes)
        self.generation = 0
        self._scratch = Path(tempfile.mkdtemp(prefix="gradekit-worker-"))
        self._forget_scratch = weakref.finalize(self, shutil.rmtree, self._scratch, True)
        self._workdir = (prepare_workdir(self.root, self._scratch, None) if self.mode == "none"
                         else None)
        self._deadline = time.monotonic() + self.limits.submission_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Channel | None = None
        self._session: Session | None = None
        self._kinds: dict[str, str] = {}
        self._standins: dict[str, Callable[..., Any]] = {}  # of the call in progress
        self._last_id = 0
        self._worker_rng: tuple[Any, ...] | None = None  # the worker's global random state
        self._loaded: list[str] = []
        self._failures: dict[str, ImportFailure] = {}
        try:
            self._load_modules()
        except BaseException:
            self.close()
            raise

    # -- what the submission offers ------------------------------------------------------
    def available(self) -> list[str]:
        """Component names the submission defines, from the modules that imported."""
        return sorted(self._kinds)

    def unavailable(self) -> dict[str, ImportFailure]:
        """Module prefix → why its components are unavailable (import failed, timed out...)."""
        return dict(self._failures)

    def kind(self, name: str) -> str:
        """``"function"`` or ``"class"`` for an available component."""
        return self._kinds[name]

    @property
    def pid(self) -> int | None:
        """The process id of the running worker (or of bubblewrap around it), if one runs."""
        return self._process.pid if self._process is not None else None

    def output(self) -> str:
        """What the student's code printed so far (capped)."""
        return self.capture.text()

    def _load_modules(self) -> None:
        for prefix, module in self.modules.items():
            try:
                kinds = self._request({"op": "load", "prefix": prefix, "module": module},
                                      f"importing {module}")
            except StudentError as exc:
                syntax = exc.type_name in ("SyntaxError", "IndentationError", "TabError")
                self._failures[prefix] = ImportFailure(
                    module, str(exc), "" if syntax else exc.traceback_text, syntax)
            except (CallTimeout, WorkerCrashed, WireError) as exc:
                self._failures[prefix] = ImportFailure(module, str(exc))
            else:
                self._loaded.append(prefix)
                self._kinds.update({f"{prefix}.{name}": kind for name, kind in kinds.items()})

    # -- calls --------------------------------------------------------------------------
    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call component ``name``; arguments and result cross as copies. Changes the call
        makes to state arguments (dicts) are written back, the rest only observed (see
        :mod:`gradekit.sandbox.mutations`)."""
        return self.request("call", name, args=list(args), kwargs=kwargs)

    def request(self, op: str, target: str | Handle, *,
                standins: Mapping[str, Callable[..., Any]] | None = None,
                via: Requester | None = None, **fields: Any) -> Any:
        """Run one worker operation on a component name or handle (used by the proxies).

        ``standins`` answer, for a call, the submission's components of those names (see
        :mod:`gradekit.sandbox.worker`); proxies in the result go through ``via``, so the
        methods of a model built with stand-ins have them too.
        """
        if isinstance(target, Handle):
            self._check_fresh(target)
        requester = via or self
        what = target if isinstance(target, str) else f"a {target.type_name} object"
        context = {"call": f"calling {what}",
                   "losses": f"calling the loss of {what}"}.get(op, f"{op} on {what}")
        if op not in CALLS:
            return wrap(requester, self._request({"op": op, "target": target, **fields},
                                                 context))
        state = global_state()
        generation = self.generation
        fields["rng"] = None if same_state(state, self._worker_rng) else state
        if standins:
            fields["standins"] = sorted(standins)
        self._standins = dict(standins or {})
        try:
            value = wrap(requester, self._request({"op": op, "target": target, **fields},
                                                  context))
        finally:
            self._standins = {}
        if not (isinstance(value, dict) and isinstance(value.get("updates"), list)):
            raise WireError(f"{context}: the worker sent a malformed reply")
        apply_updates(what, fields["args"], fields["kwargs"], value["updates"])
        returned = value.get("rng")
        if returned is None:
            self._worker_rng = state if generation == self.generation else None
        else:
            self._worker_rng = returned if adopt(returned) else None
        return value.get("result")

    def _request(self, message: dict[str, Any], context: str) -> Any:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise BudgetExhausted(f"{context}: skipped, the submission used its whole time "
                                  f"budget of {self.limits.submission_seconds:g} s")
        if self.mode == "none":
            return self._answer(self._in_process(message), context)
        channel = self._ensure_started()
        timeout = min(self.limits.call_seconds, remaining)
        self._last_id += 1
        message = {**message, "id": self._last_id}
        pieces = self._encoder().encode(message)
        deadline = time.monotonic() + timeout
        try:
            write_all(channel.write_fd, pieces, deadline)
            reply = channel.receive(deadline)
            while isinstance(reply, dict) and "standin" in reply:
                write_all(channel.write_fd, self._encoder().encode(self._stand_in(reply)),
                          deadline)
                reply = channel.receive(deadline)
        except TimeoutError:
            self._stop(grace=0)
            if time.monotonic() < deadline:  # someone else's deadline (a test's alarm)
                raise
            if timeout < self.limits.call_seconds:
                raise BudgetExhausted(f"{context}: the submission used its whole time budget "
                                      f"of {self.limits.submission_seconds:g} s") from None
            raise CallTimeout(f"{context} did not finish within {timeout:g} s (an endless "
                              "loop?); the worker was restarted") from None
        except (ChannelClosedError, BrokenPipeError):
            returncode = self._stop(grace=self.limits.kill_grace_seconds)
            raise WorkerCrashed(f"{context}: {describe_exit(returncode, self.mode, self.limits)}",
                                returncode) from None
        except WireError as exc:
            self._stop(grace=0)  # the stream can no longer be trusted
            raise WireError(f"{context}: {exc}") from None
        except BaseException:  # interrupted mid-call (Ctrl-C): a late reply must not be read
            self._stop(grace=0)  # as the answer to the next call
            raise
        if not isinstance(reply, dict) or reply.pop("id", None) != self._last_id:
            self._stop(grace=0)
            raise WireError(f"{context}: the worker's reply does not answer this call (did the "
                            "code write to the worker's private pipe?); the worker was restarted")
        return self._answer(reply, context)

    def _answer(self, reply: Any, context: str) -> Any:
        if not (isinstance(reply, dict) and isinstance(reply.get("ok"), bool)):
            self._stop(grace=0)
            raise WireError(f"{context}: the worker sent a malformed reply")
        if reply["ok"]:
            return reply.get("value")
        kind, message = reply.get("kind"), str(reply.get("message", ""))
        if kind == "student":
            type_name = str(reply.get("type", "Exception"))
            if type_name == "MemoryError":
                message = (f"{message} (the memory limit is {self.limits.address_space >> 20} MB "
                           "of address space)").lstrip()
            raise StudentError(type_name, message, str(reply.get("traceback", "")))
        if kind == "stale":
            raise StaleHandleError(f"{context}: {message}")
        raise WireError(f"{context}: {message}")

    def _stand_in(self, request: dict[str, Any]) -> dict[str, Any]:
        """The grader's answer to a stand-in the worker asks for: only a name this call
        declared, only plain values (a stand-in never reaches back into the worker), and
        the reference's exception as a type and message, never its traceback."""
        name, args, kwargs = request.get("standin"), request.get("args"), request.get("kwargs")
        answer = self._standins.get(name) if isinstance(name, str) else None
        if answer is None:
            raise WireError(f"the code asked the grader for {name!r}, which this call does not "
                            "stand in for; the worker was restarted")
        if not (isinstance(args, list) and isinstance(kwargs, dict)) or _holds_handle(
                (args, kwargs)):
            return {"op": "answer", "ok": False,
                    "message": f"{name}: its stand-in takes arrays, numbers, strings and "
                               "containers of them"}
        try:
            result = answer(*args, **kwargs)
        except Exception as exc:
            return {"op": "answer", "ok": False, "message": f"{type(exc).__name__}: {exc}"}
        return {"op": "answer", "ok": True, "result": result,
                "arg_dicts": [[i, a] for i, a in enumerate(args) if isinstance(a, dict)],
                "kwarg_dicts": [[k, v] for k, v in kwargs.items() if isinstance(v, dict)]}

    # -- handles on the grader side ----------------------------------------------------------
    def _handle_of(self, obj: Any) -> Handle | None:
        if not isinstance(obj, RemoteObject):
            return None
        target = object.__getattribute__(obj, "_target")
        if not isinstance(target, Handle):
            return None
        return self._check_fresh(target)

    def _check_fresh(self, handle: Handle) -> Handle:
        if handle.generation != self.generation:
            raise StaleHandleError(f"this {handle.type_name} object belonged to a worker that "
                                   "was restarted after a crash or timeout; create it again")
        return handle

    def _encoder(self) -> Encoder:
        return Encoder(self.caps, self._handle_of)

    # -- in-process mode ------------------------------------------------------------------
    def _in_process(self, message: dict[str, Any]) -> Any:
        if self._session is None:
            self._session = Session(self.generation, self._ask_in_process)
            sys.path.insert(0, str(self._workdir))
        request = loopback(self._encoder(), Decoder(self.caps), message)
        reply = serve_one(self._session, request)
        return loopback(Encoder(self.caps, self._session.keep), Decoder(self.caps), reply)

    def _ask_in_process(self, name: str, args: list[Any],
                        kwargs: dict[str, Any]) -> tuple[Any, list[Any], list[Any]]:
        """A stand-in's question and answer, copied across as over the pipe."""
        assert self._session is not None
        request = loopback(Encoder(self.caps, self._session.keep), Decoder(self.caps),
                           {"standin": name, "args": args, "kwargs": kwargs})
        answer = loopback(self._encoder(), Decoder(self.caps), self._stand_in(request))
        if not answer["ok"]:
            raise StandInRefusedError(answer["message"])
        return answer["result"], answer["arg_dicts"], answer["kwarg_dicts"]

    # -- process lifecycle ------------------------------------------------------------------
    def _ensure_started(self) -> Channel:
        if self._channel is not None:
            return self._channel
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        enlarge_pipe(request_write)
        enlarge_pipe(reply_write)
        caps = [self.caps.wire_bytes, self.caps.string_bytes, self.caps.depth]
        try:
            launch = plan_worker(self.confinement, self.root, self._scratch,
                                 (request_read, reply_write), self.generation, caps)
            try:
                self._process = subprocess.Popen(
                    launch.argv, stdin=subprocess.DEVNULL, stdout=output_write,
                    stderr=output_write, **launch.popen_kwargs())
            finally:
                launch.close()
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        self.capture.drain(output_read)
        os.set_blocking(request_write, False)  # writes to a wedged worker must time out
        self._channel = Channel(reply_read, request_write, self.caps)
        for prefix in self._loaded:  # a restarted worker gets back what loaded before
            self._request({"op": "load", "prefix": prefix, "module": self.modules[prefix]},
                          f"re-importing {self.modules[prefix]}")
        return self._channel

    def _stop(self, grace: float) -> int | None:
        """Give the worker ``grace`` seconds to end, kill its process group, return its status."""
        process, channel = self._process, self._channel
        self._process = self._channel = None
        self.generation += 1  # handles die with their worker
        self._worker_rng = None
        if channel is not None:
            os.close(channel.write_fd)
        returncode = None
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                returncode = process.wait(grace)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if channel is not None:
            os.close(channel.read_fd)
        return returncode

    def close(self) -> None:
        """Stop the worker and delete its private copy of the submission."""
        self._stop(grace=self.limits.kill_grace_seconds)
        self.capture.join(self.limits.kill_grace_seconds)
        if self._session is not None:  # forget the student's modules, for the next submission
            sys.path[:] = [p for p in sys.path if not p.startswith(str(self._workdir))]
            for name, module in list(sys.modules.items()):
                if str(getattr(module, "__file__", "")).startswith(str(self._workdir)):
                    del sys.modules[name]
            self._session = None
        self._forget_scratch()  # also runs by itself if a client is never closed
        self._owned.close()

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WorkerClient({str(self.root)!r}, mode={self.mode!r})"
