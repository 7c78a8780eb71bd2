"""Requests whose bytes do not decode: named, not crashed on.

gRPC decodes a request before any handler runs; a body that is not the method's message (a
string field that is not UTF-8 — say an id of ``%FF%FE`` in a REST path —, a truncated field, a
wrong wire type) would otherwise end the call with UNKNOWN and a text naming protobuf's own
exception. :func:`tolerant` makes the decoding hand over an :class:`Undecodable` instead, which
the boundary turns into INVALID_ARGUMENT naming the field — after authentication, so that a
request without a valid token learns nothing but UNAUTHENTICATED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from server.errors import InvalidArgument

WHOLE_REQUEST = "request"


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A request body that does not decode as ``descriptor``'s message."""

    data: bytes
    descriptor: Descriptor | None

    def error(self) -> InvalidArgument:
        field = bad_field(self.descriptor, self.data) if self.descriptor else None
        if field:
            return InvalidArgument.field(
                field, "does not decode (not UTF-8 text, or not the field's type)"
            )
        return InvalidArgument.field(WHOLE_REQUEST, "is not a valid message of this method")


def tolerant(
    deserialize: Callable[[bytes], Any] | None, descriptor: Descriptor | None
) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception:  # protobuf's DecodeError (or anything a decoder raises)
            return Undecodable(data, descriptor)

    return decode


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def bad_field(descriptor: Descriptor, data: bytes, prefix: str = "") -> str | None:
    """The first field of ``data`` (the wire format of a ``descriptor`` message) that does not
    decode: a string that is not UTF-8, a nested message that does not, or an encoding that
    breaks off. None when none can be named."""
    at = 0
    name = prefix
    try:
        while at < len(data):
            key, at = _varint(data, at)
            field = descriptor.fields_by_number.get(key >> 3)
            name = f"{prefix}{field.name}" if field is not None else prefix
            wire = key & 7
            if wire == 0:
                _, at = _varint(data, at)
            elif wire in (1, 5):
                at += 8 if wire == 1 else 4
                if at > len(data):
                    return name or None
            elif wire == 2:
                length, at = _varint(data, at)
                chunk, at = data[at : at + length], at + length
                if len(chunk) < length:
                    return name or None
                if field is None:
                    continue
                if field.type == FieldDescriptor.TYPE_STRING:
                    chunk.decode("utf-8")
                elif field.type == FieldDescriptor.TYPE_MESSAGE:
                    inner = bad_field(field.message_type, chunk, f"{name}.")
                    if inner:
                        return inner
            else:
                return name or None
    except (ValueError, UnicodeDecodeError):
        return name or None
    return None
