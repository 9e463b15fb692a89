"""The wire format: msgpack for structure, raw aligned buffers for arrays, never pickle.

A frame is ``header | meta | data``. ``meta`` is msgpack; arrays inside it are small
extension records (dtype, shape) whose bytes follow in ``data`` in the order the records
appear, so a 10 MB array is written and read with no intermediate copy. Tuples and opaque
handles are extension records too. Decoding trusts nothing: every dtype, shape, size, string
and nesting depth is checked against caps before memory is allocated, and only plain built-in
types and base-class ``numpy.ndarray`` come out.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import Any

import msgpack
import numpy as np

from gradekit.sandbox.errors import WireError
from gradekit.sandbox.limits import Limits

EXT_ARRAY = 1
EXT_TUPLE = 2
EXT_HANDLE = 3
EXT_DTYPE = 4  # numeric dtypes and scalar types: ``dtype=np.float64`` is a common argument

HEADER = struct.Struct("!IQ")  # meta length, data length
ALIGN = 64
NUMERIC_KINDS = "biufc"
_DTYPE_PATTERN = re.compile(r"[<>|=]?[biufc][0-9]{1,2}")
_INT_RANGE = (-(1 << 63), (1 << 64) - 1)
MAX_NDIM = 32


@dataclass(frozen=True)
class Handle:
    """A reference to an object that stays in the worker (a model, a cache, a bound method)."""

    generation: int
    ident: int
    type_name: str


@dataclass(frozen=True)
class Caps:
    """Size limits applied on both ends of the wire."""

    wire_bytes: int
    string_bytes: int
    depth: int

    @classmethod
    def from_limits(cls, limits: Limits) -> Caps:
        return cls(limits.wire_bytes, limits.string_bytes, limits.depth)


def _pad(offset: int) -> int:
    return -offset % ALIGN


class Encoder:
    """Turn a Python value into frame pieces; unknown objects go to ``fallback`` or fail."""

    def __init__(self, caps: Caps, fallback: Callable[[Any], Handle | None]) -> None:
        self.caps = caps
        self.fallback = fallback

    def encode(self, value: Any) -> list[Any]:
        """Return ``[header, meta, buffer, padding, ...]`` ready for ``os.writev``."""
        buffers: list[Any] = []
        state = {"offset": 0}
        meta = msgpack.packb(self._native(value, 0, buffers, state), use_bin_type=True)
        if len(meta) > self.caps.wire_bytes:
            raise WireError(f"the value is too large to send ({len(meta)} bytes of structure)")
        return [HEADER.pack(len(meta), state["offset"]), meta, *buffers]

    def _native(self, obj: Any, depth: int, buffers: list[Any], state: dict[str, int]) -> Any:
        if depth > self.caps.depth:
            raise WireError(f"the value is nested more than {self.caps.depth} levels deep "
                            "(does a list or dict contain itself?)")
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, int):
            value = int(obj)
            if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
                raise WireError(f"the integer {value} does not fit in 64 bits")
            return value
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, str | bytes | bytearray):
            if len(obj) > self.caps.string_bytes:
                raise WireError(f"a string of {len(obj)} characters is longer than the "
                                f"{self.caps.string_bytes} allowed")
            return str.__str__(obj) if isinstance(obj, str) else bytes(obj)
        if isinstance(obj, np.ndarray | np.generic):
            return self._array(obj, buffers, state)
        if isinstance(obj, tuple):
            items = [self._native(x, depth + 1, buffers, state) for x in obj]
            return msgpack.ExtType(EXT_TUPLE, msgpack.packb(items, use_bin_type=True))
        if isinstance(obj, list):
            return [self._native(x, depth + 1, buffers, state) for x in obj]
        if isinstance(obj, dict):
            return {self._native(k, depth + 1, buffers, state):
                    self._native(v, depth + 1, buffers, state) for k, v in obj.items()}
        if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.number)):
            dtype = np.dtype(obj)
            if dtype.kind not in NUMERIC_KINDS:
                raise WireError(f"the dtype {dtype} cannot be sent")
            return msgpack.ExtType(EXT_DTYPE, msgpack.packb([dtype.str, isinstance(obj, type)]))
        handle = obj if isinstance(obj, Handle) else self.fallback(obj)
        if handle is None:
            raise WireError(f"a {type(obj).__name__} object cannot be sent")
        return msgpack.ExtType(EXT_HANDLE, msgpack.packb(
            [handle.generation, handle.ident, handle.type_name]))

    def _array(self, obj: np.ndarray | np.generic, buffers: list[Any],
               state: dict[str, int]) -> msgpack.ExtType:
        scalar = isinstance(obj, np.generic)
        array = np.asarray(obj)  # a base-class view: subclasses never travel
        if not array.flags.c_contiguous:
            array = array.copy(order="C")
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
            raise WireError(f"an array of dtype {array.dtype} cannot be sent; "
                            "return numeric arrays (float, int or bool)")
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        offset = state["offset"]
        if offset + array.nbytes > self.caps.wire_bytes:
            raise WireError(f"the result is too large to send ({offset + array.nbytes} bytes; "
                            f"the limit is {self.caps.wire_bytes})")
        if array.nbytes:
            buffers.append(array.reshape(-1).view(np.uint8))
            padding = _pad(array.nbytes)
            if padding:
                buffers.append(bytes(padding))
            offset += array.nbytes + padding
        state["offset"] = offset
        header = [array.dtype.str, list(array.shape), scalar]
        return msgpack.ExtType(EXT_ARRAY, msgpack.packb(header))


class Decoder:
    """Rebuild a value from ``meta`` and ``data``; anything malformed raises :class:`WireError`."""

    def __init__(self, caps: Caps) -> None:
        self.caps = caps

    def decode(self, meta: bytes, data: bytearray) -> Any:
        state = {"offset": 0, "depth": 0}
        try:
            value = self._unpack(meta, data, state)
        except WireError:
            raise
        except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
                msgpack.StackError, RecursionError, struct.error) as exc:
            raise WireError(f"malformed message from the worker ({exc})") from None
        self._check_depth(value)
        return value

    def _unpack(self, blob: bytes, data: bytearray, state: dict[str, int]) -> Any:
        def ext_hook(code: int, payload: bytes) -> Any:
            if code == EXT_ARRAY:
                return self._array(payload, data, state)
            if code == EXT_TUPLE:
                state["depth"] += 1
                if state["depth"] > self.caps.depth:
                    raise WireError(f"the value is nested more than {self.caps.depth} levels "
                                    "deep")
                items = tuple(self._unpack(payload, data, state))
                state["depth"] -= 1
                return items
            if code == EXT_HANDLE:
                generation, ident, type_name = msgpack.unpackb(payload)
                if not (isinstance(generation, int) and isinstance(ident, int)
                        and isinstance(type_name, str)):
                    raise WireError("malformed object handle")
                return Handle(generation, ident, type_name[:200])
            if code == EXT_DTYPE:
                dtype_str, as_type = msgpack.unpackb(payload)
                dtype = self._dtype(dtype_str)
                return dtype.type if as_type is True else dtype
            raise WireError(f"unknown extension type {code}")

        cap = self.caps.string_bytes
        return msgpack.unpackb(blob, ext_hook=ext_hook, raw=False, strict_map_key=False,
                               max_str_len=cap, max_bin_len=cap, max_ext_len=len(blob),
                               max_array_len=len(blob), max_map_len=len(blob))

    def _array(self, payload: bytes, data: bytearray, state: dict[str, int]) -> Any:
        header = msgpack.unpackb(payload)
        if not (isinstance(header, list) and len(header) == 3):
            raise WireError("malformed array header")
        dtype_str, shape, scalar = header
        dtype = self._dtype(dtype_str)
        if not (isinstance(shape, list) and len(shape) <= MAX_NDIM
                and all(type(d) is int and d >= 0 for d in shape)):
            raise WireError(f"malformed array shape {shape!r}")
        nbytes = prod(shape) * dtype.itemsize
        offset = state["offset"]
        if nbytes > len(data) - offset:
            raise WireError(f"an array claims {nbytes} bytes but the message carries "
                            f"{len(data) - offset}")
        if nbytes:
            array = np.frombuffer(data, dtype, prod(shape), offset).reshape(tuple(shape))
            state["offset"] = offset + nbytes + _pad(nbytes)
        else:
            array = np.empty(tuple(shape), dtype)
        return array[()] if scalar and array.ndim == 0 else array

    @staticmethod
    def _dtype(dtype_str: Any) -> np.dtype:
        if not (isinstance(dtype_str, str) and _DTYPE_PATTERN.fullmatch(dtype_str)):
            raise WireError(f"arrays of dtype {dtype_str!r} are not accepted")
        dtype = np.dtype(dtype_str)
        if dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"arrays of dtype {dtype} are not accepted")
        return dtype

    def _check_depth(self, value: Any) -> None:
        stack = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > self.caps.depth:
                raise WireError(f"the value is nested more than {self.caps.depth} levels deep")
            if isinstance(item, list | tuple):
                stack.extend((x, depth + 1) for x in item)
            elif isinstance(item, dict):
                stack.extend((x, depth + 1) for kv in item.items() for x in kv)


def loopback(encoder: Encoder, decoder: Decoder, value: Any) -> Any:
    """Send ``value`` through the codec without a pipe: same copies and checks, no process."""
    frame = b"".join(bytes(piece) for piece in encoder.encode(value))
    meta_size, _ = HEADER.unpack_from(frame)
    meta_end = HEADER.size + meta_size
    return decoder.decode(frame[HEADER.size:meta_end], bytearray(frame[meta_end:]))
