"""The Bybit v5 dialect against unmodified ccxt, built exactly as CTS builds it (create_ccxt)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.simulator.dialects.bybit import BybitDialect
from server.simulator.instruments import ASSETS, Kind
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator
from tests.support.ccxt_checks import assert_ticker_matches, ccxt_balances, ledger_balances
from tests.support.simulated import ccxt_instances, running_simulator

API_TYPES = ("spot", "perpetual_futures")
BTC = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
KINDS = {"spot": Kind.SPOT, "perpetual_futures": Kind.LINEAR}
Connect = Callable[..., Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(11, BybitDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("bybit")


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """Makes CTS's ccxt instances for the simulator (the test's account unless told otherwise)."""
    async with ccxt_instances(sim, "bybit", account) as instances:
        yield instances.cts


# -- public data --------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_load_markets_lists_every_instrument_with_its_grid(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type)
    since = time.time()
    markets = await exchange.load_markets()
    kind = KINDS[api_type]
    expected = {i.symbol for i in sim.ledgers["bybit"].instruments if i.kind is kind}
    assert set(markets) == expected
    btc = markets[BTC[api_type]]
    assert btc["id"] == "BTCUSDT"
    assert btc["active"] is True
    assert btc["precision"] == {**btc["precision"], "amount": 0.00001, "price": 0.1}
    assert btc["limits"]["amount"]["min"] == 0.00001
    assert btc["limits"]["cost"]["min"] == 5
    xrp = markets[BTC[api_type].replace("BTC", "XRP")]
    assert (xrp["precision"]["amount"], xrp["precision"]["price"]) == (1, 0.0001)
    if api_type == "spot":
        assert (btc["type"], btc["spot"]) == ("spot", True)
    else:
        assert (btc["type"], btc["linear"], btc["settle"]) == ("swap", True, "USDT")
        assert btc["limits"]["leverage"]["max"] == 100
    # CTS's options cut load_markets to the instrument lists (linear asks for PreLaunch too).
    paths = [r.path for r in sim.requests_since(since)]
    assert paths == ["/v5/market/instruments-info"] * (1 if api_type == "spot" else 2)


async def test_fetch_time_is_the_exchange_clock(connect: Connect) -> None:
    exchange = connect("spot")
    server_ms = await exchange.fetch_time()
    assert abs(server_ms - time.time() * 1000) < 2000


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_tickers_are_the_simulated_prices(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    before = {a.code: sim.prices.price(a.code) for a in ASSETS}
    ticker = await exchange.fetch_ticker(BTC[api_type])
    tickers = await exchange.fetch_tickers()
    after = {a.code: sim.prices.price(a.code) for a in ASSETS}
    assert ticker["symbol"] == BTC[api_type]
    assert_ticker_matches(ticker, "BTC", {before["BTC"], after["BTC"]})
    assert set(tickers) == set(exchange.markets)  # perps are not mistaken for spot markets
    for symbol, each in tickers.items():
        base = exchange.markets[symbol]["base"]
        assert_ticker_matches(each, base, {before[base], after[base]})
        assert each["high"] >= each["low"] > 0
        assert each["baseVolume"] > 0


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_ohlcv_candles_ascend_and_are_consistent(connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    minute_before = int(time.time() // 60 * 60_000)
    candles = await exchange.fetch_ohlcv(BTC[api_type], "1m", limit=50)
    minute_after = int(time.time() // 60 * 60_000)
    assert len(candles) == 50
    assert [b[0] - a[0] for a, b in itertools.pairwise(candles)] == [60_000] * 49
    assert candles[-1][0] in (minute_before, minute_after)  # the last one is in progress
    for stamp, open_, high, low, close, volume in candles:
        assert stamp % 60_000 == 0
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert volume > 0
    since = int(time.time() * 1000) - 10 * 3_600_000
    hourly = await exchange.fetch_ohlcv(BTC[api_type], "1h", since=since, limit=5)
    assert len(hourly) == 5
    assert hourly[0][0] >= since and hourly[0][0] - since < 3_600_000
    assert [row[0] for row in hourly] == sorted(row[0] for row in hourly)
    daily = await exchange.fetch_ohlcv(BTC[api_type], "1d", limit=3)
    assert [row[0] % 86_400_000 for row in daily] == [0, 0, 0]


async def test_unknown_symbols_are_refused_by_the_server(connect: Connect) -> None:
    exchange = connect("spot")
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_v5_market_tickers({"category": "spot", "symbol": "FOOUSDT"})
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_v5_market_kline(
            {"category": "linear", "symbol": "FOOUSDT", "interval": "1"}
        )
    order = {"category": "spot", "symbol": "FOOUSDT", "side": "Buy", "orderType": "Market"}
    with pytest.raises(ccxt.BadSymbol):
        await exchange.private_post_v5_order_create({**order, "qty": "1"})


# -- the account --------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_balance_is_the_ledger(account: Account, connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    balance = await exchange.fetch_balance()
    assert ccxt_balances(balance) == ledger_balances(account)
    assert ledger_balances(account)["BTC"] == (Decimal("0.25"), Decimal("0.25"))
    assert exchange.options["enableUnifiedAccount"] is True


async def test_permissions_endpoint_reports_the_key(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    info = (await exchange.private_get_v5_user_query_api())["result"]
    assert info["readOnly"] == 0
    assert info["permissions"]["Spot"] == ["SpotTrade"]
    assert info["permissions"]["ContractTrade"] == ["Order", "Position"]
    assert info["permissions"]["Wallet"] == []
    assert (info["uta"], info["apiKey"]) == (1, exchange.apiKey)

    viewer = sim.open_account(
        "bybit", permissions=Permissions(spot=False, derivatives=False, withdraw=False)
    )
    readonly = connect("spot", api_key=viewer.api_key, secret=viewer.secret)
    info = (await readonly.private_get_v5_user_query_api())["result"]
    assert info["readOnly"] == 1
    assert info["permissions"]["Spot"] == []
    with pytest.raises(ccxt.PermissionDenied):
        await readonly.create_order("BTC/USDT", "market", "buy", 0.001)


# -- orders and positions -----------------------------------------------------------------------


async def test_spot_limit_and_market_orders(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    price = sim.prices.price("BTC")
    limit_price = float((price * Decimal("0.8")).quantize(Decimal("0.1")))
    placed = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.01, limit_price, {"clientOrderId": "cts-limit-1"}
    )
    assert placed["clientOrderId"] == "cts-limit-1"
    opened = await exchange.fetch_open_orders("BTC/USDT")
    assert [(o["id"], o["clientOrderId"], o["status"]) for o in opened] == [
        (placed["id"], "cts-limit-1", "open")
    ]
    assert (opened[0]["price"], opened[0]["amount"], opened[0]["remaining"]) == (
        limit_price,
        0.01,
        0.01,
    )
    assert (await exchange.fetch_open_order(placed["id"], "BTC/USDT"))["status"] == "open"
    locked = account.balances["USDT"].locked
    assert locked > 0
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)

    await exchange.cancel_order(placed["id"], "BTC/USDT")
    assert await exchange.fetch_open_orders("BTC/USDT") == []
    assert account.balances["USDT"].locked == 0
    canceled = await exchange.fetch_order(placed["id"], "BTC/USDT", {"acknowledged": True})
    assert canceled["status"] == "canceled"

    bought = await exchange.create_order(
        "BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "cts-market-1"}
    )
    filled = await exchange.fetch_closed_order(bought["id"], "BTC/USDT")
    assert (filled["status"], filled["clientOrderId"], filled["filled"]) == (
        "closed",
        "cts-market-1",
        0.01,
    )
    average = Decimal(str(filled["average"]))
    assert average == sim.ledgers["bybit"].find(account, order_id=bought["id"]).average
    balance = await exchange.fetch_balance()
    assert ccxt_balances(balance) == ledger_balances(account)
    assert Decimal(str(balance["BTC"]["total"])) == Decimal("0.26")
    spent = Decimal("0.01") * average * Decimal("1.001")
    assert Decimal(str(balance["USDT"]["total"])) == Decimal(10_000) - spent


async def test_linear_orders_open_and_close_a_position(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    symbol = "BTC/USDT:USDT"
    exchange = connect("perpetual_futures")
    await exchange.load_markets()
    price = sim.prices.price("BTC")
    rest_price = float((price * Decimal("1.2")).quantize(Decimal("0.1")))
    resting = await exchange.create_order(
        symbol, "limit", "sell", 0.02, rest_price, {"clientOrderId": "perp-limit-1"}
    )
    opened = await exchange.fetch_open_orders(symbol)
    assert [(o["clientOrderId"], o["side"], o["price"]) for o in opened] == [
        ("perp-limit-1", "sell", rest_price)
    ]
    await exchange.cancel_order(resting["id"], symbol)
    assert await exchange.fetch_open_orders() == []

    bought = await exchange.create_order(
        symbol, "market", "buy", 0.02, None, {"clientOrderId": "perp-market-1"}
    )
    order = sim.ledgers["bybit"].find(account, order_id=bought["id"])
    assert order.average is not None
    positions = await exchange.fetch_positions()
    assert [(p["symbol"], p["side"], p["contracts"]) for p in positions] == [(symbol, "long", 0.02)]
    assert Decimal(str(positions[0]["entryPrice"])) == order.average
    assert positions[0]["leverage"] == account.leverage
    margin = Decimal("0.02") * order.average / account.leverage
    assert account.balances["USDT"].locked == margin
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)

    await exchange.create_order(symbol, "market", "sell", 0.02, None, {"reduceOnly": True})
    assert await exchange.fetch_positions() == []
    assert account.balances["USDT"].locked == 0
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)
    with pytest.raises(ccxt.InvalidOrder, match="110017"):  # nothing left to reduce
        await exchange.create_order(symbol, "market", "sell", 0.02, None, {"reduceOnly": True})


async def test_positions_of_one_symbol_include_a_flat_one(connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    positions = await exchange.fetch_positions(["ETH/USDT:USDT"])
    assert [(p["symbol"], p["contracts"], p["side"]) for p in positions] == [
        ("ETH/USDT:USDT", 0, None)
    ]


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_duplicate_client_order_id_is_refused(connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    params = {"clientOrderId": "same-id"}
    await exchange.create_order(BTC[api_type], "market", "buy", 0.001, None, params)
    with pytest.raises(ccxt.InvalidOrder, match="uplicate"):
        await exchange.create_order(BTC[api_type], "market", "buy", 0.001, None, params)


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_insufficient_funds(account: Account, connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    before = ledger_balances(account)
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC[api_type], "market", "buy", 5, None)
    assert ledger_balances(account) == before


async def test_orders_below_the_minimum_value_are_invalid(connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order("BTC/USDT", "market", "buy", 0.00001, None)


# -- refusals of the gateway ---------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_bad_credentials_are_authentication_errors(
    sim: Simulator, account: Account, connect: Connect, api_type: str
) -> None:
    with pytest.raises(ccxt.AuthenticationError):
        await connect(api_type, secret="not-the-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError):
        await connect(api_type, api_key="no-such-key").fetch_balance()
    exchange = connect(api_type)
    await exchange.fetch_balance()
    sim.account(account.api_key).revoked = True
    with pytest.raises(ccxt.AuthenticationError):
        await exchange.fetch_balance()


async def test_clock_skew_is_an_invalid_nonce(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    sim.faults.set({"clock_skew_ms": 60_000}, exchange="bybit")
    assert abs(await exchange.fetch_time() - (time.time() * 1000 + 60_000)) < 2000
    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        await exchange.fetch_balance()


async def test_rate_limit_burst_asks_to_retry_later(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="bybit")
    with pytest.raises((ccxt.RateLimitExceeded, ccxt.DDoSProtection), match="10006"):
        await exchange.fetch_time()
    headers = {k.lower(): v for k, v in exchange.last_response_headers.items()}
    assert headers["retry-after"] == "3"
    assert int(headers["x-bapi-limit-reset-timestamp"]) > time.time() * 1000
    assert await exchange.fetch_time() > 0  # the burst is over


async def test_down_and_maintenance_are_not_available(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    sim.faults.set({"down": True}, exchange="bybit")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_time()
    sim.faults.set({"down": False, "maintenance": True}, exchange="bybit")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="maintenance"):
        await exchange.fetch_balance()


def bybit_headers(account: Account, payload: str, timestamp: int | None = None) -> dict[str, str]:
    """Bybit v5 auth headers for ``payload`` (the query string or the JSON body)."""
    ts = str(timestamp or int(time.time() * 1000))
    origin = ts + account.api_key + "5000" + payload
    sign = hmac.new(account.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
    return {
        "X-BAPI-API-KEY": account.api_key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign,
    }


async def test_wire_envelope_and_gateway_statuses(sim: Simulator, account: Account) -> None:
    """Without ccxt: Bybit's envelope, and the HTTP status and retCode of gateway refusals."""
    base = sim.base_url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/v5/market/time") as response:
            body = await response.json()
        assert set(body) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
        assert (response.status, body["retCode"], body["retMsg"]) == (200, 0, "OK")
        assert int(body["result"]["timeNano"]) // 1_000_000 == body["time"]

        query = "accountType=UNIFIED"
        headers = bybit_headers(account, query) | {"X-BAPI-API-KEY": "nobody"}
        async with http.get(f"{base}/v5/account/wallet-balance?{query}", headers=headers) as r:
            assert (r.status, (await r.json())["retCode"]) == (401, 10003)
        async with http.get(f"{base}/v5/no/such/route") as response:
            assert (response.status, (await response.json())["retCode"]) == (404, 10017)
        sim.faults.set({"rate_limit_burst": 1}, exchange="bybit")
        async with http.get(f"{base}/v5/market/time") as response:
            body = await response.json()
        assert (response.status, body["retCode"]) == (429, 10006)
        assert body["retMsg"] == "Too many visits!"


async def test_wire_signature_covers_query_body_and_time(sim: Simulator, account: Account) -> None:
    """Without ccxt: the sign covers the raw query or body, and the timestamp's window."""
    base = sim.base_url
    query = "accountType=UNIFIED&coin=BTC,USDT"
    balance_url = f"{base}/v5/account/wallet-balance?{query}"
    order = json.dumps(
        {
            "category": "spot",
            "symbol": "ETHUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.01",
            "marketUnit": "baseCoin",
        }
    )
    create = f"{base}/v5/order/create"
    async with aiohttp.ClientSession() as http:
        async with http.get(balance_url, headers=bybit_headers(account, query)) as response:
            coins = (await response.json())["result"]["list"][0]["coin"]
        assert [(c["coin"], c["walletBalance"]) for c in coins] == [
            ("BTC", "0.25"),
            ("USDT", "10000"),
        ]
        headers = bybit_headers(account, "accountType=UNIFIED")
        async with http.get(balance_url, headers=headers) as response:
            assert (await response.json())["retCode"] == 10004

        async with http.post(create, data=order, headers=bybit_headers(account, order)) as r:
            assert (await r.json())["result"]["orderLinkId"] == ""
        tampered = order.replace("0.01", "0.02")
        async with http.post(create, data=tampered, headers=bybit_headers(account, order)) as r:
            assert (await r.json())["retCode"] == 10004
        stale = bybit_headers(account, order, timestamp=int(time.time() * 1000) - 6000)
        async with http.post(create, data=order, headers=stale) as response:
            assert (await response.json())["retCode"] == 10002
    assert account.balances["ETH"].total == Decimal("2.01")  # only the signed order was placed
