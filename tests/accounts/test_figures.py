"""Position figures of account summaries: loaded from storage as exact SQL sums, then kept
current from the position stream (an engine trading the simulator, round by round), with the
day rolling at midnight UTC (the accounts' clock is the test's)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.accounts import service
from server.engine.positions import Mode, PositionView, Status
from server.engine.store import PositionStore
from server.engine.strategies import Position, Side
from server.streams.topic import Change
from tests.accounts.conftest import Clock, OpenAccounts, summary_where
from tests.engine.test_trading import EXPECTED, PATH, money, quantity
from tests.support.stepping import Bench

D = Decimal


def position(
    connection_id: str,
    *,
    mode: Mode = Mode.PSEUDO,
    pnl: str | None = None,
    closed_at: datetime | None = None,
    symbol: str = "BTC/USDT",
    amount: str = "2",
    price: str = "100",
) -> PositionView:
    """A long position: open, or closed at ``closed_at`` with ``pnl`` realised."""
    state = Position(Side.LONG, D(amount), D(price), D(price), D(amount) * D(price), D(price))
    closed = pnl is not None
    return PositionView(
        id=uuid.uuid4(),
        connection_id=connection_id,
        mode=mode,
        set_id="trend/trailing",
        symbol=symbol,
        state=state,
        fees=D("0.1"),
        status=Status.CLOSED if closed else Status.OPEN,
        exit_price=D(price) if closed else None,
        realized_pnl=D(pnl) if pnl is not None else None,
        close_reason="take_profit" if closed else None,
        opened_at=(closed_at or datetime.now(UTC)) - timedelta(minutes=5),
        closed_at=closed_at,
    )


async def test_figures_follow_an_engine_as_it_opens_and_closes(
    bench: Bench, open_accounts: OpenAccounts
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    connection_id = await bench.connect(account)
    accounts = await open_accounts()
    engine = bench.engine(connection_id)
    symbol = await bench.running(engine)

    await bench.prices(symbol, PATH[:1])  # opens 10 USDT long at 102.051, marked at 102
    opened = await summary_where(accounts, connection_id, lambda s: s.pseudo.open_positions == 1)
    amount = quantity(D(10), D("102.051"))
    assert opened.pseudo.open_notional == amount * D(102)
    assert opened.pseudo.unrealized_pnl == money((D(102) - D("102.051")) * amount)
    assert (opened.pseudo.realized_pnl_today, opened.pseudo.realized_pnl_total) == (D(0), D(0))
    assert opened.quote_currency == "USDT"

    await bench.prices(symbol, PATH[1:])  # four trades in all, the last closed at 100
    total = sum((t.pnl for t in EXPECTED), D(0))
    done = await summary_where(
        accounts, connection_id, lambda s: s.pseudo.realized_pnl_total == total
    )
    assert done.pseudo.open_positions == 0
    assert done.pseudo.realized_pnl_today == total
    assert (done.pseudo.unrealized_pnl, done.pseudo.open_notional) == (D(0), D(0))
    assert done.live.open_positions == 0 and done.live.realized_pnl_total == 0
    await engine.stop()

    # A restart loads the same figures from storage.
    again = await open_accounts()
    (loaded,) = again.summaries([connection_id])
    assert (loaded.pseudo, loaded.live) == (done.pseudo, done.live)


async def test_figures_load_from_storage_as_exact_sums(
    bench: Bench, open_accounts: OpenAccounts, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    account = bench.sim.open_account("binance", balances={"USDT": 1})
    connection_id = await bench.connect(account)
    yesterday = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    today = datetime(2026, 3, 10, 0, 0, 0, tzinfo=UTC)
    store = PositionStore(bench.book.db)
    unmarked = position(connection_id, amount="0.5", price="80")
    await store.save(
        [
            position(connection_id, pnl="0.100000000001", closed_at=yesterday),
            position(connection_id, pnl="0.2", closed_at=today),
            position(connection_id, pnl="-0.05", closed_at=today + timedelta(hours=3)),
            position(connection_id, mode=Mode.LIVE, pnl="7.123456789012", closed_at=today),
            unmarked,
        ]
    )

    accounts = await open_accounts()
    (summary,) = accounts.summaries([connection_id])

    # Exact: a float sum would give 0.25000000000100003.
    assert summary.pseudo.realized_pnl_total == D("0.250000000001")
    assert summary.pseudo.realized_pnl_today == D("0.15")
    assert (summary.live.realized_pnl_total, summary.live.realized_pnl_today) == (
        D("7.123456789012"),
        D("7.123456789012"),
    )
    # The open position: no mark yet, so no unrealised PnL, and its notional at entry.
    assert summary.pseudo.open_positions == 1
    assert summary.pseudo.unrealized_pnl is None
    assert summary.pseudo.open_notional == D(40)

    # Marked (a re-mark on the stream): unrealised at the mark, notional at the mark.

    bench.position_topic.publish(unmarked.id, replace(unmarked, mark_price=D(90)))
    marked = await summary_where(accounts, connection_id, lambda s: s.pseudo.unrealized_pnl)
    assert (marked.pseudo.unrealized_pnl, marked.pseudo.open_notional) == (D(5), D(45))


async def test_today_starts_again_at_midnight_utc(
    bench: Bench, open_accounts: OpenAccounts, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 10, 23, 58, tzinfo=UTC)
    account = bench.sim.open_account("binance", balances={"USDT": 1})
    connection_id = await bench.connect(account)
    accounts = await open_accounts()
    first, second = position(connection_id), position(connection_id)
    for opened in (first, second):
        bench.position_topic.publish(opened.id, opened)
    await summary_where(accounts, connection_id, lambda s: s.pseudo.open_positions == 2)

    closing = clock.now + timedelta(minutes=1)
    closed = _closed(first, "1.5", closing)
    bench.position_topic.publish(closed.id, closed)
    before = await summary_where(accounts, connection_id, lambda s: s.pseudo.open_positions == 1)
    assert (before.pseudo.realized_pnl_today, before.pseudo.realized_pnl_total) == (
        D("1.5"),
        D("1.5"),
    )

    clock.now = datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC)
    accounts.roll_day()
    (after,) = accounts.summaries([connection_id])
    assert (after.pseudo.realized_pnl_today, after.pseudo.realized_pnl_total) == (D(0), D("1.5"))

    closed = _closed(second, "-0.25", clock.now)
    bench.position_topic.publish(closed.id, closed)
    later = await summary_where(accounts, connection_id, lambda s: s.pseudo.open_positions == 0)
    assert (later.pseudo.realized_pnl_today, later.pseudo.realized_pnl_total) == (
        D("-0.25"),
        D("1.25"),
    )
    # A close seen twice (a repeated announcement) counts once.
    bench.position_topic.publish(closed.id, closed)
    clock.now = datetime(2026, 3, 12, 0, 0, 1, tzinfo=UTC)  # and the next change rolls the day
    third = position(connection_id)
    bench.position_topic.publish(third.id, third)
    rolled = await summary_where(accounts, connection_id, lambda s: s.pseudo.open_positions == 1)
    assert (rolled.pseudo.realized_pnl_today, rolled.pseudo.realized_pnl_total) == (
        D(0),
        D("1.25"),
    )


def _closed(opened: PositionView, pnl: str, at: datetime) -> PositionView:

    return replace(
        opened,
        status=Status.CLOSED,
        realized_pnl=D(pnl),
        exit_price=opened.state.average_price,
        close_reason="take_profit",
        closed_at=at,
    )


async def test_changes_waiting_together_are_worked_through_in_steps_that_let_the_loop_run(
    bench: Bench, open_accounts: OpenAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = [
        await bench.connect(bench.sim.open_account("binance", balances={"USDT": 1}))
        for _ in range(2)
    ]
    accounts = await open_accounts()
    summaries, _ = accounts.topic.subscribe()
    monkeypatch.setattr(service, "STEP_SECONDS", 0.0)  # every change is a step of its own
    for connection_id in (first, second):  # both waiting for the follower at once
        opened = position(connection_id)
        bench.position_topic.publish(opened.id, opened)
    async with asyncio.timeout(20):
        got = await summaries.next()
        # the first account's summary went out, and others ran, before the second's change
        # was applied (all at once, both summaries would be waiting here)
        assert isinstance(got, Change) and got.key == first
        assert got.current.pseudo.open_positions == 1
        assert summaries.take_ready(10) == []
        later = await summaries.next()
    assert isinstance(later, Change) and later.key == second
    summaries.close()
