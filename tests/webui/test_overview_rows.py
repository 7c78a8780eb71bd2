"""How the Overview reads account figures: money with its currency and places, totals per quote
currency, position rows, the PnL chart's points and the account summary feed's bookkeeping. No
server: plain messages (the page against a real server is in test_overview*.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cts.connection.v1 import account_pb2 as apb
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as epb
from cts.stream.v1 import stream_pb2
from google.protobuf import timestamp_pb2

from webui.account_feeds import AccountSummaryFeed, OpenPositionFeed, SummaryUpdate
from webui.account_totals import SummaryTotals, currency_totals
from webui.components.overview_accounts import account_row, matches
from webui.components.overview_chart import options, points
from webui.components.overview_money import amount, held_for, percent, quote_of
from webui.components.overview_positions import PositionFilters, position_row
from webui.feeds import UpdateKind

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def stamp(seconds: float = 0) -> timestamp_pb2.Timestamp:
    made = timestamp_pb2.Timestamp()
    made.FromDatetime(NOW + timedelta(seconds=seconds))
    return made


def summary(
    connection_id: str, currency: str, equity: str, today: str = "0", *, read: bool = True
) -> apb.AccountSummary:
    made = apb.AccountSummary(
        connection_id=connection_id,
        quote_currency=currency,
        balance=apb.AccountBalance(equity=equity, free=equity, used="0"),
        pseudo=apb.PositionFigures(
            open_positions=1,
            realized_pnl_today=today,
            realized_pnl_total=today,
            unrealized_pnl="0.5",
        ),
        live=apb.PositionFigures(open_positions=0, realized_pnl_today="0", realized_pnl_total="0"),
    )
    if read:
        made.balance.read_at.CopyFrom(stamp())
    return made


@pytest.mark.parametrize(
    ("value", "currency", "signed", "shown"),
    [
        ("10000", "USDT", False, "10,000.00 USDT"),
        ("0.071412345678", "USDT", True, "+0.07 USDT"),
        ("-0.004", "USDC", True, "0.00 USDC"),  # rounds to zero: no sign, no "-0.00"
        ("-12.345", "USD", True, "-12.34 USD"),  # half-even
        ("0.123456789012", "BTC", False, "0.12345679 BTC"),
        ("", "USDT", False, "—"),
        ("not a number", "USDT", False, "—"),
    ],
)
def test_money_shows_its_currency_at_its_places(
    value: str, currency: str, signed: bool, shown: str
) -> None:
    assert amount(value, currency, signed=signed) == shown


def test_totals_are_per_quote_currency_and_never_add_currencies() -> None:
    rows = currency_totals(
        [
            summary("a", "USDT", "100.10", today="1.005"),
            summary("b", "USDT", "50", today="-0.5"),
            summary("c", "BTC", "0.5"),
            summary("d", "USDT", "999", read=False),  # never read: no equity to add
        ]
    )
    assert [(r["currency"], r["accounts"], r["equity"]) for r in rows] == [
        ("BTC", "1", "0.50000000 BTC"),
        ("USDT", "3", "150.10 USDT"),
    ]
    usdt = rows[1]
    # Decimal sums: 1.005 - 0.5 + 0 = 0.505, shown at cents half-even.
    assert usdt["today"] == "+0.50 USDT / 0.00 USDT"
    assert usdt["unrealized"] == "+1.50 USDT / —"  # no live figure known
    assert usdt["open"] == "3 / 0"


def test_running_totals_match_the_totals_summed_anew_after_every_change() -> None:
    a1, a2 = summary("a", "USDT", "100.10", today="1.005"), summary("a", "USDT", "90", today="2")
    b1, c1 = summary("b", "USDT", "50", today="-0.5"), summary("c", "BTC", "0.5")
    d1 = summary("d", "USDT", "999", read=False)
    running = SummaryTotals([a1, b1])
    held = {"a": a1, "b": b1}
    # (old, new): changed, added, a currency's last account removed, read, removed.
    for old, new in ((a1, a2), (None, c1), (None, d1), (c1, None), (b1, None)):
        running.replace(old, new)
        key = (new or old).connection_id  # type: ignore[union-attr]
        if new is None:
            del held[key]
        else:
            held[key] = new
        assert running.rows() == currency_totals(held.values())
    assert [(r["currency"], r["accounts"], r["equity"]) for r in running.rows()] == [
        ("USDT", "2", "90.00 USDT")
    ]


def test_an_account_row_joins_connection_engine_and_summary() -> None:
    connection = cpb.Connection(
        id="c1", name="Demo", exchange="bybit", api_type="spot", is_live_trade=True
    )
    connection.health.score.value, connection.health.score.band = 93, "operational"
    engine = epb.EngineStatus(connection_id="c1", state="running")
    bare = account_row(connection, engine, None)
    assert (bare["market"], bare["health"], bare["engine"], bare["live_trading"]) == (
        "bybit · spot",
        "93 · operational",
        "running",
        "on",
    )
    assert bare["equity"] == bare["today_pseudo"] == bare["balance_read"] == "—"
    known = summary("c1", "USDT", "10000.123456")
    known.balance.error = "rate_limited"
    known.balance.unvalued_assets.extend(["XYZ", "ABC"])
    row = account_row(connection, engine, known)
    assert row["equity"] == "10,000.12 USDT"
    assert row["balance_read"] == (
        "2026-01-02 03:04:05 UTC · failed: rate_limited · not valued: XYZ, ABC"
    )
    assert (row["open"], row["unrealized_pseudo"], row["unrealized_live"]) == (
        "1 / 0",
        "+0.50 USDT",
        "—",
    )
    assert matches(row, "BYB") and matches(row, " demo ") and not matches(row, "okx")


def test_a_position_row_has_notional_pnl_percent_and_opening_time() -> None:
    position = epb.Position(
        id="p1",
        connection_id="c1",
        mode="pseudo",
        symbol="BTC/USDT:USDT",
        side="long",
        quantity="0.097990220575",
        average_price="102.051",
        mark_price="103",
        unrealized_pnl="0.092994",
        opened_at=stamp(-3725),
    )
    row = position_row(position, "Demo")
    assert quote_of(position.symbol) == "USDT"
    assert (row["average_price"], row["mark_price"]) == ("102.051", "103")  # as sent
    assert row["notional"] == "10.09 USDT"  # 0.097990220575 * 103 = 10.0929...
    assert (row["pnl"], row["pnl_class"]) == ("+0.09 USDT", "text-positive")
    assert row["pnl_percent"] == "+0.93 %"  # of the entry notional 10.0001...
    assert row["opened_at"] == "2026-01-02 02:02:00 UTC"
    assert row["opened_us"] == position.opened_at.ToMicroseconds()  # the browser counts on
    position.ClearField("mark_price")
    position.unrealized_pnl = ""
    unmarked = position_row(position, "Demo")
    assert (unmarked["mark_price"], unmarked["pnl"], unmarked["pnl_percent"]) == ("—", "—", "—")
    assert unmarked["notional"] == "10.00 USDT"  # at the average price


def test_filters_pick_account_symbol_mode_and_side() -> None:
    row = {"connection_id": "c1", "symbol": "ETH/USDT", "mode": "live", "side": "short"}
    filters = PositionFilters()
    assert filters.admits(row)
    filters.mode, filters.side = "live", "short"
    assert filters.admits(row)
    filters.account = "c2"
    assert not filters.admits(row)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5 s"),
        (600, "10 min"),
        (3 * 3600 + 300, "3 h 05 min"),
        (2 * 86400 + 4 * 3600, "2 d 04 h"),
    ],
)
def test_durations(seconds: int, shown: str) -> None:
    assert held_for(stamp(-seconds), NOW) == shown


def test_percent_of_nothing_is_unknown() -> None:
    assert percent(Decimal(1), Decimal(0)) == "—" and percent(None, Decimal(1)) == "—"


def test_the_chart_is_utc_and_keeps_pseudo_and_live_apart() -> None:
    series = apb.PnlSeries(
        quote_currency="USDT",
        points=[
            apb.PnlPoint(time=stamp(0), pseudo="0.1", live=""),
            apb.PnlPoint(time=stamp(60), pseudo="-0.2", live="1.5"),
        ],
    )
    made = options("USDT", series)
    assert made["useUTC"] is True and made["xAxis"]["name"] == "UTC"
    assert made["yAxis"]["name"] == "Realized PnL (USDT)"
    at = [stamp(0).ToMilliseconds(), stamp(60).ToMilliseconds()]
    assert [line["data"] for line in made["series"]] == [
        [[at[0], 0.1], [at[1], -0.2]],
        [[at[1], 1.5]],  # an unknown value is left out, not drawn as zero
    ]
    assert points(series, "live") == [[at[1], 1.5]]


def test_the_summary_feed_applies_snapshot_and_changes() -> None:
    feed = AccountSummaryFeed(backend=None, token="t")  # type: ignore[arg-type]
    seen: list[SummaryUpdate] = []
    feed.updated.subscribe(seen.append)
    feed._apply(
        apb.WatchAccountSummariesResponse(
            revision=3,
            snapshot=apb.AccountSummarySnapshot(summaries=[summary("a", "USDT", "1")]),
        )
    )
    assert feed.synced and set(feed.summaries) == {"a"} and seen[-1].kind is UpdateKind.RESET
    change = apb.AccountSummaryChange(
        type=stream_pb2.CHANGE_TYPE_MODIFIED, summary=summary("a", "USDT", "2")
    )
    feed._apply(apb.WatchAccountSummariesResponse(revision=4, change=change))
    assert feed.summaries["a"].balance.equity == "2" and feed.revision == 4
    assert seen[-1].kind is UpdateKind.UPSERT
    change.type = stream_pb2.CHANGE_TYPE_REMOVED
    feed._apply(apb.WatchAccountSummariesResponse(revision=5, change=change))
    assert feed.summaries == {} and seen[-1].kind is UpdateKind.REMOVE


def test_the_open_position_feed_forgets_closed_positions_but_says_they_closed() -> None:
    feed = OpenPositionFeed(backend=None, token="t")  # type: ignore[arg-type]
    seen = []
    feed.updated.subscribe(seen.append)
    opened = epb.Position(id="p", mode="pseudo", status="open", opened_at=stamp())
    feed._apply(
        epb.WatchPositionsResponse(revision=1, snapshot=epb.PositionSnapshot(positions=[opened]))
    )
    assert [p.id for p in feed.open_positions()] == ["p"]
    closed = epb.Position(id="p", mode="pseudo", status="closed", closed_at=stamp(1))
    feed._apply(
        epb.WatchPositionsResponse(
            revision=2,
            change=epb.PositionChange(type=stream_pb2.CHANGE_TYPE_MODIFIED, position=closed),
        )
    )
    assert feed.open_positions() == [] and feed.positions == {}
    assert seen[-1].position.status == "closed"


def test_the_position_feed_applies_a_snapshot_in_parts_once_whole_and_then_its_marks() -> None:
    feed = OpenPositionFeed(backend=None, token="t")  # type: ignore[arg-type]
    seen = []
    feed.updated.subscribe(seen.append)
    held = [
        epb.Position(id=name, mode="pseudo", status="open", opened_at=stamp(), mark_price="1")
        for name in ("a", "b", "c")
    ]
    feed._apply(
        epb.WatchPositionsResponse(
            revision=7, snapshot=epb.PositionSnapshot(positions=held[:2], more=True)
        )
    )
    # A part alone changes nothing, not even the revision a resume would start after.
    assert (feed.positions, feed.synced, feed.revision, seen) == ({}, False, 0, [])
    feed._apply(
        epb.WatchPositionsResponse(revision=7, snapshot=epb.PositionSnapshot(positions=held[2:]))
    )
    assert set(feed.positions) == {"a", "b", "c"} and feed.synced and feed.revision == 7
    assert [u.kind for u in seen] == [UpdateKind.RESET]

    marks = epb.PositionMarks(
        connection_id="x",
        marks=[
            epb.PositionMark(
                position_id="b",
                mark_price="2",
                unrealized_pnl="0.5",
                best_price="2",
                trailing_armed=True,
            ),
            epb.PositionMark(position_id="gone", mark_price="3"),  # not held: ignored
        ],
    )
    feed._apply(epb.WatchPositionsResponse(revision=8, marks=marks))
    b = feed.positions["b"]
    assert (b.mark_price, b.unrealized_pnl, b.best_price, b.trailing_armed) == (
        "2",
        "0.5",
        "2",
        True,
    )
    assert feed.positions["a"].mark_price == "1" and "gone" not in feed.positions
    assert [u.kind for u in seen] == [UpdateKind.RESET, UpdateKind.UPSERT]
    assert seen[-1].position.id == "b" and feed.revision == 8


def test_the_position_feed_applies_a_batch_as_its_responses_one_by_one() -> None:
    feed = OpenPositionFeed(backend=None, token="t")  # type: ignore[arg-type]
    seen = []
    feed.updated.subscribe(seen.append)
    feed._apply(epb.WatchPositionsResponse(revision=1, snapshot=epb.PositionSnapshot()))
    opened = epb.Position(id="p", mode="pseudo", status="open", opened_at=stamp())
    batch = epb.PositionBatch(
        responses=[
            epb.WatchPositionsResponse(
                revision=2,
                change=epb.PositionChange(type=stream_pb2.CHANGE_TYPE_ADDED, position=opened),
            ),
            epb.WatchPositionsResponse(
                revision=3,
                marks=epb.PositionMarks(marks=[epb.PositionMark(position_id="p", mark_price="7")]),
            ),
        ]
    )
    feed._received(epb.WatchPositionsResponse(revision=3, batch=batch))
    assert feed.positions["p"].mark_price == "7" and feed.revision == 3
    assert [u.kind for u in seen] == [UpdateKind.RESET, UpdateKind.UPSERT, UpdateKind.UPSERT]
