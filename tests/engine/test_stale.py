"""Stale prices: an engine acts only on prices it just received, says when it has none, and
decides exits on the first fresh prices after an outage (a gap fill beyond the stop).

Prices as in test_trading.py: flat history at 100, default preset, trend/trailing. An open at
102 fills at 102.051; its stop-loss is 102.051 * 0.985 = 100.520235.
"""

from __future__ import annotations

from decimal import Decimal

from server.engine.positions import Status
from server.engine.status import Desired, EngineState
from server.engine.store import PositionStore
from tests.support.stepping import SLIPPAGE, Bench

D = Decimal


async def test_a_symbol_the_round_did_not_price_neither_opens_nor_exits(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    engine.run(Desired.PAUSED)
    await bench.prices(symbol, ["102"])  # the entry fires at 102, but paused: nothing opens
    engine.run(Desired.RUNNING)
    assert engine.book is not None and engine.book.open == {}

    # The next round leaves the symbol out: its entry still fires on the bar, its last price is
    # 102 — but that price is a round old, so nothing opens on it.
    bench.feed.unpriced = frozenset({symbol})
    await bench.prices(symbol, ["102"])
    assert engine.book.open == {}
    bench.feed.unpriced = frozenset()
    await bench.prices(symbol, ["102"])  # priced again: opens at 102.051
    (position,) = engine.book.open.values()
    assert position.state.entry_price == D("102.051")

    bench.feed.unpriced = frozenset({symbol})
    await bench.prices(symbol, ["100"])  # below the stop, but this round has no price for it
    await engine.flush()
    assert len(engine.book.open) == 1
    assert [p.status for p in bench.published] == [Status.OPEN]

    bench.feed.unpriced = frozenset()
    await bench.prices(symbol, ["100"])  # priced now: the stop-loss closes at 100 * (1 - slip)
    await engine.flush()
    assert engine.book.open == {}
    closed = bench.published[-1]
    assert (closed.status, closed.close_reason, closed.exit_price) == (
        Status.CLOSED,
        "stop_loss",
        D(100) * (1 - SLIPPAGE),
    )
    await engine.stop()


async def test_an_engine_without_fresh_prices_is_stale_opens_nothing_and_gaps_its_exits(
    bench: Bench,
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account), stale_seconds=0.3)
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102"])  # opens at 102.051
    fresh = engine.status
    assert fresh.stale_since is None and fresh.prices_at is not None
    assert engine.book is not None and len(engine.book.open) == 1

    # The exchange goes down: rounds fail. No round at all for 0.3 s makes the engine stale
    # (it notices while waiting, without any round arriving).
    bench.sim.faults.set({"down": True}, exchange="binance")
    stale = await bench.status_where(lambda s: s.stale_since is not None)
    assert stale.state is EngineState.RUNNING  # a condition, not a state
    assert stale.prices_at == fresh.prices_at  # the last fresh prices' time is kept

    before = len(bench.published)
    await bench.prices(symbol, ["104", "100"])  # failed rounds: nothing opens, nothing exits
    assert engine.status.metrics.stale_cycles == 2
    assert len(bench.published) == before and len(engine.book.open) == 1
    assert engine.status.stale_since == stale.stale_since

    # The fault is lifted while the market has fallen through the stop (100.52) to 99: the
    # first fresh round closes the position there, beyond its stop, and clears the condition.
    bench.sim.faults.clear()
    await bench.prices(symbol, ["99"])
    await engine.flush()
    closed = bench.published[-1]
    assert (closed.status, closed.close_reason, closed.exit_price) == (
        Status.CLOSED,
        "stop_loss",
        D(99) * (1 - SLIPPAGE),
    )
    assert engine.status.stale_since is None
    stored = await PositionStore(bench.book.db).find(
        connection_id=engine.connection_id, status=None, mode=None, limit=9
    )
    assert [(p.status, p.close_reason) for p in stored] == [(Status.CLOSED, "stop_loss")]
    await engine.stop()
