"""Tickers, order books, my trades, leverage and positions of the simulator's dialects through
unmodified ccxt (built as CTS builds it), each answer judged by ccxt's own validators
(``ccxt/test/exchange/base``) and checked against what the simulator holds."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import ccxt.test.exchange.base as validators
import pytest

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.ledger import Account
from server.simulator.server import Simulator

SYMBOLS = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
MARKETS = [(e, t) for e in ("binance", "bybit", "okx") for t in ("spot", "perpetual_futures")]
Connect = Callable[..., Any]
# Properties the real exchange leaves out too, so ccxt's validators must skip them:
BOOK_SKIPS = {
    # Binance's spot depth carries no time (its futures depth does).
    ("binance", "spot"): {"timestamp": True, "datetime": True},
}
POSITION_SKIPS = {
    # ccxt reads no margin mode from a Bybit unified account's positions (it is account-wide).
    "bybit": {"marginMode": True},
}


def now_ms() -> int:
    return int(time.time() * 1000)


def num(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=3)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def connect(sim: Simulator) -> AsyncIterator[Connect]:
    """ccxt instances for the simulator; with ``account``, signed with its keys."""
    made: list[Any] = []

    def make(exchange: str, api_type: str, account: Account | None = None) -> Any:
        client = create_ccxt(
            exchange,
            api_type,
            api_key=account.api_key if account else None,
            secret=account.secret if account else None,
            passphrase=account.passphrase if account else None,
            base_url=sim.base_url,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


# -- tickers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("exchange", "api_type"), MARKETS)
async def test_ticker_opens_within_its_day_range(exchange: str, api_type: str) -> None:
    """The price 24 h ago counts in high and low: a drop right after it left the open above
    the high before."""
    hour = math.floor(time.time() / 3600) * 3600
    frozen = float(hour + 1800)  # mid-hour: the first hourly candle starts 30 min after open
    sim = Simulator(seed=3, clock=lambda: frozen)
    sim.prices.script("BTC", ["60000", "50000"], start=frozen - 86400, step_seconds=600)
    await sim.start()
    client = create_ccxt(exchange, api_type, base_url=sim.base_url)
    try:
        await client.load_markets()
        symbol = SYMBOLS[api_type]
        ticker = await client.fetch_ticker(symbol)
        validators.test_ticker(client, {}, "fetchTicker", ticker, symbol)
    finally:
        await client.close()
        await sim.stop()
    opened, high, low, last = (num(ticker[k]) for k in ("open", "high", "low", "last"))
    assert opened == Decimal(60000)
    assert (high, low, last) == (Decimal(60000), Decimal(50000), Decimal(50000))
