"""How the Live trading page reads trading data: money in Decimal, signals, the PnL curve, which
commands are offered, and the position feed's bookkeeping. No server: plain messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cts.engine.v1 import engine_pb2 as pb
from cts.stream.v1 import stream_pb2
from google.protobuf import timestamp_pb2

from webui.components.engine_panel import allowed
from webui.components.pnl_chart import cumulative
from webui.components.positions_panel import closed_row, open_row, realized_total
from webui.components.signals_table import signal_row
from webui.components.status import money
from webui.feeds import PositionFeed, PositionUpdate, UpdateKind

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def stamp(seconds: int) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(START + timedelta(seconds=seconds))
    return value


def position(id: str, mode: str = "pseudo", pnl: str = "", closed: int | None = None) -> Any:
    made = pb.Position(
        id=id,
        mode=mode,
        set_id="trend/trailing",
        symbol="BTC/USDT",
        side="long",
        status="open" if closed is None else "closed",
        quantity="0.097990220575",
        average_price="102.051",
        entry_price="102.051",
        realized_pnl=pnl,
        opened_at=stamp(0),
    )
    if closed is not None:
        made.closed_at.CopyFrom(stamp(closed))
        made.close_reason = "engine_stop"
        made.exit_price = "101.949"
    return made


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("-0.071412345", "-0.0714"),
        ("2.5", "+2.5000"),
        ("0.00004999", "0.0000"),  # rounds to zero: no sign
        ("-0.00005", "0.0000"),  # half-even: -0.00005 -> -0.0000, shown as zero
        ("0.00015", "+0.0002"),
        ("123456789.123456789012", "+123456789.1235"),
        ("", "—"),
    ],
)
def test_money_is_rounded_in_decimal_with_its_sign(text: str, shown: str) -> None:
    assert money(text) == shown


def test_a_signal_row_shows_sides_with_strengths_in_percent() -> None:
    row = signal_row(
        pb.SymbolSignals(
            symbol="BTC/USDT",
            direction=1,
            direction_strength=0.3 / 102,
            move=-1,
            move_strength=0.02,
            active=True,
            optimal=["trend/trailing", "trend/dca"],
        )
    )
    assert {k: v for k, v in row.items() if not k.endswith("_class")} == {
        "symbol": "BTC/USDT",
        "direction": "long · 0.29 %",
        "move": "short · 2.00 %",
        "active": "yes",
        "active_advanced": "no",
        "optimal": "trend/trailing, trend/dca",
    }
    assert signal_row(pb.SymbolSignals(symbol="X/USDT"))["direction"] == "none · 0.00 %"


def test_position_rows_keep_prices_as_sent_and_round_pnl() -> None:
    opened = position("a")
    opened.mark_price, opened.unrealized_pnl = "102", "-0.004997501249"
    row = open_row(opened)
    assert (row["average_price"], row["mark_price"], row["unrealized_pnl"]) == (
        "102.051",
        "102",
        "-0.0050",
    )
    assert row["unrealized_pnl_class"] == "text-negative"
    closed = closed_row(position("b", pnl="-0.020390", closed=5))
    assert (closed["exit_price"], closed["realized_pnl"], closed["close_reason"]) == (
        "101.949",
        "-0.0204",
        "Engine stop",
    )


def test_the_pnl_curve_sums_in_decimal_in_closing_order() -> None:
    closed = [
        position("late", pnl="0.2", closed=30),
        position("early", pnl="0.1", closed=10),
        position("middle", pnl="-0.3", closed=20),
    ]
    at = [stamp(s).ToMilliseconds() for s in (10, 20, 30)]
    # 0.1 + (-0.3) + 0.2 is exactly 0 in Decimal (in floats it is 2.8e-17).
    assert cumulative(closed) == [[at[0], 0.1], [at[1], -0.2], [at[2], 0.0]]
    assert realized_total(closed) == "0.0"
    assert cumulative([]) == [] and realized_total([]) == "0"


def test_stop_and_close_is_offered_while_running_or_while_positions_are_open() -> None:
    running = pb.EngineStatus(state="running", desired="running")
    stopped = pb.EngineStatus(state="stopped", desired="stopped")
    assert allowed(running)["stop"] and allowed(running)["stop_close"]
    assert not allowed(stopped)["stop"] and not allowed(stopped)["stop_close"]
    assert allowed(stopped, open_positions=2)["stop_close"]
    assert not allowed(stopped, open_positions=2)["stop"]


def change(kind: int, item: Any) -> pb.WatchPositionsResponse:
    return pb.WatchPositionsResponse(revision=1, change=pb.PositionChange(type=kind, position=item))


def test_the_position_feed_applies_snapshot_and_changes_and_trims_old_closes() -> None:
    feed = PositionFeed(backend=None, token="t", connection_id="c")  # type: ignore[arg-type]
    feed.closed_kept = 2
    seen: list[PositionUpdate] = []
    feed.updated.subscribe(seen.append)
    snapshot = pb.WatchPositionsResponse(
        revision=1,
        snapshot=pb.PositionSnapshot(
            positions=[position("open-1"), position("old", pnl="1", closed=1)]
        ),
    )
    feed._apply(snapshot)
    assert feed.synced and set(feed.positions) == {"open-1", "old"}
    assert seen[-1].kind is UpdateKind.RESET

    added = stream_pb2.CHANGE_TYPE_ADDED
    feed._apply(change(added, position("live-1", mode="live", pnl="2", closed=3)))
    feed._apply(change(added, position("open-1", pnl="0.5", closed=5)))  # it closed
    assert [p.id for p in feed.select("pseudo", "closed")] == ["open-1"]  # "old" trimmed
    assert [p.id for p in feed.select("live", "closed")] == ["live-1"]
    assert feed.select("pseudo", "open") == []
    assert seen[-1].kind is UpdateKind.UPSERT and seen[-1].position is not None

    feed._apply(change(stream_pb2.CHANGE_TYPE_REMOVED, position("live-1", mode="live")))
    assert set(feed.positions) == {"open-1"}
    assert seen[-1].kind is UpdateKind.REMOVE
