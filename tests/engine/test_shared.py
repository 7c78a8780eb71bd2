"""What engines share: bars and signals per round, history at loading — and the rules around
it: Block adds on a new bar only, and which figures are per run.

Engines here run against the exchange simulator with a stepped feed (``tests.support.stepping``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from server.engine.board import TICKERS_SECONDS, BoardKey, Boards, SharedHistory
from server.engine.presets import preset_for
from server.engine.signals import Bars, compute
from server.exchange.model import Candle, Ticker
from tests.support.stepping import Bench

D = Decimal


async def test_engines_on_one_market_share_one_board(bench: Bench) -> None:
    first = bench.engine(await bench.connect(bench.sim.open_account("binance")))
    second = bench.engine(await bench.connect(bench.sim.open_account("binance")))
    symbol = await bench.running(first)
    bench.feed.idle.clear()
    assert await bench.running(second) == symbol
    assert len(bench.boards) == 1
    (board,) = bench.boards._boards.values()
    assert board.engines == 2 and board.key.symbols == (symbol,)
    # The tickers and the symbol's candles were fetched once for both engines (the second
    # loaded within the same bar and the same minute).
    assert bench.history.fetches == 2
    await first.stop()
    assert board.engines == 1 and len(bench.boards) == 1
    await second.stop()
    assert len(bench.boards) == 0  # the last engine took the board with it


def test_a_board_computes_each_presets_signals_once_per_round() -> None:
    symbols = ("BTC/USDT", "ETH/USDT")
    history = {s: [candle(60_000 * i, close=D(100 + i % 7)) for i in range(60)] for s in symbols}
    boards = Boards()
    key = BoardKey(("binance", "spot", False, True), "1m", symbols)
    board = boards.join(key, lambda: Bars.of(symbols, history, "1m"))
    assert boards.join(key, lambda: Bars.of(symbols, {}, "1m")) is board  # joins, builds nothing
    default, aggressive = preset_for("default"), preset_for("aggressive")
    prices = {s: Ticker(s, D(104), None, None, None) for s in symbols}

    board.advance(prices, 1, 3_600.0)
    one, _ = board.signals(default)
    assert board.signals(default)[0] is one  # the second engine of the round: the same result
    board.signals(aggressive)
    assert board.computations == 2  # one pass per preset
    board.advance(prices, 1, 3_600.0)  # the same round again: nothing moves
    assert board.signals(default)[0] is one and board.computations == 2
    board.advance(prices, 2, 3_601.0)
    assert board.signals(default)[0] is not one and board.computations == 3
    assert board.signals(default)[0] == compute(board.bars, default)  # the engine's own pass


async def test_block_adds_one_block_per_new_bar_while_its_signal_lasts(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account), sets=("trend/block",))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102", "102.2", "102.4"])  # opens at 102; entry keeps firing
    assert engine.book is not None
    (opened,) = engine.book.open.values()
    assert opened.state.adds == 0  # same bar: the signal lasting is not a new confirmation

    base = opened.symbol.split("/")[0]
    bench.sim.prices.set_price(base, "102.6")
    await bench.feed.step(bench.bar_time + 3600)  # the first round of the next bar
    (added,) = engine.book.open.values()
    assert added.state.adds == 1  # the bar closed with the entry still on its side: one block

    bench.sim.prices.set_price(base, "102.7")
    await bench.feed.step(bench.bar_time + 3601)  # later in that bar: no second block
    (still,) = engine.book.open.values()
    assert still.state.adds == 1
    await engine.stop()


async def test_run_figures_start_again_at_a_restart_and_lifetime_ones_go_on(
    bench: Bench,
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    # Opens at 102.051; the trailing stop closes at 103.4 and it opens again at 103.4517.
    await bench.prices(symbol, ["102", "104", "103.4"])
    before = engine.current()
    assert (before.metrics.cycles, before.trading.trades) == (3, 3)
    assert (before.trading.open_pseudo, before.trading.closed_pseudo) == (1, 1)
    await engine.stop()

    bench.feed.idle.clear()
    await bench.running(engine)  # the same engine started again
    await bench.prices(symbol, ["103.4"])
    after = engine.current()
    assert after.metrics.cycles == 1  # per run: this run's cycles
    assert after.trading.trades == 0  # per run: no fill yet in this run
    assert after.trading.open_pseudo == 1  # state now: the position taken back
    assert after.trading.closed_pseudo == 1  # lifetime: what storage holds
    await engine.stop()


ONE = D(1)


def candle(at_ms: int, close: Decimal = ONE) -> Candle:
    return Candle(at_ms, ONE, ONE, ONE, close, ONE)


async def test_history_is_fetched_once_while_its_newest_bar_is_open() -> None:
    now = [1_000_000.0]
    shared = SharedHistory(clock=lambda: now[0])
    key = (("binance", "spot", False, True), "BTC/USDT", "1m", 2)
    release = asyncio.Event()
    fetched = 0

    async def fetch() -> list[Candle]:
        nonlocal fetched
        fetched += 1
        await release.wait()
        return [candle(999_940_000), candle(1_000_000_000)]  # the newest began at 1,000,000 s

    loads = [asyncio.ensure_future(shared.candles(key, fetch)) for _ in range(3)]
    await asyncio.sleep(0)  # all three are waiting now
    release.set()
    results = await asyncio.gather(*loads)
    assert fetched == 1 and results[0] == results[1] == results[2]

    now[0] = 1_000_059.0  # the newest bar is still open: the same candles
    await shared.candles(key, fetch)
    assert fetched == 1
    now[0] = 1_000_060.0  # it closed: fetched again
    await shared.candles(key, fetch)
    assert fetched == 2


async def test_a_sources_tickers_are_fetched_once_a_minute() -> None:
    now = [1_000_000.0]
    shared = SharedHistory(clock=lambda: now[0])
    bybit, okx = ("bybit", "spot", False, True), ("okx", "spot", False, True)
    fetched: list[str] = []

    def fetch(exchange: str) -> Callable[[], Awaitable[dict[str, Ticker]]]:
        async def tickers() -> dict[str, Ticker]:
            fetched.append(exchange)
            return {"BTC/USDT": Ticker("BTC/USDT", D(len(fetched)), None, None, None)}

        return tickers

    first = await shared.tickers(bybit, fetch("bybit"))
    now[0] += TICKERS_SECONDS - 1
    assert await shared.tickers(bybit, fetch("bybit")) == first  # within the minute: shared
    await shared.tickers(okx, fetch("okx"))  # another source: its own
    now[0] += 1
    later = await shared.tickers(bybit, fetch("bybit"))  # a minute on: read again
    assert fetched == ["bybit", "okx", "bybit"] and later["BTC/USDT"].last == 3
    with pytest.raises(TypeError):
        later["ETH/USDT"] = later["BTC/USDT"]  # type: ignore[index]  # shared: read-only


async def test_a_failed_history_fetch_is_not_kept() -> None:
    shared = SharedHistory()
    key = (("okx", "spot", False, True), "ETH/USDT", "1m", 2)
    calls = 0

    async def failing() -> list[Candle]:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    for _ in range(2):
        with contextlib.suppress(ConnectionError):
            await shared.candles(key, failing)
    assert calls == 2  # each load tried again: a failure is never served from the cache


async def test_a_load_waiting_on_a_cancelled_fetch_fetches_itself() -> None:
    shared = SharedHistory()
    key = (("bybit", "spot", False, True), "SOL/USDT", "1m", 1)
    hang = asyncio.Event()

    async def hanging() -> list[Candle]:
        await hang.wait()
        return []

    async def quick() -> list[Candle]:
        return [candle(0)]

    first = asyncio.ensure_future(shared.candles(key, hanging))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(shared.candles(key, quick))
    await asyncio.sleep(0)
    first.cancel()  # its engine stopped while loading
    assert await waiting == (candle(0),)
    assert first.cancelled()
