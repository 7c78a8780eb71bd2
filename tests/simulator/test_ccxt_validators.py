"""Tickers, order books, my trades, leverage and positions of the simulator's dialects through
unmodified ccxt (built as CTS builds it), each answer judged by ccxt's own validators
(``ccxt/test/exchange/base``) and checked against what the simulator holds."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import ccxt.test.exchange.base as validators
import pytest

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.dialects.common import liquidation_price
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


# -- order books --------------------------------------------------------------------------------


@pytest.mark.parametrize(("exchange", "api_type"), MARKETS)
async def test_order_book_is_a_valid_book_at_the_touch(
    sim: Simulator, connect: Connect, exchange: str, api_type: str
) -> None:
    sim.prices.set_price("BTC", "60000")
    client = connect(exchange, api_type)
    await client.load_markets()
    symbol = SYMBOLS[api_type]
    book = await client.fetch_order_book(symbol, 5)
    skip = BOOK_SKIPS.get((exchange, api_type), {})
    validators.test_order_book(client, skip, "fetchOrderBook", book, symbol)
    assert (len(book["bids"]), len(book["asks"])) == (5, 5)
    instrument = next(i for i in sim.ledgers[exchange].instruments if i.symbol == symbol)
    bid, ask = sim.ledgers[exchange].bid_ask(instrument)
    assert (num(book["bids"][0][0]), num(book["asks"][0][0])) == (bid, ask)
    assert num(book["bids"][4][0]) == bid - 4 * instrument.price_tick
    assert all(level[1] > 0 for level in book["bids"] + book["asks"])
    deeper = await client.fetch_order_book(symbol)
    validators.test_order_book(client, skip, "fetchOrderBook", deeper, symbol)
    assert len(deeper["asks"]) > 5


async def test_order_book_refuses_a_size_beyond_the_exchanges_limit(
    connect: Connect,
) -> None:
    bybit = connect("bybit", "spot")
    await bybit.load_markets()
    with pytest.raises(ccxt.BadRequest, match="limit must be between 1 and 200"):
        await bybit.fetch_order_book("BTC/USDT", 201)
    okx = connect("okx", "spot")
    await okx.load_markets()
    with pytest.raises(ccxt.BadRequest, match="Parameter sz error"):
        await okx.fetch_order_book("BTC/USDT", 400, {"method": "publicGetMarketBooks", "sz": 401})


# -- my trades ----------------------------------------------------------------------------------


@pytest.mark.parametrize("exchange", ["bybit", "okx"])
@pytest.mark.parametrize("api_type", ["spot", "perpetual_futures"])
async def test_my_trades_list_taker_and_maker_fills(
    sim: Simulator, connect: Connect, exchange: str, api_type: str
) -> None:
    account = sim.open_account(exchange)
    client = connect(exchange, api_type, account)
    await client.load_markets()
    symbol = SYMBOLS[api_type]
    contract = num(client.market(symbol)["contractSize"] or 1)
    amount = float(Decimal("0.002") / contract)  # OKX swaps count contracts
    sim.prices.set_price("BTC", "60000")
    taker = await client.create_order(symbol, "limit", "buy", amount, 60_100)
    maker = await client.create_order(symbol, "limit", "buy", amount, 59_000)
    sim.prices.set_price("BTC", "58900")
    fetch_params = {"acknowledged": True} if exchange == "bybit" else {}
    assert (await client.fetch_order(maker["id"], symbol, fetch_params))["status"] == "closed"

    trades = await client.fetch_my_trades(symbol)
    for trade in trades:
        validators.test_trade(client, {}, "fetchMyTrades", trade, symbol, now_ms(), False)
    seen = sorted((t["order"], t["takerOrMaker"], t["side"], t["amount"]) for t in trades)
    assert seen == sorted(
        [(taker["id"], "taker", "buy", amount), (maker["id"], "maker", "buy", amount)]
    )
    ledger = sim.ledgers[exchange]
    for trade in trades:
        order = ledger.find(account, order_id=trade["order"])
        assert num(trade["price"]) == order.average
        assert num(trade["fee"]["cost"]) == order.fee
    assert num(next(t for t in trades if t["order"] == maker["id"])["price"]) == 59_000
    maker_time = next(t["timestamp"] for t in trades if t["order"] == maker["id"])
    later = await client.fetch_my_trades(symbol, since=maker_time)
    assert {t["order"] for t in later} == {
        t["order"] for t in trades if t["timestamp"] >= maker_time
    }


# -- leverage -----------------------------------------------------------------------------------


async def test_bybit_set_leverage_sets_the_accounts_leverage(
    sim: Simulator, connect: Connect
) -> None:
    account = sim.open_account("bybit")
    client = connect("bybit", "perpetual_futures", account)
    await client.load_markets()
    symbol = SYMBOLS["perpetual_futures"]
    await client.set_leverage(20, symbol)
    assert account.leverage == 20
    assert (await client.fetch_position(symbol))["leverage"] == 20
    with pytest.raises(ccxt.BadRequest, match="Set leverage not modified"):
        await client.set_leverage(20, symbol)
    with pytest.raises(ccxt.BadRequest, match="a whole number from 1 to 100"):
        await client.set_leverage(500, symbol)
    assert account.leverage == 20


async def test_bybit_set_leverage_needs_a_derivatives_key(sim: Simulator, connect: Connect) -> None:
    account = sim.open_account("bybit")
    account.permissions.derivatives = False
    client = connect("bybit", "perpetual_futures", account)
    await client.load_markets()
    with pytest.raises(ccxt.PermissionDenied):
        await client.set_leverage(5, SYMBOLS["perpetual_futures"])
    assert account.leverage == 10


# -- positions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exchange", "margin_mode"), [("bybit", "cross"), ("okx", "cross"), ("okx", "isolated")]
)
async def test_positions_carry_a_liquidation_price(
    sim: Simulator, connect: Connect, exchange: str, margin_mode: str
) -> None:
    account = sim.open_account(exchange)
    account.margin_mode = margin_mode
    client = connect(exchange, "perpetual_futures", account)
    await client.load_markets()
    sim.prices.set_price("BTC", "60000")
    sim.prices.set_price("ETH", "3000")
    btc, eth = "BTC/USDT:USDT", "ETH/USDT:USDT"
    params = {"marginMode": margin_mode} if exchange == "okx" else {}
    size = {btc: Decimal("0.01"), eth: Decimal("0.1")}
    for symbol, side in ((btc, "buy"), (eth, "sell")):
        contracts = size[symbol] / num(client.market(symbol)["contractSize"] or 1)
        await client.create_order(symbol, "market", side, float(contracts), None, params)

    positions = {p["symbol"]: p for p in await client.fetch_positions()}
    assert set(positions) == {btc, eth}
    for symbol, position in positions.items():
        skip = POSITION_SKIPS.get(exchange, {})
        validators.test_position(client, skip, "fetchPositions", position, symbol, now_ms())
        held = next(p for p in account.positions.values() if p.instrument.symbol == symbol)
        expected = liquidation_price(held, Decimal("0.005"))
        assert expected is not None
        assert num(position["liquidationPrice"]) == expected
    long, short = positions[btc], positions[eth]
    assert (long["side"], short["side"]) == ("long", "short")
    assert 0 < long["liquidationPrice"] < long["entryPrice"]
    assert short["liquidationPrice"] > short["entryPrice"]
