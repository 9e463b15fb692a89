"""The wire format: faithful round trips, and refusal of everything outside the contract."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from gradekit.sandbox.codec import (
    EXT_ARRAY,
    EXT_TUPLE,
    HEADER,
    Caps,
    Decoder,
    Encoder,
    Handle,
    loopback,
)
from gradekit.sandbox.errors import WireError

CAPS = Caps(wire_bytes=1 << 20, string_bytes=1000, depth=8)


def no_handles(obj: object) -> None:
    return None


def roundtrip(value: object) -> object:
    return loopback(Encoder(CAPS, no_handles), Decoder(CAPS), value)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int8",
                                   "uint16", "bool", "complex128"])
def test_arrays_keep_dtype_shape_and_values(dtype: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype
    assert back.shape == array.shape and np.array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous


def test_strided_and_empty_arrays() -> None:
    strided = np.arange(20.0).reshape(4, 5)[:, ::2].T
    assert np.array_equal(roundtrip(strided), strided)
    assert roundtrip(np.empty((0, 3))).shape == (0, 3)


def test_containers_scalars_and_tuples_survive() -> None:
    value = {"loss": 1.5, "n": 3, "ok": True, "none": None, "name": "W1", "raw": b"\x00",
             7: (np.float32(2.5), np.int64(4), [1, (2, 3)]), (1, 2): "tuple key"}
    back = roundtrip(value)
    assert back == value
    assert isinstance(back[7], tuple) and isinstance(back[7][2][1], tuple)
    assert type(back[7][0]) is np.float32 and type(back[7][1]) is np.int64


def test_numeric_dtypes_and_scalar_types_travel() -> None:
    assert roundtrip({"dtype": np.float64, "d": np.dtype("float32")}) == {
        "dtype": np.float64, "d": np.dtype("float32")}
    with pytest.raises(WireError, match="cannot be sent"):
        roundtrip(np.dtype("datetime64[s]"))


def test_unknown_objects_become_handles_when_the_sender_keeps_them() -> None:
    handle = Handle(generation=2, ident=99, type_name="FullyConnectedNet")
    encoder = Encoder(CAPS, lambda obj: handle if not isinstance(obj, str) else None)
    back = loopback(encoder, Decoder(CAPS), {"name": "net", "net": object()})
    assert back == {"name": "net", "net": handle}


class Sneaky(np.ndarray):
    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return True


@pytest.mark.parametrize(("value", "message"), [
    (np.array([1, "a"], dtype=object), "dtype object"),
    (np.zeros(2, dtype=[("a", "f8")]), "cannot be sent"),
    (np.array(["text"]), "cannot be sent"),
    (2 ** 70, "64 bits"),
    ("x" * 2000, "longer than"),
    (np.zeros(1 << 18), "too large"),
    (object(), "object cannot be sent"),
])
def test_values_outside_the_contract_are_refused(value: object, message: str) -> None:
    with pytest.raises(WireError, match=message):
        roundtrip(value)


@pytest.mark.parametrize("make", [
    lambda: (lambda a: (a.append(a), a)[1])([]),
    lambda: (lambda d: (d.setdefault("self", d), d)[1])({}),
    lambda: (lambda a: (a.append((a,)), a)[1])([]),
])
def test_recursive_structures_are_refused(make) -> None:
    with pytest.raises(WireError, match="nested more than"):
        roundtrip(make())


def test_subclasses_arrive_as_plain_ndarrays() -> None:
    back = roundtrip(np.arange(3.0).view(Sneaky))
    assert type(back) is np.ndarray
    assert not np.array_equal(back, np.zeros(3))


def forged(meta: object, data: bytes = b"") -> tuple[bytes, bytearray]:
    return msgpack.packb(meta, use_bin_type=True), bytearray(data)


def array_ext(dtype: str, shape: list[int]) -> msgpack.ExtType:
    return msgpack.ExtType(EXT_ARRAY, msgpack.packb([dtype, shape, False]))


@pytest.mark.parametrize(("meta", "data", "message"), [
    (array_ext("<f8", [1_250_000_000]), b"\x00" * 64, "claims 10000000000 bytes"),
    (array_ext("|O", [1]), b"\x00" * 64, "not accepted"),
    (array_ext("<V8", [1]), b"\x00" * 64, "not accepted"),
    (array_ext("<f8", [-1]), b"", "malformed array shape"),
    (array_ext("<f8", [1] * 40), b"", "malformed array shape"),
    (msgpack.ExtType(42, b""), b"", "unknown extension"),
    (msgpack.ExtType(EXT_TUPLE, b"\x91\xc1"), b"", "malformed"),
])
def test_forged_messages_are_refused_before_allocation(meta, data, message) -> None:
    with pytest.raises(WireError, match=message):
        Decoder(CAPS).decode(*forged(meta, data))


def test_deep_nesting_in_a_forged_message_is_refused() -> None:
    nested: object = 1
    for _ in range(20):
        nested = msgpack.ExtType(EXT_TUPLE, msgpack.packb([nested]))
    with pytest.raises(WireError, match="nested"):
        Decoder(CAPS).decode(*forged(nested))
    with pytest.raises(WireError, match=r"nested|malformed"):
        Decoder(CAPS).decode(b"\x91" * 5000 + b"\xc0", bytearray())


def test_frame_header_counts_meta_and_data() -> None:
    pieces = Encoder(CAPS, no_handles).encode(np.ones(3))
    meta_size, data_size = HEADER.unpack(pieces[0])
    assert meta_size == len(pieces[1])
    assert data_size == sum(len(bytes(p)) for p in pieces[2:]) and data_size % 64 == 0
