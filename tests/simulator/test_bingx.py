"""The BingX dialect against unmodified ccxt ``bingx``, over real HTTP: public data, balances
and the key's permissions, with ccxt's default options and as CTS builds it (create_ccxt).

Orders, positions and refusals are in test_bingx_trading.py.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.simulator.instruments import ASSETS
from server.simulator.ledger import Account
from server.simulator.server import Simulator
from tests.simulator.bingx_fixtures import API_TYPES, BTC, KINDS, Connect, account, connect, sim
from tests.support.bingx_validators import (
    check_balance,
    check_market,
    check_ohlcv,
    check_order_book,
    check_ticker,
)
from tests.support.ccxt_checks import assert_ticker_matches, ccxt_balances, ledger_balances

__all__ = ["account", "connect", "sim"]  # the fixtures

# -- markets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_load_markets_with_default_options_lists_every_market(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type, plain=True)
    since = time.time()
    markets = await exchange.load_markets()
    expected = {i.symbol for i in sim.ledgers["bingx"].instruments}
    assert set(markets) == expected  # spot and swap; no coin-margined contracts
    for market in markets.values():
        check_market(exchange, market)
    spot, swap = markets["BTC/USDT"], markets["BTC/USDT:USDT"]
    assert (spot["id"], swap["id"]) == ("BTC-USDT", "BTC-USDT")
    assert spot["active"] and swap["active"]
    assert (spot["type"], swap["type"], swap["settle"], swap["linear"]) == (
        "spot",
        "swap",
        "USDT",
        True,
    )
    for market in (spot, swap):
        assert market["precision"] == {**market["precision"], "amount": 0.00001, "price": 0.1}
        assert market["limits"]["cost"]["min"] == 5
    assert swap["limits"]["amount"]["min"] == 0.00001 and swap["contractSize"] == 1
    xrp = markets["XRP/USDT:USDT"]
    assert (xrp["precision"]["amount"], xrp["precision"]["price"]) == (1, 0.0001)
    # With keys and its defaults ccxt also loads the coins (a signed request).
    assert "USDT" in exchange.currencies and "BTC" in exchange.currencies
    paths = sorted(r.path for r in sim.requests_since(since))
    assert paths == [
        "/openApi/cswap/v1/market/contracts",
        "/openApi/spot/v1/common/symbols",
        "/openApi/swap/v2/quote/contracts",
        "/openApi/wallets/v1/capital/config/getall",
    ]
    assert all(r.status == 200 for r in sim.requests_since(since))


async def test_cts_options_skip_the_coins(sim: Simulator, connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    since = time.time()
    await exchange.load_markets()
    paths = sorted(r.path for r in sim.requests_since(since))
    assert paths == [
        "/openApi/cswap/v1/market/contracts",
        "/openApi/spot/v1/common/symbols",
        "/openApi/swap/v2/quote/contracts",
    ]


async def test_fetch_time_is_the_exchange_clock(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot", plain=True)
    assert abs(await exchange.fetch_time() - time.time() * 1000) < 2000
    sim.faults.set({"clock_skew_ms": 30_000}, exchange="bingx")
    assert abs(await exchange.fetch_time() - (time.time() * 1000 + 30_000)) < 2000


# -- market data --------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_tickers_are_the_simulated_prices(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type, plain=True)
    await exchange.load_markets()
    before = {a.code: sim.prices.price(a.code) for a in ASSETS}
    ticker = await exchange.fetch_ticker(BTC[api_type])
    tickers = await exchange.fetch_tickers()
    after = {a.code: sim.prices.price(a.code) for a in ASSETS}
    assert ticker["symbol"] == BTC[api_type]
    check_ticker(exchange, ticker, BTC[api_type])
    assert_ticker_matches(ticker, "BTC", {before["BTC"], after["BTC"]})
    kind = KINDS[api_type]
    expected = {i.symbol for i in sim.ledgers["bingx"].instruments if i.kind is kind}
    assert set(tickers) == expected  # spot and swap tickers are told apart
    for symbol, each in tickers.items():
        check_ticker(exchange, each, symbol)
        base = exchange.markets[symbol]["base"]
        assert_ticker_matches(each, base, {before[base], after[base]})
        assert each["high"] >= each["low"] > 0 and each["baseVolume"] > 0
        assert each["quoteVolume"] > 0 and each["open"] > 0


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_ohlcv_candles_ascend_and_are_consistent(connect: Connect, api_type: str) -> None:
    exchange = connect(api_type, plain=True)
    await exchange.load_markets()
    symbol = BTC[api_type]
    minute_before = int(time.time() // 60 * 60_000)
    candles = await exchange.fetch_ohlcv(symbol, "1m", limit=50)
    minute_after = int(time.time() // 60 * 60_000)
    assert len(candles) == 50
    assert [b[0] - a[0] for a, b in itertools.pairwise(candles)] == [60_000] * 49
    assert candles[-1][0] in (minute_before, minute_after)  # the last one is in progress
    for candle in candles:
        check_ohlcv(exchange, candle, symbol)
        assert candle[5] > 0
    since = (int(time.time()) // 3600 - 10) * 3_600_000  # on the hour: the first candle
    hourly = await exchange.fetch_ohlcv(symbol, "1h", since=since, limit=5)
    assert [row[0] for row in hourly] == [since + n * 3_600_000 for n in range(5)]
    for candle in hourly:
        check_ohlcv(exchange, candle, symbol)


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_order_book_brackets_the_price(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type, plain=True)
    await exchange.load_markets()
    symbol = BTC[api_type]
    book = await exchange.fetch_order_book(symbol, 10)
    check_order_book(exchange, book, symbol)
    assert len(book["bids"]) == len(book["asks"]) == 10
    spread = Decimal(str(book["asks"][0][0])) - Decimal(str(book["bids"][0][0]))
    assert spread == 2 * Decimal("0.1")
    best_bid, best_ask = Decimal(str(book["bids"][0][0])), Decimal(str(book["asks"][0][0]))
    assert best_bid < sim.prices.price("BTC") + 1 and best_ask > sim.prices.price("BTC") - 1


async def test_unknown_symbols_are_bad_symbols(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{sim.base_url}/openApi/swap/v2/quote/ticker?symbol=NOPE-USDT"
        async with http.get(url) as response:
            body = await response.json()
    assert (response.status, body["code"]) == (200, 109425)
    exchange = ccxt.bingx()
    with pytest.raises(ccxt.BadSymbol):
        exchange.handle_errors(200, "", url, "GET", {}, "", body, {}, None)


# -- the account --------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_balance_is_the_ledger(account: Account, connect: Connect, api_type: str) -> None:
    exchange = connect(api_type, plain=True)
    balance = await exchange.fetch_balance()
    check_balance(exchange, balance)
    if api_type == "spot":
        assert ccxt_balances(balance) == ledger_balances(account)
    else:  # the swap account shows its margin asset
        assert ccxt_balances(balance) == {"USDT": ledger_balances(account)["USDT"]}


async def test_permissions_endpoint_reports_the_key(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    answer = await exchange.accountV1PrivateGetAccountApiPermissions()
    assert sorted(answer["data"]["permissions"]) == [1, 2, 3]
    limited = sim.open_account("bingx")
    limited.permissions.derivatives = False
    limited.permissions.withdraw = True
    other = connect("spot", api_key=limited.api_key, secret=limited.secret)
    answer = await other.accountV1PrivateGetAccountApiPermissions()
    assert sorted(answer["data"]["permissions"]) == [1, 2, 5]


# -- the wire, without ccxt ---------------------------------------------------------------------


def signed_query(owner: Account, params: dict[str, Any], secret: str | None = None) -> str:
    """BingX's signing: the parameters sorted by key, signed as ``k=v&...``."""
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    key = (secret or owner.secret).encode()
    signature = hmac.new(key, query.encode(), hashlib.sha256).hexdigest()
    # Percent-encoded as ccxt sends it (a space is %20).
    return urlencode(sorted(params.items()), quote_via=quote) + f"&signature={signature}"


async def test_wire_envelope_signature_and_query_parameters(
    sim: Simulator, account: Account
) -> None:
    base = f"{sim.base_url}/openApi"
    headers = {"X-BX-APIKEY": account.api_key}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/swap/v2/server/time") as response:
            body = await response.json()
        assert {"code", "msg", "data"} <= set(body)
        assert (response.status, body["code"], body["msg"]) == (200, 0, "")
        assert abs(body["data"]["serverTime"] - time.time() * 1000) < 2000

        now = int(time.time() * 1000)
        query = signed_query(account, {"timestamp": now})
        async with http.get(f"{base}/spot/v1/account/balance?{query}", headers=headers) as r:
            assert (r.status, (await r.json())["code"]) == (200, 0)
        # POST parameters travel in the query, signed with the rest (a value with a space too).
        order = {
            "symbol": "BTC-USDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": "10000",
            "newClientOrderId": "wire test",
            "timestamp": now,
        }
        url = f"{base}/spot/v1/trade/order?{signed_query(account, order)}"
        async with http.post(url, headers=headers) as r:
            body = await r.json()
        assert (r.status, body["code"]) == (200, 0), body
        assert (body["data"]["status"], body["data"]["clientOrderID"]) == ("PENDING", "wire test")

        tampered = signed_query(account, {"timestamp": now}) + "&x=1"  # not signed
        for query, code in (
            (signed_query(account, {"timestamp": now}, secret="wrong"), 100001),
            (tampered, 100001),
            (signed_query(account, {"timestamp": now - 6000}), 100421),
            (signed_query(account, {"timestamp": now - 6000, "recvWindow": 10_000}), 0),
            (f"timestamp={now}", 100001),
        ):
            async with http.get(f"{base}/spot/v1/account/balance?{query}", headers=headers) as r:
                assert (r.status, (await r.json())["code"]) == (200, code), query
        for key, code in (("", 100413), ("nobody", 100413)):
            async with http.get(
                f"{base}/spot/v1/account/balance?{signed_query(account, {'timestamp': now})}",
                headers={"X-BX-APIKEY": key},
            ) as r:
                assert (r.status, (await r.json())["code"]) == (200, code)
        async with http.get(f"{base}/no/such/route") as r:
            assert r.status == 404 and (await r.json())["code"] == 404
