"""The Binance dialect of the exchange simulator, driven by unmodified ccxt built as CTS builds it.

Every test talks HTTP to a simulator started in the test's own event loop; ccxt instances come
from :func:`create_ccxt` with the simulator's base URL, so they send exactly what CTS sends.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.dialects.binance import BinanceDialect
from server.simulator.instruments import Kind
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Limits, Simulator

API_TYPES = ("spot", "perpetual_futures")
SYMBOL = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
KIND = {"spot": Kind.SPOT, "perpetual_futures": Kind.LINEAR}
TIMEFRAMES = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(
        seed=11, dialects=[BinanceDialect], limits=Limits(per_second=1000, per_minute=100_000)
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("binance", balances={"USDT": 10_000, "BTC": "0.25", "ETH": 2})


@pytest.fixture(params=API_TYPES)
def api_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def connect(
    sim: Simulator, api_type: str, *, api_key: str | None = None, secret: str | None = None
) -> AsyncIterator[Any]:
    exchange = create_ccxt(
        "binance", api_type, api_key=api_key, secret=secret, base_url=sim.base_url
    )
    try:
        yield exchange
    finally:
        await exchange.close()


@pytest.fixture
async def exchange(sim: Simulator, account: Account, api_type: str) -> AsyncIterator[Any]:
    async with connect(sim, api_type, api_key=account.api_key, secret=account.secret) as ex:
        yield ex


def as_float(value: Decimal) -> float:
    return float(value)


# -- public market data -------------------------------------------------------------------------


async def test_load_markets_lists_every_market_with_its_precision_and_limits(
    sim: Simulator, exchange: Any, api_type: str
) -> None:
    markets = await exchange.load_markets()

    instruments = [i for i in sim.ledgers["binance"].instruments if i.kind is KIND[api_type]]
    assert set(markets) == {i.symbol for i in instruments}
    for instrument in instruments:
        market = markets[instrument.symbol]
        assert market["id"] == instrument.plain_id
        assert market["active"] is True
        assert market["precision"]["amount"] == as_float(instrument.amount_step)
        assert market["precision"]["price"] == as_float(instrument.price_tick)
        assert market["limits"]["amount"]["min"] == as_float(instrument.min_amount)
        assert market["limits"]["cost"]["min"] == as_float(instrument.min_notional)
    btc = markets[SYMBOL[api_type]]
    if api_type == "spot":
        assert (btc["type"], btc["spot"]) == ("spot", True)
    else:
        assert (btc["type"], btc["linear"], btc["settle"]) == ("swap", True, "USDT")
        assert btc["contractSize"] == 1
    # With CTS's options load_markets costs exactly one request.
    assert [r.path for r in sim.requests] == [
        "/api/v3/exchangeInfo" if api_type == "spot" else "/fapi/v1/exchangeInfo"
    ]


async def test_fetch_time_is_the_exchange_clock(exchange: Any) -> None:
    server_time = await exchange.fetch_time()
    assert abs(server_time - time.time() * 1000) < 2000


def prices_between(sim: Simulator, base: str, start: float, end: float) -> set[float]:
    """Every price ``base`` had in the whole seconds from ``start`` to ``end``."""
    return {
        as_float(sim.prices.price(base, at=float(second)))
        for second in range(math.floor(start), math.floor(end) + 1)
    }


async def test_tickers_quote_the_price_book(sim: Simulator, exchange: Any, api_type: str) -> None:
    await exchange.load_markets()
    start = sim.clock()
    ticker = await exchange.fetch_ticker(SYMBOL[api_type])
    tickers = await exchange.fetch_tickers()
    end = sim.clock()

    assert ticker["symbol"] == SYMBOL[api_type]
    assert ticker["last"] in prices_between(sim, "BTC", start, end)
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    if api_type == "spot":  # Binance's futures 24hr ticker carries no bid/ask
        assert ticker["bid"] == pytest.approx(ticker["last"] - 0.1)
        assert ticker["ask"] == pytest.approx(ticker["last"] + 0.1)
    assert set(tickers) == set(exchange.markets)
    for symbol, entry in tickers.items():
        base = exchange.markets[symbol]["base"]
        assert entry["last"] in prices_between(sim, base, start, end), symbol


async def test_ohlcv_candles_are_consistent_with_the_price_book(
    sim: Simulator, exchange: Any, api_type: str
) -> None:
    symbol = SYMBOL[api_type]
    candles = await exchange.fetch_ohlcv(symbol, "1m", limit=10)

    assert len(candles) == 10
    now_ms = sim.clock() * 1000
    assert candles[-1][0] <= now_ms < candles[-1][0] + 60_000
    for previous, candle in itertools.pairwise(candles):
        assert candle[0] - previous[0] == 60_000
    for _, open_, high, low, close, volume in candles:
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert volume > 0
    completed = sim.prices.candles("BTC", 60, since=candles[0][0] / 1000, limit=9)
    assert [c[1:5] for c in candles[:9]] == [
        [as_float(k.open), as_float(k.high), as_float(k.low), as_float(k.close)] for k in completed
    ]

    since = int(now_ms) - 3_600_000 + 12_345
    later = await exchange.fetch_ohlcv(symbol, "5m", since=since, limit=4)
    assert len(later) == 4
    assert later[0][0] >= since and later[0][0] % 300_000 == 0


async def test_ohlcv_serves_every_interval_cts_uses(
    sim: Simulator, exchange: Any, api_type: str
) -> None:
    now_ms = sim.clock() * 1000
    for timeframe, seconds in TIMEFRAMES.items():
        candles = await exchange.fetch_ohlcv(SYMBOL[api_type], timeframe, limit=3)
        assert len(candles) == 3, timeframe
        assert candles[1][0] - candles[0][0] == seconds * 1000, timeframe
        assert candles[-1][0] % (seconds * 1000) == 0, timeframe
        assert candles[-1][0] <= now_ms < candles[-1][0] + seconds * 1000 + 2000, timeframe


# -- private: balances, orders, positions ---------------------------------------------------------


async def assert_balance_matches_ledger(
    sim: Simulator, exchange: Any, account: Account, api_type: str
) -> None:
    """ccxt's balance is the ledger's wallet; on futures USDT also counts unrealised PnL."""
    balance = await exchange.fetch_balance()
    unrealized = sum(
        (p.unrealized(sim.prices.price(p.instrument.base)) for p in account.positions.values()),
        Decimal(0),
    )
    for asset, held in account.balances.items():
        if held.total == 0:
            continue
        pnl = unrealized if asset == "USDT" and api_type != "spot" else Decimal(0)
        assert balance[asset]["free"] == pytest.approx(as_float(held.free + pnl)), asset
        assert balance[asset]["used"] == pytest.approx(as_float(held.locked)), asset
        assert balance[asset]["total"] == pytest.approx(as_float(held.total + pnl)), asset
    if api_type == "spot":
        assert balance["SOL"]["total"] == 0  # every listed asset, zero when not held


async def test_fetch_balance_equals_the_ledger(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == 10_000
    assert balance["BTC"]["total"] == 0.25
    assert balance["ETH"]["total"] == 2
    await assert_balance_matches_ledger(sim, exchange, account, api_type)


async def test_orders_market_and_limit_with_client_ids(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    symbol = SYMBOL[api_type]
    usdt = account.balance("USDT")

    bought = await exchange.create_order(
        symbol, "market", "buy", 0.001, params={"clientOrderId": "cts-market-1"}
    )
    assert bought["status"] == "closed"
    assert (bought["filled"], bought["average"]) == (0.001, 65000.1)  # at the ask
    assert bought["clientOrderId"] == "cts-market-1"
    value = Decimal("65.0001")
    if api_type == "spot":
        assert account.balance("BTC").free == Decimal("0.251")
        assert usdt.free == 10_000 - value * Decimal("1.001")
    else:
        assert usdt.locked == value / 10  # margin at the default leverage of 10
        assert usdt.free == 10_000 - value / 10 - value * Decimal("0.0005")
    await assert_balance_matches_ledger(sim, exchange, account, api_type)

    resting = await exchange.create_order(
        symbol, "limit", "buy", 0.001, 60000, params={"clientOrderId": "cts-limit-1"}
    )
    assert resting["status"] == "open"
    fetched = await exchange.fetch_order(resting["id"], symbol)
    assert (fetched["status"], fetched["clientOrderId"]) == ("open", "cts-limit-1")
    by_client_id = await exchange.fetch_order("", symbol, {"clientOrderId": "cts-limit-1"})
    assert by_client_id["id"] == resting["id"]
    assert [o["id"] for o in await exchange.fetch_open_orders(symbol)] == [resting["id"]]
    locked = Decimal("60.06") if api_type == "spot" else Decimal("6") + value / 10
    assert usdt.locked == locked
    await assert_balance_matches_ledger(sim, exchange, account, api_type)

    canceled = await exchange.cancel_order(resting["id"], symbol)
    assert canceled["status"] == "canceled"
    assert await exchange.fetch_open_orders(symbol) == []
    assert usdt.locked == (0 if api_type == "spot" else value / 10)
    await assert_balance_matches_ledger(sim, exchange, account, api_type)


async def test_resting_limit_order_fills_when_the_price_reaches_it(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    symbol = SYMBOL[api_type]
    order = await exchange.create_order(symbol, "limit", "buy", 0.001, 64000)
    assert order["status"] == "open"

    sim.prices.set_price("BTC", "63990")
    filled = await exchange.fetch_order(order["id"], symbol)
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 0.001, 64000)
    trades = await exchange.fetch_my_trades(symbol)
    assert [(t["order"], t["takerOrMaker"], t["price"]) for t in trades] == [
        (order["id"], "maker", 64000)
    ]
    await assert_balance_matches_ledger(sim, exchange, account, api_type)


async def test_immediate_or_cancel_expires_and_post_only_refuses_to_take(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    symbol = SYMBOL[api_type]
    ioc = await exchange.create_order(
        symbol, "limit", "buy", 0.001, 60000, params={"timeInForce": "IOC"}
    )
    assert ioc["status"] == "expired"
    assert account.balance("USDT").locked == 0

    with pytest.raises(ccxt.InvalidOrder):  # -2010 "would immediately match" / -5022
        await exchange.create_order(symbol, "limit", "buy", 0.001, 66000, params={"postOnly": True})


async def test_fetch_positions_after_a_perp_market_order(sim: Simulator, account: Account) -> None:
    sim.prices.set_price("BTC", "65000")
    symbol = SYMBOL["perpetual_futures"]
    async with connect(
        sim, "perpetual_futures", api_key=account.api_key, secret=account.secret
    ) as exchange:
        await exchange.create_order(symbol, "market", "buy", 0.002)
        positions = await exchange.fetch_positions()
        assert len(positions) == 1
        position = positions[0]
        assert (position["symbol"], position["side"], position["contracts"]) == (
            symbol,
            "long",
            0.002,
        )
        assert position["entryPrice"] == 65000.1
        assert position["unrealizedPnl"] == pytest.approx(-0.0002)
        assert position["initialMargin"] == pytest.approx(13.00002)
        assert position["marginMode"] == "cross"
        assert [r.path for r in sim.requests][-2:] == [
            "/fapi/v1/leverageBracket",
            "/fapi/v3/positionRisk",
        ]

        await exchange.create_order(symbol, "market", "sell", 0.002, params={"reduceOnly": True})
        assert await exchange.fetch_positions() == []
        assert account.balance("USDT").locked == 0


async def test_api_restrictions_show_the_key_permissions(sim: Simulator, api_type: str) -> None:
    spot_only = sim.open_account(
        "binance", permissions=Permissions(read=True, spot=True, derivatives=False, withdraw=True)
    )
    async with connect(
        sim, api_type, api_key=spot_only.api_key, secret=spot_only.secret
    ) as exchange:
        restrictions = await exchange.sapi_get_account_apirestrictions()
        assert restrictions["enableReading"] is True
        assert restrictions["enableSpotAndMarginTrading"] is True
        assert restrictions["enableFutures"] is False
        assert restrictions["enableWithdrawals"] is True
        assert restrictions["ipRestrict"] is False
        if api_type == "perpetual_futures":
            # Binance answers -2015 to a key without the permission; ccxt calls that
            # AuthenticationError (PermissionDenied is a subclass of it).
            with pytest.raises(ccxt.AuthenticationError, match="-2015"):
                await exchange.create_order(SYMBOL[api_type], "market", "buy", 0.001)


async def test_read_only_key_may_not_trade_spot(sim: Simulator) -> None:
    read_only = sim.open_account(
        "binance", permissions=Permissions(spot=False, derivatives=False, withdraw=False)
    )
    async with connect(sim, "spot", api_key=read_only.api_key, secret=read_only.secret) as ex:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await ex.create_order("BTC/USDT", "market", "buy", 0.001)
    assert read_only.orders == {}


# -- private: refusals ----------------------------------------------------------------------


async def test_bad_credentials_raise_authentication_error(
    sim: Simulator, account: Account, api_type: str
) -> None:
    async with connect(sim, api_type, api_key=account.api_key, secret="wrong") as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await exchange.fetch_balance()
    async with connect(sim, api_type, api_key="nobody", secret=account.secret) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await exchange.fetch_balance()
    sim.account(account.api_key).revoked = True
    async with connect(sim, api_type, api_key=account.api_key, secret=account.secret) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await exchange.fetch_balance()


async def test_ccxt_reads_a_later_2015_on_spot_as_a_temporary_ban(
    sim: Simulator, account: Account
) -> None:
    """ccxt's own rule, not the simulator's: after one successful /api/v3 private call it raises
    DDoSProtection for -2015 (Binance also sends it during temporary bans)."""
    async with connect(sim, "spot", api_key=account.api_key, secret=account.secret) as exchange:
        await exchange.fetch_balance()
        account.revoked = True
        with pytest.raises(ccxt.DDoSProtection, match="-2015"):
            await exchange.fetch_balance()


async def test_clock_skew_gives_invalid_nonce(sim: Simulator, exchange: Any, api_type: str) -> None:
    await exchange.load_markets()
    sim.faults.set({"clock_skew_ms": 60_000}, exchange="binance")
    server_time = await exchange.fetch_time()
    assert abs(server_time - (time.time() * 1000 + 60_000)) < 2000
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await exchange.fetch_balance()


async def test_rate_limit_burst_gives_429_with_retry_after(sim: Simulator, exchange: Any) -> None:
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="binance")
    with pytest.raises((ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        await exchange.fetch_time()
    assert exchange.last_http_response and "-1003" in exchange.last_http_response
    headers = {k.lower(): v for k, v in exchange.last_response_headers.items()}
    assert headers["retry-after"] == "3"
    assert await exchange.fetch_time() > 0  # the burst is spent


async def test_exchange_down_gives_exchange_not_available(sim: Simulator, exchange: Any) -> None:
    sim.faults.set({"down": True}, exchange="binance")
    with pytest.raises(ccxt.ExchangeNotAvailable) as raised:
        await exchange.fetch_time()
    assert not isinstance(raised.value, ccxt.OnMaintenance)


async def test_maintenance_gives_on_maintenance(sim: Simulator, exchange: Any) -> None:
    sim.faults.set({"maintenance": True}, exchange="binance")
    with pytest.raises(ccxt.OnMaintenance):
        await exchange.fetch_time()


async def test_insufficient_funds(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(SYMBOL[api_type], "market", "buy", 10)
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(SYMBOL[api_type], "limit", "buy", 10, 64000)
    assert account.orders == {}
    assert account.balance("USDT").free == 10_000


async def test_unknown_symbol_is_rejected_by_the_exchange(exchange: Any, api_type: str) -> None:
    spot = api_type == "spot"
    ticker = exchange.public_get_ticker_24hr if spot else exchange.fapipublic_get_ticker_24hr
    with pytest.raises(ccxt.BadSymbol, match="-1121"):
        await ticker({"symbol": "NOPEUSDT"})
    place = exchange.private_post_order if spot else exchange.fapiprivate_post_order
    with pytest.raises(ccxt.BadSymbol, match="-1121"):
        await place({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"})


async def test_duplicate_client_order_id_is_rejected(
    sim: Simulator, account: Account, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    params = {"clientOrderId": "cts-once"}
    await exchange.create_order(SYMBOL[api_type], "limit", "buy", 0.001, 60000, params=params)
    # Spot: -2010 "Duplicate order sent." (InvalidOrder). Futures: -4116, which ccxt maps to
    # InvalidOrder only for binance.com URLs, so here it is a plain ExchangeError.
    expected = ccxt.InvalidOrder if api_type == "spot" else ccxt.ExchangeError
    with pytest.raises(expected, match="-2010" if api_type == "spot" else "-4116"):
        await exchange.create_order(SYMBOL[api_type], "limit", "buy", 0.001, 60000, params=params)
    assert len(account.orders) == 1


async def test_unknown_order_is_order_not_found(exchange: Any, api_type: str) -> None:
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order("12345", SYMBOL[api_type])
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await exchange.cancel_order("12345", SYMBOL[api_type])


async def test_filters_refuse_orders_as_binance_does(
    sim: Simulator, exchange: Any, api_type: str
) -> None:
    sim.prices.set_price("BTC", "65000")
    symbol = SYMBOL[api_type]
    if api_type == "spot":
        with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
            await exchange.private_post_order(
                {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.000001"}
            )
        with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
            await exchange.private_post_order(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.001",
                    "price": "60000.05",
                }
            )
        with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL"):
            await exchange.create_order(symbol, "market", "buy", 0.00001)
    else:
        with pytest.raises(ccxt.ExchangeError, match="-4164"):
            await exchange.create_order(symbol, "market", "buy", 0.00001)
        with pytest.raises(ccxt.BadRequest, match="-4014"):
            await exchange.fapiprivate_post_order(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.001",
                    "price": "60000.05",
                }
            )


# -- the wire, without ccxt --------------------------------------------------------------


def signed(secret: str, query: str, body: str = "") -> str:
    return hmac.new(secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()


async def test_signature_covers_query_string_and_body_as_sent(
    sim: Simulator, account: Account
) -> None:
    sim.prices.set_price("BTC", "65000")
    headers = {"X-MBX-APIKEY": account.api_key}
    query = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"})
    body = urlencode({"quantity": "0.001", "timestamp": int(time.time() * 1000)})
    url = f"{sim.base_url}/api/v3/order?{query}&signature={signed(account.secret, query, body)}"
    async with aiohttp.ClientSession(headers=headers) as session:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with session.post(url, data=body, headers=form) as response:
            assert response.status == 200, await response.text()
            order = await response.json()
        assert (order["status"], order["executedQty"]) == ("FILLED", "0.00100000")
        assert order["fills"][0]["price"] == "65000.10000000"

        tampered = body.replace("quantity=0.001", "quantity=0.002")
        async with session.post(url, data=tampered, headers=form) as response:
            assert response.status == 400
            assert (await response.json())["code"] == -1022


async def test_timestamp_window_and_missing_key(sim: Simulator, account: Account) -> None:
    async def get(query: dict[str, Any], key: str | None = account.api_key) -> Any:
        text = urlencode(query)
        url = f"{sim.base_url}/api/v3/account?{text}&signature={signed(account.secret, text)}"
        headers = {"X-MBX-APIKEY": key} if key else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers) as response,
        ):
            return response.status, await response.json()

    now = int(time.time() * 1000)
    assert (await get({"timestamp": now - 6000}))[1]["code"] == -1021  # default window 5000
    status, body = await get({"timestamp": now - 6000, "recvWindow": 10_000})
    assert status == 200 and body["accountType"] == "SPOT"
    assert (await get({"timestamp": now + 2000}))[1]["code"] == -1021  # ahead of the server
    assert (await get({"timestamp": now, "recvWindow": 70_000}))[1]["code"] == -1131
    assert await get({"timestamp": now}, key=None) == (
        401,
        {"code": -2014, "msg": "API-key format invalid."},
    )
