"""Grader-side stand-ins for things that live in the worker.

A :class:`RemoteObject` names either a component (``"layers.affine_forward"``,
``"classifiers.fc_net.FullyConnectedNet"``) or a handle to an object the worker keeps. Python
operations on it become worker requests: calling a class builds a remote instance, methods
and attributes are fetched remotely, and ``net.params['W1'] = w`` writes into the worker's
dict because attribute reads return containers as remote handles. Results arrive as copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import numpy as np

from gradekit.sandbox.codec import Handle
from gradekit.sandbox.errors import StudentError, WireError

#: how long one ``losses`` request may run before it answers with the rows it has
LOSSES_SECONDS = 0.25

#: Python's protocols expect these exception types from these operations (``hasattr``,
#: ``dict.get`` on a mapping, ``for`` loops), so the student's error is re-raised as one.
PROTOCOL_ERRORS = {"getattr": AttributeError, "getitem": (KeyError, IndexError)}


class Requester(Protocol):
    def request(self, op: str, target: str | Handle, **fields: Any) -> Any: ...


def wrap(client: Requester, value: Any) -> Any:
    """Turn the handles inside a reply into :class:`RemoteObject` proxies."""
    if isinstance(value, Handle):
        return RemoteObject(client, value)
    if isinstance(value, list):
        return [wrap(client, v) for v in value]
    if isinstance(value, tuple):
        return tuple(wrap(client, v) for v in value)
    if isinstance(value, dict):
        return {k: wrap(client, v) for k, v in value.items()}
    return value


class RemoteObject:
    """A function, class or object living in the worker."""

    __slots__ = ("_client", "_target")

    def __init__(self, client: Requester, target: str | Handle) -> None:
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_target", target)

    def _do(self, op: str, **fields: Any) -> Any:
        try:
            return self._client.request(op, self._target, **fields)
        except StudentError as exc:
            expected = PROTOCOL_ERRORS.get(op, ())
            for kind in expected if isinstance(expected, tuple) else (expected,):
                if exc.type_name == kind.__name__:
                    raise kind(exc.message) from exc
            raise

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._do("call", args=list(args), kwargs=kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._do("getattr", attr=attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        self._do("setattr", attr=attr, value=value)

    def __getitem__(self, key: Any) -> Any:
        return self._do("getitem", key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._do("setitem", key=key, value=value)

    def __delitem__(self, key: Any) -> None:
        self._do("delitem", key=key)

    def __len__(self) -> int:
        return self._do("len")

    def __bool__(self) -> bool:
        return self._do("bool")

    def __iter__(self) -> Iterator[Any]:
        return iter(self._do("iter"))

    def __contains__(self, item: Any) -> bool:
        return self._do("contains", item=item)

    def __repr__(self) -> str:
        target = self._target
        name = target if isinstance(target, str) else f"{target.type_name} object"
        return f"<remote {name}>"


class WithStandIns:
    """Requests through ``client`` whose calls have ``standins`` answer for some of the
    submission's components; the proxies they return keep them (a model's methods too)."""

    def __init__(self, client: Any, standins: Mapping[str, Callable[..., Any]]) -> None:
        self.client = client
        self.standins = dict(standins)

    def request(self, op: str, target: str | Handle, **fields: Any) -> Any:
        return self.client.request(op, target, standins=self.standins, via=self, **fields)


def with_standins(remote: RemoteObject,
                  standins: Mapping[str, Callable[..., Any]]) -> RemoteObject:
    """``remote`` whose calls run with ``standins`` (see :mod:`gradekit.sandbox.worker`)."""
    client = object.__getattribute__(remote, "_client")
    if isinstance(client, WithStandIns):  # never stand-ins on stand-ins
        client = client.client
    return RemoteObject(WithStandIns(client, standins), object.__getattribute__(remote,
                                                                                 "_target"))


def fetch(remote: RemoteObject) -> Any:
    """A by-value copy of a remote object (e.g. a whole ``params`` dict), where the wire allows."""
    return remote._do("value")


def central_losses(model: RemoteObject, name: str, h: float, size: int,
                   args: list[Any], kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """The ``(size, 2)`` losses of a remote model with each element of ``params[name]``
    moved by +h and -h in turn, asked for in runs of about :data:`LOSSES_SECONDS` each (so
    every request stays far inside the per-call timeout, however slow the loss)."""
    rows: list[np.ndarray] = []
    done = 0
    while done < size:
        reply = model._do("losses", name=name, h=float(h), start=done,
                          seconds=LOSSES_SECONDS, args=list(args), kwargs=dict(kwargs or {}))
        if not (isinstance(reply, np.ndarray) and reply.dtype == np.float64
                and reply.ndim == 2 and reply.shape[1] == 2
                and 1 <= len(reply) <= size - done):
            raise WireError(f"the worker's losses for {name!r} do not fit its {size} elements")
        rows.append(reply)
        done += len(reply)
    return np.concatenate(rows) if rows else np.zeros((0, 2))
