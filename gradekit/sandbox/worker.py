"""The worker process: imports one submission and serves the grader's calls.

Run as ``python -I -m gradekit.sandbox.worker CONFIG_JSON``; it confines itself first
(:func:`gradekit.sandbox.confine.prepare`) and serves from its work dir. The protocol travels
on two private pipe descriptors named in the config; fd 1 and 2 are a capture pipe the grader
drains and caps, so nothing the student prints (from Python or C) can corrupt the protocol.

Results go back by value where the codec allows; anything else (models, caches, bound
methods) stays here in a handle table and travels as an opaque :class:`Handle`. Attribute and
item reads return mutable containers as handles too, so ``net.params['W1'] = w`` in the
grader changes the dict in here.

Modules are imported as parts of their package, and their folders are also searched last, so
the Python 2-era sibling imports of a flat submission (``from layers import *`` beside
``layers.py``) resolve as they did in the student's notebook.

A call may name *stand-ins*: components of the submission that the grader answers instead,
for that call only (a net's test then runs the student's net on the reference's layers, so
a layer bug costs the layer's tests alone). Each name the student's modules bind to such a
component is pointed at a stub that asks the grader over the pipe and waits; the names are
restored when the call returns, and a stub kept past its call gets no answer.

A model's numerical gradient asks for its loss at thousands of points, each one element of a
parameter moved by +h or -h. ``losses`` evaluates a run of them in one request (the
grader still takes the differences and judges them): four round trips per point would cost
more than the student's own computation.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gradekit.providers import public_names
from gradekit.sandbox.channel import Channel, ChannelClosedError, write_all
from gradekit.sandbox.codec import Caps, Encoder, Handle
from gradekit.sandbox.confine import prepare
from gradekit.sandbox.errors import SandboxError, StaleHandleError, WireError
from gradekit.sandbox.mutations import ArgumentWatch
from gradekit.sandbox.numpy_compat import restore_removed_names
from gradekit.sandbox.rng import adopt, global_state, same_state

#: ``ask(name, args, kwargs) -> (result, arg_dicts, kwarg_dicts)``: the grader's answer for
#: a stood-in component, with the new contents of the dicts it was handed.
Ask = Callable[[str, list[Any], dict[str, Any]], tuple[Any, list[Any], list[Any]]]


class StandInRefusedError(RuntimeError):
    """The grader did not answer a stand-in (raised inside the student's code)."""


class Session:
    """The submission's components and the objects handed out as handles."""

    def __init__(self, generation: int, ask: Ask | None = None) -> None:
        self.generation = generation
        self.components: dict[str, Any] = {}
        self.modules: list[Any] = []
        self.objects: dict[int, Any] = {}
        self.rng = global_state()  # NumPy's global random state as of the last call
        self.ask = ask
        self.active: frozenset[str] = frozenset()  # stand-ins of the call being served

    # -- handles ------------------------------------------------------------------------
    def keep(self, obj: Any) -> Handle:
        """Store ``obj`` and return the handle that names it."""
        ident = id(obj)
        self.objects[ident] = obj
        return Handle(self.generation, ident, type(obj).__name__)

    def _lookup(self, target: Any) -> Any:
        if isinstance(target, str):
            if target not in self.components:
                raise LookupError(f"the submission has no component {target!r}")
            return self.components[target]
        if not isinstance(target, Handle):
            raise TypeError(f"cannot use a {type(target).__name__} as a call target")
        if target.generation != self.generation or target.ident not in self.objects:
            raise StaleHandleError(f"the {target.type_name} object no longer exists")
        return self.objects[target.ident]

    def _resolve(self, value: Any) -> Any:
        """Replace handles inside arguments with the objects they name."""
        if isinstance(value, Handle):
            return self._lookup(value)
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._resolve(v) for v in value)
        if isinstance(value, dict):
            return {self._resolve(k): self._resolve(v) for k, v in value.items()}
        return value

    def _shared(self, value: Any) -> Any:
        """Containers read through an attribute or item stay here so writes reach them."""
        return self.keep(value) if isinstance(value, dict | list) else value

    # -- operations ---------------------------------------------------------------------
    def load(self, prefix: str, module: str) -> dict[str, str]:
        parts = module.split(".")
        for depth in {1, len(parts) - 1} - {0}:  # the package's folder, the module's own
            folder = os.path.join(os.getcwd(), *parts[:depth])
            if os.path.isdir(folder) and folder not in sys.path:
                sys.path.append(folder)  # after everything else: it shadows nothing
        loaded = importlib.import_module(module)
        self.modules.append(loaded)
        kinds = {}
        for name in public_names(loaded):
            obj = getattr(loaded, name)
            self.components[f"{prefix}.{name}"] = obj
            kinds[name] = "class" if isinstance(obj, type) else "function"
        return kinds

    def call(self, target: Any, args: list[Any], kwargs: dict[str, Any],
             rng: Any, standins: list[str] | None = None) -> dict[str, Any]:
        function = self._lookup(target)
        resolved_args, resolved_kwargs = self._resolve(args), self._resolve(kwargs)
        watch = ArgumentWatch(args, kwargs, resolved_args, resolved_kwargs)
        with self._student_code(rng, standins) as ran:
            result = function(*resolved_args, **resolved_kwargs)
        return {"result": result, "updates": watch.updates(), "rng": ran["rng"]}

    def losses(self, target: Any, name: str, h: float, start: int, seconds: float,
               args: list[Any], kwargs: dict[str, Any], rng: Any,
               standins: list[str] | None = None) -> dict[str, Any]:
        """Rows ``[loss(+h), loss(-h)]`` of ``target.loss(*args, **kwargs)[0]`` with element
        ``start``, ``start + 1``, ... of ``target.params[name]`` moved, until ``seconds`` have
        passed (one row at least). Every evaluation gets fresh copies of the arguments, and
        the parameter is put back, the same object, even when the loss raises."""
        if not (isinstance(name, str) and isinstance(h, float) and type(start) is int
                and isinstance(seconds, float)):
            raise WireError("a losses request needs a name, a step, a start and a duration")
        model = self._lookup(target)
        resolved_args, resolved_kwargs = self._resolve(args), self._resolve(kwargs)
        params = model.params
        original = params[name]
        base = np.array(original, dtype=np.float64)
        if not 0 <= start < base.size:
            raise WireError(f"{name} has {base.size} elements; none starts at {start}")
        rows: list[list[float]] = []
        until = time.monotonic() + seconds
        with self._student_code(rng, standins) as ran:
            try:
                for index in range(start, base.size):
                    rows.append([self._loss_at(model, params, name, base, index, step,
                                               resolved_args, resolved_kwargs)
                                 for step in (h, -h)])
                    if time.monotonic() >= until:
                        break
            finally:
                params[name] = original
        return {"result": np.array(rows, dtype=np.float64), "updates": [], "rng": ran["rng"]}

    @contextlib.contextmanager
    def _student_code(self, rng: Any, standins: list[str] | None) -> Iterator[dict[str, Any]]:
        """Run the student's code from the grader's random state (None: the one we have)
        with ``standins``; the dict yielded then holds ``rng``, the state after if it
        changed."""
        if rng is not None and adopt(rng):
            self.rng = rng
        ran: dict[str, Any] = {}
        with self._standing_in(standins or []):
            yield ran
        after = global_state()
        ran["rng"] = None if same_state(after, self.rng) else after
        self.rng = after

    @staticmethod
    def _loss_at(model: Any, params: Any, name: str, base: np.ndarray, index: int,
                 step: float, args: list[Any], kwargs: dict[str, Any]) -> float:
        trial = base.copy()
        trial.flat[index] += step
        params[name] = trial
        loss = np.asarray(model.loss(*copy.deepcopy(args), **copy.deepcopy(kwargs))[0],
                          dtype=np.float64)
        if loss.size != 1:
            raise TypeError(f"loss() returned a loss of shape {loss.shape}, not one number")
        return float(loss.reshape(()))

    @contextlib.contextmanager
    def _standing_in(self, names: list[str]) -> Iterator[None]:
        """Point every module-level name bound to one of ``names``' components at a stub."""
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise WireError("stand-ins must be a list of component names")
        originals = {id(self.components[n]): n for n in names if n in self.components}
        self.active = frozenset(originals.values())
        patched = []
        for module in self.modules:
            space = vars(module)
            for key, value in list(space.items()):
                name = originals.get(id(value))
                if name is not None:
                    space[key] = self._stub(name, value)
                    patched.append((space, key, value))
        try:
            yield
        finally:
            self.active = frozenset()
            for space, key, value in patched:
                space[key] = value

    def _stub(self, name: str, original: Any) -> Callable[..., Any]:
        def stand_in(*args: Any, **kwargs: Any) -> Any:
            if self.ask is None or name not in self.active:
                raise StandInRefusedError(f"{name}: a stand-in answers only during the "
                                          "grader's call it was made for")
            result, arg_dicts, kwarg_dicts = self.ask(name, list(args), kwargs)
            for index, contents in arg_dicts:  # what the grader's version wrote into them
                _refill(args[index], contents)
            for key, contents in kwarg_dicts:
                _refill(kwargs[key], contents)
            return result

        stand_in.__name__ = getattr(original, "__name__", name.rsplit(".", 1)[-1])
        return stand_in

    def getattr(self, target: Any, attr: str) -> Any:
        return self._shared(getattr(self._lookup(target), attr))

    def setattr(self, target: Any, attr: str, value: Any) -> None:
        setattr(self._lookup(target), attr, self._resolve(value))

    def getitem(self, target: Any, key: Any) -> Any:
        return self._shared(self._lookup(target)[self._resolve(key)])

    def setitem(self, target: Any, key: Any, value: Any) -> None:
        self._lookup(target)[self._resolve(key)] = self._resolve(value)

    def delitem(self, target: Any, key: Any) -> None:
        del self._lookup(target)[self._resolve(key)]

    def len(self, target: Any) -> int:
        return len(self._lookup(target))

    def iter(self, target: Any) -> list[Any]:
        return list(self._lookup(target))

    def bool(self, target: Any) -> bool:
        return bool(self._lookup(target))

    def contains(self, target: Any, item: Any) -> bool:
        return self._resolve(item) in self._lookup(target)

    def value(self, target: Any) -> Any:
        return self._lookup(target)

    def operation(self, op: str) -> Callable[..., Any]:
        if op not in OPERATIONS:
            raise LookupError(f"unknown operation {op!r}")
        return getattr(self, op)


def _refill(target: Any, contents: Any) -> None:
    if isinstance(target, dict) and isinstance(contents, dict):
        target.clear()
        target.update(contents)


OPERATIONS = frozenset({"load", "call", "losses", "getattr", "setattr", "getitem", "setitem",
                        "delitem", "len", "bool", "iter", "contains", "value"})


def student_traceback(exc: BaseException) -> str:
    """The traceback without the worker's own frames, which mean nothing to a student."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def error_reply(kind: str, exc: BaseException) -> dict[str, Any]:
    """An error as text only; a student exception that cannot even print itself says so."""
    try:
        message = str(exc)
        traceback_text = student_traceback(exc) if kind == "student" else ""
    except Exception:
        message, traceback_text = f"<a {type(exc).__name__} that cannot be printed>", ""
    return {"ok": False, "kind": kind, "type": type(exc).__name__, "message": message,
            "traceback": traceback_text}


def serve_one(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """Run one request; every exception, even ``SystemExit``, becomes an error reply."""
    try:
        fields = dict(request)
        operation = session.operation(fields.pop("op"))
        return {"ok": True, "value": operation(**fields)}
    except SandboxError as exc:
        return error_reply("stale" if isinstance(exc, StaleHandleError) else "wire", exc)
    except BaseException as exc:  # the student may raise anything, even SystemExit
        return error_reply("student", exc)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a broken student stream must not stop us
                stream.flush()


def serve(config: dict[str, Any]) -> None:
    """Answer requests until the grader closes the pipe."""
    caps = Caps(*config["caps"])
    channel = Channel(config["request_fd"], config["response_fd"], caps)

    def ask(name: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, list, list]:
        write_all(channel.write_fd, encoder.encode({"standin": name, "args": args,
                                                    "kwargs": kwargs}))
        answer = channel.receive()
        if not isinstance(answer, dict) or answer.get("op") != "answer":
            raise WireError("the grader sent something other than a stand-in's answer")
        if not answer.get("ok"):
            raise StandInRefusedError(str(answer.get("message", "")))
        return answer.get("result"), answer.get("arg_dicts", []), answer.get("kwarg_dicts", [])

    session = Session(config["generation"], ask)
    encoder = Encoder(caps, session.keep)
    pid = os.getpid()
    while True:
        try:
            request = channel.receive()
        except ChannelClosedError:
            return
        request_id = request.pop("id")
        reply = serve_one(session, request)
        if os.getpid() != pid:  # a process the student forked came back here: it must not reply
            os._exit(0)
        reply["id"] = request_id
        try:
            pieces = encoder.encode(reply)
        except WireError as exc:
            pieces = encoder.encode({**error_reply("wire", exc), "id": request_id})
        except Exception as exc:  # e.g. a student's int subclass whose __int__ raises
            problem = WireError(f"the result could not be prepared for sending "
                                f"({type(exc).__name__})")
            pieces = encoder.encode({**error_reply("wire", problem), "id": request_id})
        write_all(channel.write_fd, pieces)


def main() -> None:
    config = json.loads(sys.argv[1])
    prepare(config["confine"])  # before anything of the student's is read
    restore_removed_names()  # np.int and friends, for code of earlier years
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.getcwd())
    try:
        serve(config)
    finally:
        os._exit(0)  # do not wait for threads the student left running


if __name__ == "__main__":
    main()
