"""The Kraken Futures dialect against unmodified ccxt ``krakenfutures``, built as CTS builds it
for a kraken perpetual_futures connection; unified structures go through ccxt's validators."""

from __future__ import annotations

import base64
import functools
import os
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import pytest
from ccxt.test.exchange.base.test_balance import test_balance as check_balance
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book
from ccxt.test.exchange.base.test_position import test_position as check_position
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade

from server.simulator.dialects.kraken import KrakenFuturesDialect
from server.simulator.instruments import Kind
from server.simulator.ledger import Account
from server.simulator.server import Simulator
from tests.support.simulated import ccxt_instances, running_simulator

BTC = "BTC/USD:USD"
# ccxt's krakenfutures writes timeInForce in lower case ("gtc", "ioc"), outside the unified list.
ORDER_SKIPS = {"timeInForce": True}
# Kraken's openpositions gives side, size, entry price and time (and maxFixedLeverage only for
# isolated positions); ccxt's krakenfutures computes none of these others from them.
POSITION_SKIPS = dict.fromkeys(
    ("notional", "leverage", "unrealizedPnl", "markPrice", "collateral", "percentage"), True
)
Connect = Callable[..., Any]


def new_secret() -> str:
    return base64.b64encode(os.urandom(64)).decode()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(29, KrakenFuturesDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("krakenfutures", secret=new_secret())


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    async with ccxt_instances(sim, "kraken", account) as instances:
        yield functools.partial(instances.cts, "perpetual_futures")


async def test_markets_are_usd_perpetuals(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    assert exchange.id == "krakenfutures"
    since = time.time()
    markets = await exchange.load_markets()
    linear = [i for i in sim.ledgers["krakenfutures"].instruments if i.kind is Kind.LINEAR]
    assert set(markets) == {f"{i.base}/USD:USD" for i in linear}
    btc = markets[BTC]
    assert (btc["id"], btc["type"], btc["settle"]) == ("PF_XBTUSD", "swap", "USD")
    assert btc["linear"] is True
    assert (btc["precision"]["price"], btc["precision"]["amount"], btc["contractSize"]) == (
        0.1,
        0.00001,
        1,
    )
    for market in markets.values():
        check_market(exchange, {}, "fetchMarkets", market)
    assert [r.path for r in sim.requests_since(since)] == ["/derivatives/api/v3/instruments"]


async def test_market_data(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    now = exchange.milliseconds()
    ticker = await exchange.fetch_ticker(BTC)
    assert ticker["bid"] < ticker["last"] < ticker["ask"]
    check_ticker(exchange, {}, "fetchTicker", ticker, BTC)
    tickers = await exchange.fetch_tickers()
    assert set(tickers) == set(exchange.markets)
    for symbol, each in tickers.items():
        check_ticker(exchange, {}, "fetchTickers", each, symbol)
    candles = await exchange.fetch_ohlcv(BTC, "5m", limit=20)
    assert len(candles) == 20 and candles[-1][0] <= now < candles[-1][0] + 300_000
    for candle in candles:
        check_ohlcv(exchange, {}, "fetchOHLCV", candle, BTC, now)
    book = await exchange.fetch_order_book(BTC)
    assert book["bids"][0][0] < book["asks"][0][0]
    check_order_book(exchange, {}, "fetchOrderBook", book, BTC)


async def test_orders_positions_and_fills(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    sim.prices.set_price("BTC", "65000")
    now = exchange.milliseconds()
    balance = await exchange.fetch_balance()
    assert balance["total"]["USDT"] == 10_000 and balance["free"]["USDT"] == 10_000
    check_balance(exchange, {}, "fetchBalance", balance)

    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"clientOrderId": "f-1"})
    check_order(exchange, ORDER_SKIPS, "createOrder", placed, BTC, now)
    assert (placed["status"], placed["clientOrderId"]) == ("open", "f-1")
    fetched = await exchange.fetch_order(placed["id"])
    check_order(exchange, ORDER_SKIPS, "fetchOrder", fetched, BTC, now)
    [listed] = await exchange.fetch_open_orders()
    assert listed["id"] == placed["id"] and listed["remaining"] == 0.01
    check_order(exchange, ORDER_SKIPS, "fetchOpenOrders", listed, BTC, now)
    cancelled = await exchange.cancel_order(placed["id"])
    assert cancelled["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(placed["id"])

    bought = await exchange.create_order(BTC, "market", "buy", 0.01)
    assert (bought["status"], bought["filled"], bought["average"]) == ("closed", 0.01, 65000.1)
    # The execution event carries no time of its own: ccxt's trade in the order has none.
    check_order(exchange, ORDER_SKIPS | {"trades": True}, "createOrder", bought, BTC, now)
    [position] = await exchange.fetch_positions()
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.01)
    check_position(exchange, POSITION_SKIPS, "fetchPositions", position, BTC, now)
    margin = Decimal("650.001") / account.leverage
    assert account.balances["USDT"].locked == margin
    [fill] = await exchange.fetch_my_trades()
    assert (fill["order"], fill["takerOrMaker"], fill["amount"]) == (bought["id"], "taker", 0.01)
    check_trade(exchange, {}, "fetchMyTrades", fill, BTC, now, False)

    await exchange.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert await exchange.fetch_positions() == []
    assert account.balances["USDT"].locked == 0


async def test_refusals_are_ccxts_exceptions(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    sim.prices.set_price("BTC", "65000")
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "market", "buy", 5)
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 70000, {"postOnly": True})
    await exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.DuplicateOrderId):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.ExchangeError):
        await exchange.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    for leverage in ("NaN", "abc", "0", "2.5", "1000"):
        with pytest.raises(ccxt.ExchangeError, match="invalidArgument"):
            await exchange.set_leverage(leverage, BTC)
    assert account.leverage == 10


async def test_credentials_limits_and_outages(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="authenticationError"):
        await connect(api_key="no-such-key").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="authenticationError"):
        await connect(secret=new_secret()).fetch_balance()
    exchange = connect()
    await exchange.fetch_balance()
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 2}, exchange="krakenfutures")
    with pytest.raises(ccxt.DDoSProtection):  # ccxt's krakenfutures: every 429
        await exchange.fetch_balance()
    assert exchange.last_response_headers.get("Retry-After") == "2"
    sim.faults.set({"down": True}, exchange="krakenfutures")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_ticker(BTC)
    sim.faults.set({"down": False, "maintenance": True}, exchange="krakenfutures")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="maintenance"):
        await exchange.fetch_balance()
    sim.faults.set({"maintenance": False}, exchange="krakenfutures")
    account.revoked = True
    with pytest.raises(ccxt.AuthenticationError):
        await exchange.fetch_balance()
