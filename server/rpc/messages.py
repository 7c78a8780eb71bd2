"""Helpers shared by the servicers for turning protobuf messages into domain input and back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from cts.stream.v1 import stream_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from server.errors import FieldViolation, InvalidArgument
from server.streams.watch import (
    ChangeType,
    Heartbeat,
    Snapshot,
    SnapshotReason,
    StreamItem,
    ViewChange,
)

T = TypeVar("T")

CHANGE_TYPES = {
    ChangeType.ADDED: stream_pb2.CHANGE_TYPE_ADDED,
    ChangeType.MODIFIED: stream_pb2.CHANGE_TYPE_MODIFIED,
    ChangeType.REMOVED: stream_pb2.CHANGE_TYPE_REMOVED,
}
SNAPSHOT_REASONS = {
    SnapshotReason.INITIAL: stream_pb2.SNAPSHOT_REASON_INITIAL,
    SnapshotReason.RESUME_TOO_OLD: stream_pb2.SNAPSHOT_REASON_RESUME_TOO_OLD,
    SnapshotReason.RESYNC: stream_pb2.SNAPSHOT_REASON_RESYNC,
}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def capped32(value: int) -> int:
    """A count for an ``int32`` field, capped to its range.

    Counts and durations are ``int32`` so that JSON carries them as numbers; protobuf refuses a
    value outside the range (ValueError: the request would fail). A figure that could in
    principle grow past it (a count kept since the server or the engine started, a clock offset
    an exchange reports) goes through here and is reported at the cap instead.
    """
    return max(INT32_MIN, min(INT32_MAX, value))


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros ("1.5", "100")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def present_fields(message: Message, names: frozenset[str] | set[str]) -> dict[str, Any]:
    """The fields among ``names`` that are set on ``message`` (``optional`` fields)."""
    return {name: getattr(message, name) for name in names if message.HasField(name)}


def masked_fields(
    message: Message,
    paths: list[str],
    *,
    settable: frozenset[str] | set[str],
    output_only: frozenset[str] | set[str],
) -> dict[str, Any]:
    """The fields an ``update_mask`` names: their values, or None to reset those not sent.

    Unknown fields, output-only fields and empty paths (``name,,``) are INVALID_ARGUMENT: a
    client that asks to change what cannot change has a bug worth hearing about (AIP-161 would
    ignore output-only fields silently).
    """
    violations = []
    for path in paths:
        if not path.strip():
            problem = "has an empty field path"
        elif path in output_only:
            problem = f"names the output-only field '{path}', which cannot be changed"
        elif path not in settable:
            problem = f"names the unknown or unsettable field '{path}'"
        else:
            continue
        violations.append(FieldViolation("update_mask", problem))
    if violations:
        raise InvalidArgument(violations)
    return {
        path: (getattr(message, path) if message.HasField(path) else None)
        for path in paths
        if path in settable
    }


def stream_message(
    item: StreamItem[T],
    response_type: Any,
    *,
    render: Callable[[T], Any],
    items_field: str,
    item_field: str,
) -> Any:
    """The protobuf message of one stream item, for any ``Watch*`` RPC.

    Every watch response has the same shape: ``revision``, ``event_time`` and one of
    ``snapshot`` (``reason`` and the repeated ``items_field``), ``change`` (``type`` and
    ``item_field``) or ``heartbeat``. A change's message is built once and shared by every
    subscriber that sees it the same way (added, modified or removed).
    """
    if isinstance(item, ViewChange):
        key = f"{response_type.__name__}:{item.type.value}"
        cached = item.change.memo.get(key)
        if cached is None:
            cached = response_type(revision=item.revision)
            cached.event_time.CopyFrom(timestamp(item.change.time))
            cached.change.type = CHANGE_TYPES[item.type]
            getattr(cached.change, item_field).CopyFrom(render(item.item))
            item.change.memo[key] = cached
        return cached
    response = response_type(revision=item.revision)
    response.event_time.GetCurrentTime()
    if isinstance(item, Snapshot):
        response.snapshot.reason = SNAPSHOT_REASONS[item.reason]
        getattr(response.snapshot, items_field).extend(render(i) for i in item.items)
    elif isinstance(item, Heartbeat):
        response.heartbeat.SetInParent()
    return response
