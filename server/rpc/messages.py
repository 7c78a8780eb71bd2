"""Helpers shared by the servicers for turning protobuf messages into domain input and back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from cts.stream.v1 import stream_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from server.errors import FieldViolation, InvalidArgument
from server.streams.topic import STEP_SECONDS
from server.streams.watch import (
    ChangeType,
    Heartbeat,
    Snapshot,
    SnapshotReason,
    StreamItem,
    ViewBatch,
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
        return _change_message(item, response_type, render, item_field)
    if isinstance(item, ViewBatch):
        raise TypeError("a batch is put together by batch_parts")
    response = response_type(revision=item.revision)
    response.event_time.GetCurrentTime()
    if isinstance(item, Snapshot):
        response.snapshot.reason = SNAPSHOT_REASONS[item.reason]
        getattr(response.snapshot, items_field).extend(render(i) for i in item.items)
    elif isinstance(item, Heartbeat):
        response.heartbeat.SetInParent()
    return response


def _change_message(
    item: ViewChange[T], response_type: Any, render: Callable[[T], Any], item_field: str
) -> Any:
    key = (response_type, item.type)
    cached = item.change.memo.get(key)  # type: ignore[call-overload]
    if cached is None:
        cached = response_type(revision=item.revision)
        cached.event_time.CopyFrom(timestamp(item.change.time))
        cached.change.type = CHANGE_TYPES[item.type]
        getattr(cached.change, item_field).CopyFrom(render(item.item))
        item.change.memo[key] = cached  # type: ignore[index]
    return cached


def serialized_once(item: StreamItem[Any], message: Any) -> Any:
    """A change's ``message`` serialised once for every subscriber that sees the change the
    same way (kept in :attr:`Change.memo`), to be sent as it is (:class:`PreSerialized`);
    snapshots and heartbeats, which are each subscriber's own, as they are. With a thousand
    engines and ten watchers, serialising each change per watcher was a good part of the
    streams' cost."""
    if not isinstance(item, ViewChange):
        return message
    key = (bytes, type(message), item.type)
    cached = item.change.memo.get(key)  # type: ignore[call-overload]
    if cached is None:
        cached = item.change.memo[key] = message.SerializeToString()  # type: ignore[index]
    return cached


#: The most a batch's part holds of its changes' responses (bytes): a quarter of the 4 MiB a
#: gRPC client accepts by default. A thousand marks events of 60-65 positions each come to
#: 3.8-4.1 MiB, and position watchers that had fallen that far behind lost their streams.
MAX_PART_BYTES = 1 << 20


def batch_parts(
    item: ViewBatch[Any],
    response_type: Any,
    one: Callable[[ViewChange[Any]], bytes],
    *,
    step_seconds: float = STEP_SECONDS,
    max_bytes: int = MAX_PART_BYTES,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[bytes]:
    """A batch as ``batch`` responses, serialised: one, or several in order when rendering its
    changes (``one``; each is rendered once, by the first watcher that sends it) takes longer
    than ``step_seconds`` — the stream sends each part, and so lets the loop run, before it
    renders the next — or when their responses would come to more than ``max_bytes`` (a
    change larger than that alone goes out alone). Each part is what :func:`batch_bytes`
    makes of its changes."""
    encoded: list[bytes] = []
    size = 0
    revision = 0  # the last encoded change's
    started = clock()
    last = item.changes[-1]
    for change in item.changes:
        response = one(change)
        if encoded and size + len(response) > max_bytes:
            yield batch_bytes(response_type, revision, encoded)
            encoded, size, started = [], 0, clock()
        encoded.append(response)
        size += len(response)
        revision = change.revision
        if clock() - started >= step_seconds and change is not last:
            yield batch_bytes(response_type, change.revision, encoded)
            encoded, size, started = [], 0, clock()
    if encoded:
        yield batch_bytes(response_type, item.revision, encoded)


def batch_bytes(response_type: Any, revision: int, encoded: Sequence[bytes]) -> bytes:
    """A ``batch`` response, serialised, put together from each change's own serialised
    response (``encoded``, shared with every watcher that gets that change alone or in a
    batch): ``revision`` (the last change's), ``event_time`` (now), then the ``batch`` field
    with them as its repeated ``responses`` — byte for byte what serialising the message
    gives."""
    batch = response_type.DESCRIPTOR.fields_by_name["batch"]
    responses = batch.message_type.fields_by_name["responses"]
    body = repeated(responses.number, encoded)
    return stamped_head(response_type, revision) + length_delimited(batch.number, body)


def stamped_head(response_type: Any, revision: int) -> bytes:
    """A watch response's first fields, serialised: ``revision`` and ``event_time`` (now)."""
    head = response_type(revision=revision)
    head.event_time.GetCurrentTime()
    return head.SerializeToString()  # type: ignore[no-any-return]


def length_delimited(number: int, payload: bytes) -> bytes:
    """Field ``number`` holding ``payload`` (a serialised message), as it goes on the wire."""
    return b"".join((_varint(number << 3 | 2), _varint(len(payload)), payload))


def repeated(number: int, payloads: Iterable[bytes]) -> bytes:
    """Repeated message field ``number`` holding ``payloads`` (serialised), in order."""
    tag = _varint(number << 3 | 2)
    return b"".join(b"".join((tag, _varint(len(p)), p)) for p in payloads)


def _varint(value: int) -> bytes:
    """``value`` (not negative) as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class SerializedStream:
    """The wire form (bytes) of a ``Watch*`` stream's items, shared across its subscribers.

    With a thousand subscribers, building and serialising each one's snapshot (every item
    copied into a response) and each change's message per subscriber was most of the server's
    work. Here a change is serialised once (kept in :attr:`Change.memo` per response type and
    change type), and a snapshot's items once per revision and exact list of items: a
    subscriber whose filter selects other items, or the same items at another revision, gets
    its own. What differs per subscriber (``revision``, ``event_time``, the snapshot's
    ``reason``) is serialised per message and the snapshot field put together around the
    shared items, byte for byte what serialising the whole message gives (fields in number
    order, each once: Envoy's JSON transcoding reads it as it comes).

    The handler must send these bytes as they are (see :class:`PreSerialized`).
    """

    SNAPSHOTS = 8  # snapshot items kept (distinct filters or revisions watched at once)

    def __init__(
        self,
        response_type: Any,
        *,
        render: Callable[[T], Any],
        items_field: str,
        item_field: str,
    ) -> None:
        self._response_type = response_type
        self._render = render
        self._items_field = items_field
        self._item_field = item_field
        snapshot = response_type.DESCRIPTOR.fields_by_name["snapshot"]
        self._snapshot_type = type(response_type().snapshot)
        self._snapshot_number = snapshot.number
        # (revision, id of each item) -> (the items, kept so that no id is reused while
        # cached; their encoding)
        self._bodies: dict[tuple[int, tuple[int, ...]], tuple[Sequence[Any], bytes]] = {}

    def __call__(self, item: StreamItem[Any]) -> bytes:
        if isinstance(item, ViewChange):
            message = _change_message(item, self._response_type, self._render, self._item_field)
            encoded: bytes = serialized_once(item, message)
            return encoded
        if isinstance(item, ViewBatch):
            raise TypeError("a batch is put together by batch_parts")
        if isinstance(item, Heartbeat):
            head = self._response_type(revision=item.revision)
            head.event_time.GetCurrentTime()
            head.heartbeat.SetInParent()
            return head.SerializeToString()  # type: ignore[no-any-return]
        reason = self._snapshot_type(reason=SNAPSHOT_REASONS[item.reason]).SerializeToString()
        body = self._items(item) + reason
        return stamped_head(self._response_type, item.revision) + length_delimited(
            self._snapshot_number, body
        )

    def _items(self, snapshot: Snapshot[Any]) -> bytes:
        """The encoding of the snapshot's repeated items field."""
        items = snapshot.items
        key = (snapshot.revision, tuple(map(id, items)))
        cached = self._bodies.get(key)
        if cached is not None:
            return cached[1]
        body = self._snapshot_type()
        getattr(body, self._items_field).extend(self._render(i) for i in items)
        encoded: bytes = body.SerializeToString()
        if len(self._bodies) >= self.SNAPSHOTS:
            del self._bodies[next(iter(self._bodies))]  # the oldest
        self._bodies[key] = (items, encoded)
        return encoded
