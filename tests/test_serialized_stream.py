"""Watch streams serialised once for all subscribers: each subscriber still gets exactly its
own stream (its filter's items, its revision), byte for byte what the message form says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal as D

from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as epb
from cts.stream.v1 import stream_pb2

from server.rpc.messages import SerializedStream, batch_parts, serialized_once, stream_message
from server.rpc.position_messages import (
    SNAPSHOT_PART,
    position_message,
    position_wire,
    watch_positions_messages,
)
from server.streams.topic import Change
from server.streams.watch import (
    ChangeType,
    Heartbeat,
    Snapshot,
    SnapshotReason,
    StreamItem,
    ViewBatch,
    ViewChange,
)
from tests.support.stored_positions import open_positions


@dataclass(frozen=True)
class Item:
    key: str
    colour: str


CONNECTION = "3f1d2c4b-0000-4000-8000-000000000001"

renders: list[Item] = []


def render(item: Item) -> pb.Connection:
    renders.append(item)
    return pb.Connection(id=item.key, name=item.colour)


def serialized() -> SerializedStream:
    return SerializedStream(
        pb.WatchConnectionsResponse,
        render=render,
        items_field="connections",
        item_field="connection",
    )


def as_message(item: StreamItem[Item]) -> pb.WatchConnectionsResponse:
    return stream_message(
        item,
        pb.WatchConnectionsResponse,
        render=render,
        items_field="connections",
        item_field="connection",
    )


def same_but_time(wire: bytes, expected: pb.WatchConnectionsResponse) -> None:
    """``wire`` is byte for byte ``expected`` serialised, but for its own sending time (each
    field once, in order: what Envoy's JSON transcoding needs)."""
    got = pb.WatchConnectionsResponse.FromString(wire)
    assert got.event_time.seconds > 0
    expected = pb.WatchConnectionsResponse.FromString(expected.SerializeToString())
    expected.event_time.CopyFrom(got.event_time)
    assert wire == expected.SerializeToString()


ITEMS = [Item("a", "red"), Item("b", "blue"), Item("c", "red")]


def test_a_snapshot_is_exactly_the_subscriber_s_items_and_reason() -> None:
    stream = serialized()
    for items, reason in [
        (ITEMS, SnapshotReason.INITIAL),
        ([i for i in ITEMS if i.colour == "red"], SnapshotReason.RESYNC),
        ([], SnapshotReason.RESUME_TOO_OLD),
    ]:
        snapshot = Snapshot(7, items, reason)
        wire = stream(snapshot)
        same_but_time(wire, as_message(snapshot))
        assert pb.WatchConnectionsResponse.FromString(wire).WhichOneof("event") == "snapshot"


def test_a_snapshot_body_is_shared_only_for_the_same_items_at_the_same_revision() -> None:
    stream = serialized()
    renders.clear()
    everything = stream(Snapshot(7, list(ITEMS), SnapshotReason.INITIAL))
    assert len(renders) == 3
    again = stream(Snapshot(7, list(ITEMS), SnapshotReason.RESYNC))  # another subscriber
    assert len(renders) == 3  # rendered once for both
    reds = stream(Snapshot(7, [ITEMS[0], ITEMS[2]], SnapshotReason.INITIAL))  # another filter
    later = stream(Snapshot(8, list(ITEMS), SnapshotReason.INITIAL))  # a later revision
    changed = [ITEMS[0], Item("b", "green"), ITEMS[2]]  # the same keys, a changed item
    newer = stream(Snapshot(7, changed, SnapshotReason.INITIAL))

    def names(wire: bytes) -> list[str]:
        message = pb.WatchConnectionsResponse.FromString(wire)
        return [c.name for c in message.snapshot.connections]

    assert names(everything) == names(again) == names(later) == ["red", "blue", "red"]
    resync = pb.WatchConnectionsResponse.FromString(again).snapshot.reason
    assert resync == stream_pb2.SNAPSHOT_REASON_RESYNC  # its own reason, the shared items
    assert [c.id for c in pb.WatchConnectionsResponse.FromString(reds).snapshot.connections] == [
        "a",
        "c",
    ]
    assert names(newer) == ["red", "green", "red"]
    assert pb.WatchConnectionsResponse.FromString(later).revision == 8


def test_a_change_is_serialised_once_per_way_it_is_seen() -> None:
    stream = serialized()
    change = Change(9, datetime(2026, 1, 2, tzinfo=UTC), "a", ITEMS[0], Item("a", "blue"))
    modified = ViewChange(ChangeType.MODIFIED, change)
    removed = ViewChange(ChangeType.REMOVED, change)  # through a "red only" filter
    renders.clear()
    first = stream(modified)
    assert stream(modified) is first and len(renders) == 1
    assert pb.WatchConnectionsResponse.FromString(first) == as_message(modified)
    gone = pb.WatchConnectionsResponse.FromString(stream(removed))
    assert gone.change.type != pb.WatchConnectionsResponse.FromString(first).change.type
    assert gone == as_message(removed)
    assert gone.event_time.ToDatetime(tzinfo=UTC) == change.time  # the change's own time


def test_a_heartbeat_is_a_heartbeat() -> None:
    wire = serialized()(Heartbeat(11))
    message = pb.WatchConnectionsResponse.FromString(wire)
    assert message.WhichOneof("event") == "heartbeat" and message.revision == 11


def test_a_change_is_serialised_once_for_every_subscriber_that_sees_it_the_same_way() -> None:
    change = Change(7, datetime.now(UTC), "a", None, Item("a", "red"))
    message = as_message
    first, second = ViewChange(ChangeType.ADDED, change), ViewChange(ChangeType.ADDED, change)
    sent = serialized_once(first, message(first))
    assert serialized_once(second, message(second)) is sent  # one serialisation, shared
    assert sent == message(first).SerializeToString()
    removed = ViewChange(ChangeType.REMOVED, change)  # another subscriber's view of it
    assert (
        pb.WatchConnectionsResponse.FromString(
            serialized_once(removed, message(removed))
        ).change.type
        == stream_pb2.CHANGE_TYPE_REMOVED
    )
    snapshot = Snapshot(7, [Item("a", "red")], SnapshotReason.INITIAL)
    own = message(snapshot)
    assert serialized_once(snapshot, own) is own  # a subscriber's own: sent as it is


def _engine_response(change: ViewChange[Item]) -> bytes:
    return epb.WatchEnginesResponse(
        revision=change.revision,
        change=epb.EngineStatusChange(engine=epb.EngineStatus(connection_id=change.item.key)),
    ).SerializeToString()


def _batch(*revisions_keys: tuple[int, str]) -> ViewBatch[Item]:
    return ViewBatch(
        tuple(
            ViewChange(ChangeType.ADDED, Change(r, datetime.now(UTC), k, None, Item(k, "red")))
            for r, k in revisions_keys
        )
    )


def test_a_batch_is_its_changes_own_responses_in_order_byte_for_byte() -> None:
    (wire,) = batch_parts(_batch((3, "a"), (5, "b")), epb.WatchEnginesResponse, _engine_response)
    got = epb.WatchEnginesResponse.FromString(wire)
    assert got.revision == 5 and got.event_time.seconds > 0
    assert [r.change.engine.connection_id for r in got.batch.responses] == ["a", "b"]
    expected = epb.WatchEnginesResponse(revision=5, event_time=got.event_time)
    expected.batch.responses.extend(got.batch.responses)
    assert wire == expected.SerializeToString()  # fields in number order, each once


def test_a_batch_whose_rendering_outlasts_a_step_goes_out_in_parts_in_order() -> None:
    ticks = iter(range(100))  # each reading of the clock is one second later
    parts = list(
        batch_parts(
            _batch((3, "a"), (5, "b"), (8, "c"), (9, "d")),
            epb.WatchEnginesResponse,
            _engine_response,
            step_seconds=2,
            clock=lambda: float(next(ticks)),
        )
    )
    got = [epb.WatchEnginesResponse.FromString(part) for part in parts]
    # started at 0; a at 1 (<2), b at 2: a part; restarted at 3; c at 4, d is the last.
    assert [[r.change.engine.connection_id for r in g.batch.responses] for g in got] == [
        ["a", "b"],
        ["c", "d"],
    ]
    assert [g.revision for g in got] == [5, 9]  # each part's last change


def test_a_batch_larger_than_a_part_may_be_goes_out_in_parts_each_within_it() -> None:
    keys = ("a" * 40, "b" * 40, "c" * 40, "d" * 400, "e" * 40)
    batch = _batch(*((n + 1, key) for n, key in enumerate(keys)))
    sizes = [len(_engine_response(change)) for change in batch.changes]
    cap = sizes[0] + sizes[1]  # room for two small responses, not three
    parts = list(
        batch_parts(
            batch, epb.WatchEnginesResponse, _engine_response, step_seconds=3600, max_bytes=cap
        )
    )
    got = [epb.WatchEnginesResponse.FromString(part) for part in parts]
    # a and b fill a part; c starts the next; d alone is over the cap and goes alone; then e
    assert [[r.change.engine.connection_id[0] for r in g.batch.responses] for g in got] == [
        ["a", "b"],
        ["c"],
        ["d"],
        ["e"],
    ]
    assert [g.revision for g in got] == [2, 3, 4, 5]  # each part's last change
    assert all(
        sum(r.ByteSize() for r in g.batch.responses) <= cap
        for g in got
        if len(g.batch.responses) > 1
    )


def test_a_position_snapshot_goes_out_in_parts_each_rendered_within_a_step() -> None:
    views = open_positions(CONNECTION, 7)
    ticks = iter(range(1000))  # each reading of the clock is one second later
    parts = positions_parts(
        watch_positions_messages(
            Snapshot(42, views, SnapshotReason.INITIAL),
            step_seconds=2,
            clock=lambda: float(next(ticks)),
        )
    )
    # a part starts its clock, then each position read once: the second one ends the step
    assert [len(p.snapshot.positions) for p in parts] == [2, 2, 2, 1]
    assert [p.snapshot.more for p in parts] == [True, True, True, False]
    assert {p.revision for p in parts} == {42}
    assert {p.snapshot.reason for p in parts} == {stream_pb2.SNAPSHOT_REASON_INITIAL}
    assert [q.id for p in parts for q in p.snapshot.positions] == [str(v.id) for v in views]


def test_a_position_snapshot_part_holds_at_most_its_largest_size_and_an_empty_one_is_one() -> None:
    views = open_positions(CONNECTION, SNAPSHOT_PART + 1)
    parts = positions_parts(
        watch_positions_messages(Snapshot(1, views, SnapshotReason.INITIAL), step_seconds=3600)
    )
    assert [(len(p.snapshot.positions), p.snapshot.more) for p in parts] == [
        (SNAPSHOT_PART, True),
        (1, False),
    ]
    (empty,) = positions_parts(watch_positions_messages(Snapshot(1, [], SnapshotReason.RESYNC)))
    assert (len(empty.snapshot.positions), empty.snapshot.more) == (0, False)
    assert empty.snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESYNC


def test_a_position_snapshot_part_is_byte_for_byte_its_message_and_each_view_is_rendered_once() -> (
    None
):
    views = open_positions(CONNECTION, 3)
    marked = views[1].marked_at(D("101.5"))
    (wire,) = watch_positions_messages(
        Snapshot(9, [views[0], marked, views[2]], SnapshotReason.RESYNC), step_seconds=3600
    )
    assert isinstance(wire, bytes)
    parsed = epb.WatchPositionsResponse.FromString(wire)
    expected = epb.WatchPositionsResponse(revision=9)
    expected.event_time.CopyFrom(parsed.event_time)
    expected.snapshot.reason = stream_pb2.SNAPSHOT_REASON_RESYNC
    expected.snapshot.positions.extend(position_message(v) for v in (views[0], marked, views[2]))
    assert wire == expected.SerializeToString()  # fields in number order, each once
    assert parsed.snapshot.positions[1].mark_price == "101.5"
    # kept on the view for the next watcher; a copy (a new mark) is rendered afresh
    assert position_wire(views[0]) is views[0].memo
    assert views[0].marked_at(D("99")).memo is None
    assert views[0].restated(views[0].state, D("99")).memo is None
    assert replace(views[0], fees=D("1")).memo is None


def positions_parts(wires: Iterable[object]) -> list[epb.WatchPositionsResponse]:
    parsed = []
    for wire in wires:
        assert isinstance(wire, bytes)  # a snapshot's parts go out serialised
        parsed.append(epb.WatchPositionsResponse.FromString(wire))
    return parsed
