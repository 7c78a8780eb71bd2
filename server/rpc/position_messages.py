"""Protobuf forms of positions, their stream, and the engines' progression."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from cts.engine.v1 import engine_pb2 as pb

from server.engine.marks import PositionEvent, PositionMarks
from server.engine.positions import PositionView
from server.engine.status import EngineStatus
from server.rpc.engine_messages import metrics_message, trading_message
from server.rpc.messages import (
    SNAPSHOT_REASONS,
    capped32,
    decimal_text,
    length_delimited,
    repeated,
    stamped_head,
    stream_message,
    timestamp,
)
from server.streams.topic import STEP_SECONDS
from server.streams.watch import Snapshot, StreamItem, ViewChange

SNAPSHOT_PART = 1000  # positions per message of a snapshot


def _text(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value)


def position_message(position: PositionView) -> pb.Position:
    state = position.state
    message = pb.Position(
        id=str(position.id),
        connection_id=position.connection_id,
        mode=position.mode.value,
        set_id=position.set_id,
        symbol=position.symbol,
        side="long" if state.side > 0 else "short",
        status=position.status.value,
        quantity=decimal_text(state.quantity),
        average_price=decimal_text(state.average_price),
        entry_price=decimal_text(state.entry_price),
        order_value=decimal_text(state.order_value),
        best_price=decimal_text(state.best_price),
        adds=state.adds,
        trailing_armed=state.trailing_armed,
        fees=decimal_text(position.fees),
        mark_price=_text(position.mark_price),
        unrealized_pnl=_text(position.unrealized_pnl),
        exit_price=_text(position.exit_price),
        realized_pnl=_text(position.realized_pnl),
        close_reason=position.close_reason or "",
        follows="" if position.follows is None else str(position.follows),
        opened_at=timestamp(position.opened_at),
    )
    if position.closed_at is not None:
        message.closed_at.CopyFrom(timestamp(position.closed_at))
    return message


def marks_message(marks: PositionMarks) -> pb.PositionMarks:
    return pb.PositionMarks(
        connection_id=marks.connection_id,
        marks=[
            pb.PositionMark(
                position_id=str(p.id),
                mark_price=_text(p.mark_price),
                unrealized_pnl=_text(p.unrealized_pnl),
                best_price=decimal_text(p.state.best_price),
                trailing_armed=p.state.trailing_armed,
            )
            for p in marks.positions
        ],
    )


def watch_positions_messages(
    item: StreamItem[PositionEvent],
    *,
    step_seconds: float = STEP_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[pb.WatchPositionsResponse | bytes]:
    """The messages of one stream item: a snapshot in parts, serialised (``more`` on all but
    the last), anything else as one message. A part holds at most ``SNAPSHOT_PART`` positions
    (a thousand engines hold some 60,000 open ones, far past a client's 4 MB message limit)
    and no more than were rendered within ``step_seconds`` (at least one): the stream sends
    each part, and so lets the loop run, before it renders the next. (Parts of 1,000 held the
    loop for 25-50 ms each while ten watchers took their snapshots, every engine's cycle
    waiting.) Each position is rendered once per view (:func:`position_wire`): watchers that
    take their snapshots about the same time share the work."""
    if not isinstance(item, Snapshot):
        yield watch_positions_message(item)
        return
    items = item.items
    start = 0
    while True:
        began = clock()
        rendered = []
        for position in items[start : start + SNAPSHOT_PART]:
            assert isinstance(position, PositionView), "a snapshot holds positions, never marks"
            rendered.append(position_wire(position))
            if clock() - began >= step_seconds:
                break
        start += len(rendered)
        yield _snapshot_part(item, rendered, more=start < len(items))
        if start >= len(items):
            return


def position_wire(position: PositionView) -> bytes:
    """``position_message(position)`` serialised, made once per view and kept on it (a view
    never changes; its copies start without it)."""
    wire = position.memo
    if not isinstance(wire, bytes):
        wire = position_message(position).SerializeToString()
        object.__setattr__(position, "memo", wire)  # (the one field a frozen view lets change)
    return wire


_SNAPSHOT = pb.WatchPositionsResponse.DESCRIPTOR.fields_by_name["snapshot"].number
_POSITIONS = pb.PositionSnapshot.DESCRIPTOR.fields_by_name["positions"].number


def _snapshot_part(item: Snapshot[PositionEvent], positions: list[bytes], *, more: bool) -> bytes:
    """A snapshot response with these serialised positions, byte for byte what serialising the
    message gives (fields in number order, each once)."""
    rest = pb.PositionSnapshot(reason=SNAPSHOT_REASONS[item.reason], more=more)
    body = repeated(_POSITIONS, positions) + rest.SerializeToString()
    head = stamped_head(pb.WatchPositionsResponse, item.revision)
    return head + length_delimited(_SNAPSHOT, body)


def watch_positions_message(item: StreamItem[PositionEvent]) -> pb.WatchPositionsResponse:
    if isinstance(item, ViewChange) and isinstance(item.item, PositionMarks):
        change = item.change  # rendered once for every watcher that sees it
        cached = change.memo.get("marks")
        if not isinstance(cached, pb.WatchPositionsResponse):
            cached = pb.WatchPositionsResponse(revision=change.revision)
            cached.event_time.CopyFrom(timestamp(change.time))
            cached.marks.CopyFrom(marks_message(item.item))
            change.memo["marks"] = cached
        return cached
    return stream_message(
        item,
        pb.WatchPositionsResponse,
        render=_position_only,
        items_field="positions",
        item_field="position",
    )


def _position_only(event: PositionEvent) -> pb.Position:
    assert isinstance(event, PositionView), "marks are rendered as marks, never as a position"
    return position_message(event)


def progression_message(statuses: Sequence[EngineStatus]) -> pb.EngineProgression:
    message = pb.EngineProgression(
        engines=[
            pb.EngineProgress(
                connection_id=s.connection_id,
                state=s.state.value,
                metrics=metrics_message(s.metrics),
                trading=trading_message(s.trading),
            )
            for s in statuses
        ],
        cycles=capped32(sum(s.metrics.cycles for s in statuses)),
        trades=capped32(sum(s.trading.trades for s in statuses)),
        open_pseudo_positions=sum(s.trading.open_pseudo for s in statuses),
        open_live_positions=sum(s.trading.open_live for s in statuses),
        realized_pnl=decimal_text(sum((s.trading.realized_pnl for s in statuses), Decimal(0))),
        unrealized_pnl=decimal_text(sum((s.trading.unrealized_pnl for s in statuses), Decimal(0))),
    )
    for row, status in zip(message.engines, statuses, strict=True):
        if status.started_at is not None:
            row.started_at.CopyFrom(timestamp(status.started_at))
    return message
