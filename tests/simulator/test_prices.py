"""The simulator's price model: a function of (seed, asset, wall-clock time), never of its start.

Every time is given through an injected clock or ``at=``; nothing sleeps. The restart test
drives a real simulator over HTTP with unmodified ccxt built as CTS builds it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.dialects.binance import BinanceDialect
from server.simulator.instruments import ASSET_BY_CODE, ASSETS
from server.simulator.prices import PriceBook
from server.simulator.server import Simulator
from tests.support.ccxt_checks import assert_ticker_matches

HOUR = 3600
DAY = 86400
YEAR = 365 * DAY
T = 1_717_171_717.25  # a wall-clock time in the middle of an hour (2024-05-31)
VOLATILITY = 5e-4  # the default


class Clock:
    """A wall clock the test sets by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def log_prices(book: PriceBook, base: str, times: Any) -> np.ndarray:
    return np.log([float(book.price(base, at=float(t))) for t in times])


# -- a function of (seed, asset, time) only ----------------------------------------------------

MOMENTS = [T, T - 1, T + 0.999, T - HOUR, T - DAY - 17, T - 400 * DAY, T + YEAR, 0.0, -5e8]


def test_books_created_at_different_times_quote_the_same_prices_and_candles() -> None:
    early_clock, late_clock = Clock(T - 30 * DAY - 1234.5), Clock(T + 3 * DAY + 77)
    early = PriceBook(9, clock=early_clock)
    late = PriceBook(9, clock=late_clock)
    early_clock.now = late_clock.now = T

    for asset in ASSETS:
        for moment in MOMENTS:
            assert early.price(asset.code, at=moment) == late.price(asset.code, at=moment)
        assert early.price(asset.code) == late.price(asset.code)
    for interval in (1, 60, 3600, DAY):
        assert early.candles("BTC", interval, limit=50) == late.candles("BTC", interval, limit=50)
        since = T - 300 * interval
        assert early.candles("ETH", interval, since=since) == late.candles(
            "ETH", interval, since=since
        )
    # Candles are read from the same prices: each opens at the price of its first second.
    for candle in late.candles("SOL", 60, limit=30):
        assert candle.open == late.price("SOL", at=candle.open_time / 1000)


def test_a_fresh_process_started_later_quotes_the_same_prices() -> None:
    """No cache or module state carries the path: another interpreter computes it afresh."""
    moments = [T, T - HOUR - 1, T + YEAR]
    book = PriceBook(9, clock=Clock(T))
    expected = [str(book.price(base, at=m)) for base in ("BTC", "DOGE") for m in moments]
    program = (
        "import json\n"
        "from server.simulator.prices import PriceBook\n"
        f"book = PriceBook(9, clock=lambda: {T + 5 * DAY!r})\n"
        f"moments = {moments!r}\n"
        "print(json.dumps([str(book.price(b, at=m)) for b in ('BTC', 'DOGE') for m in moments]))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", program],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(answer.stdout) == expected


def test_different_seeds_quote_different_prices() -> None:
    one, other = PriceBook(1, clock=Clock(T)), PriceBook(2, clock=Clock(T))

    for asset in ASSETS:
        assert one.price(asset.code, at=T) != other.price(asset.code, at=T)
    assert one.candles("BTC", 60, limit=20) != other.candles("BTC", 60, limit=20)


async def fetch_btc(sim: Simulator) -> tuple[dict[str, Any], list[list[float]]]:
    exchange = create_ccxt("binance", "spot", base_url=sim.base_url)
    try:
        ticker = await exchange.fetch_ticker("BTC/USDT")
        candles = await exchange.fetch_ohlcv("BTC/USDT", "1m", limit=30)
    finally:
        await exchange.close()
    return ticker, candles


async def test_a_restarted_simulator_continues_the_same_market() -> None:
    clock = Clock(T - 2 * HOUR - 345)  # the first simulator starts in an earlier hour
    first = Simulator(seed=31, clock=clock, dialects=[BinanceDialect])
    await first.start()
    try:
        clock.now = T
        ticker, candles = await fetch_btc(first)
    finally:
        await first.stop()
    assert_ticker_matches(ticker, "BTC", {first.prices.price("BTC", at=T)})

    clock.now = T + 5 * HOUR + 678  # restarted later ...
    second = Simulator(seed=31, clock=clock, dialects=[BinanceDialect])
    await second.start()
    try:
        clock.now = T  # ... and asked about the same wall-clock second
        again, candles_again = await fetch_btc(second)
    finally:
        await second.stop()

    assert again["last"] == ticker["last"]
    assert (again["open"], again["high"], again["low"]) == (
        ticker["open"],
        ticker["high"],
        ticker["low"],
    )
    assert candles_again == candles


# -- the shape of the walk ---------------------------------------------------------------------


def test_prices_are_continuous_across_hour_boundaries() -> None:
    book = PriceBook(5, clock=Clock(T))
    first_hour = math.floor(T / HOUR)
    hours = first_hour + np.arange(1500)
    boundary = log_prices(book, "BTC", hours * HOUR) - log_prices(book, "BTC", hours * HOUR - 1)
    inside = log_prices(book, "BTC", hours * HOUR + 1800) - log_prices(
        book, "BTC", hours * HOUR + 1799
    )

    # The step into a new hour is drawn like any other second's step: no jumps at anchors.
    assert np.abs(boundary).max() < 6 * VOLATILITY
    assert boundary.std() == pytest.approx(VOLATILITY, rel=0.1)
    assert boundary.std() == pytest.approx(inside.std(), rel=0.15)


@pytest.mark.parametrize("volatility", [1e-4, 5e-4, 2e-3])
def test_per_second_volatility_is_the_one_asked_for(volatility: float) -> None:
    book = PriceBook(8, volatility=volatility, clock=Clock(T))
    seconds = math.floor(T) + np.arange(3 * HOUR + 1)

    returns = np.diff(log_prices(book, "ETH", seconds))

    assert returns.std() == pytest.approx(volatility, rel=0.25)


def test_prices_stay_in_a_band_around_the_start_price_over_decades() -> None:
    book = PriceBook(3, clock=Clock(T))
    times = T - 40 * YEAR + np.arange(0, 80 * YEAR, 10 * DAY)  # 1984 to 2064

    for base in ("BTC", "XRP", "INJ"):
        start = float(ASSET_BY_CODE[base].start_price)
        prices = np.exp(log_prices(book, base, times))
        assert prices.min() > start / 20, base
        assert prices.max() < start * 20, base
        levels = np.log(prices / start)  # mean-reverting around the start price, no drift
        assert abs(levels.mean()) < 0.1, base
        assert 0.3 < levels.std() < 0.5, base
        halves = np.array_split(levels, 2)
        assert abs(halves[0].std() - halves[1].std()) < 0.1, base


def test_prices_lie_on_the_tick_grid() -> None:
    book = PriceBook(4, clock=Clock(T))
    for asset in ASSETS:
        for moment in (T, T + YEAR):
            price = book.price(asset.code, at=moment)
            assert price > 0
            assert price % asset.price_tick == 0, asset.code


# -- scripts -------------------------------------------------------------------------------------


def test_a_script_replaces_the_walk_until_unscripted() -> None:
    clock = Clock(T)
    book = PriceBook(6, clock=clock)
    walk = book.price("BTC", at=T + 10)

    book.script("BTC", ["100", "101.5", 99], start=T, step_seconds=2)
    assert [book.price("BTC", at=T + s) for s in (-1, 0, 1.9, 2, 4, 500)] == [
        Decimal(100),
        Decimal(100),
        Decimal(100),
        Decimal("101.5"),
        Decimal(99),
        Decimal(99),
    ]
    clock.now = T + 5
    (candle,) = book.candles("BTC", 60, limit=1)
    assert (candle.high, candle.low, candle.close) == (Decimal("101.5"), Decimal(99), Decimal(99))

    book.set_price("BTC", 123)
    assert book.price("BTC") == book.price("BTC", at=T + YEAR) == Decimal(123)

    book.unscript("BTC")
    assert book.price("BTC", at=T + 10) == walk


def test_a_volume_factor_multiplies_one_assets_volume_and_only_its() -> None:
    clock = Clock(T)
    book = PriceBook(6, clock=clock)
    before = {code: book.candles(code, HOUR, limit=24) for code in ("BTC", "ETH")}

    book.scale_volume("BTC", 1000)
    after = {code: book.candles(code, HOUR, limit=24) for code in ("BTC", "ETH")}

    assert [c.volume * 1000 for c in before["BTC"]] == [c.volume for c in after["BTC"]]
    assert [c.close for c in before["BTC"]] == [c.close for c in after["BTC"]]
    assert before["ETH"] == after["ETH"]
    with pytest.raises(ValueError, match="above 0"):
        book.scale_volume("BTC", 0)
    with pytest.raises(KeyError, match="no simulated asset"):
        book.scale_volume("NOPE", 2)
