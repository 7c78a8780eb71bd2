"""The Kraken spot dialect against unmodified ccxt ``kraken`` over real HTTP.

Every unified structure ccxt builds from the simulator's answers goes through ccxt's own
validators (``ccxt/test/exchange/base``); a property is skipped only with the reason beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest
from ccxt.test.exchange.base.test_balance import test_balance as check_balance
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade

from server.exchange.ccxt_factory import create_ccxt
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.simulator.demo import DEMO_ACCOUNTS
from server.simulator.dialects.kraken import KrakenDialect
from server.simulator.instruments import ASSETS, Kind
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator
from tests.support.ccxt_checks import assert_ticker_matches, ccxt_balances, ledger_balances
from tests.support.simulated import ccxt_instances, running_simulator

Connect = Callable[..., Any]
# ccxt's kraken parses no timestamp from tickers, and Kraken's order book levels carry
# seconds in the place ccxt reads as the book's own timestamp: nothing to check there.
NO_TIMESTAMP = {"timestamp": True, "datetime": True}
# ccxt's kraken gives a market's baseId as the unified code (BTC) while its currency's id is
# Kraken's (XXBT): the validator's id-and-code cross-check cannot hold.
MARKET_SKIPS = {"currencyIdAndCode": True}
# QueryOrders lists an order's trades by id only; ccxt makes bare trades of them (without
# takerOrMaker). The trades themselves are validated from fetch_my_trades.
ORDER_SKIPS = {"trades": True}


def check_kraken_order(
    exchange: Any, method: str, order: dict[str, Any], symbol: str, now: int
) -> None:
    """ccxt's order validator, given the fee as ccxt's ``fees`` holds it: ccxt's kraken leaves
    ``order["fee"]["cost"]`` the exchange's string, while ``fees`` has the same fee as a number."""
    entry = dict(order)
    if order.get("fee") and order["fee"].get("cost") is not None:
        [fee] = order["fees"]
        assert Decimal(order["fee"]["cost"]) == Decimal(str(fee["cost"]))
        assert order["fee"]["currency"] == fee["currency"]
        entry["fee"] = fee
    check_order(exchange, ORDER_SKIPS, method, entry, symbol, now)


def new_secret() -> str:
    """A secret as Kraken issues them: 64 random bytes, base64."""
    return base64.b64encode(os.urandom(64)).decode()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(23, KrakenDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("kraken", secret=new_secret())


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """ccxt instances for the simulator: as CTS builds them, or plain ``ccxt.kraken``."""
    async with ccxt_instances(sim, "kraken", account) as instances:

        def make(
            *, plain: bool = False, api_key: str | None = None, secret: str | None = None
        ) -> Any:
            key, sec = api_key or account.api_key, secret or account.secret
            if plain:
                return instances.plain(ccxt.kraken, {"apiKey": key, "secret": sec})
            return instances.cts("spot", api_key=key, secret=sec)

        yield make


# -- public data --------------------------------------------------------------------------------


async def test_load_markets_maps_kraken_names_to_unified_symbols(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect()
    since = time.time()
    markets = await exchange.load_markets()
    spot = {i.symbol for i in sim.ledgers["kraken"].instruments if i.kind is Kind.SPOT}
    assert set(markets) == spot
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["altname"], btc["wsId"]) == ("XBTUSDT", "XBTUSDT", "XBT/USDT")
    assert (btc["baseId"], btc["base"], btc["quote"]) == ("BTC", "BTC", "USDT")
    assert btc["info"]["base"] == "XXBT"
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.1, 0.00001)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00001, 5)
    assert (btc["taker"], btc["maker"]) == (0.001, 0.001) and btc["active"] is True
    assert markets["DOGE/USDT"]["id"] == "XDGUSDT"
    assert markets["DOGE/USDT"]["precision"]["amount"] == 1
    assert set(exchange.currencies) == {"USDT", *(a.code for a in ASSETS)}
    now = exchange.milliseconds()
    for market in markets.values():
        check_market(exchange, MARKET_SKIPS, "fetchMarkets", market)
    assert now > 0
    # Kraken's load: the currencies, then the pairs (CTS keeps ccxt's default).
    assert [r.path for r in sim.requests_since(since)] == [
        "/0/public/Assets",
        "/0/public/AssetPairs",
    ]


async def test_fetch_time_is_the_exchange_clock(connect: Connect) -> None:
    server_ms = await connect().fetch_time()
    assert abs(server_ms - time.time() * 1000) < 2000
    assert server_ms % 1000 == 0  # Kraken's clock answers whole seconds


async def test_tickers_are_the_simulated_prices(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    before = {a.code: sim.prices.price(a.code) for a in ASSETS}
    ticker = await exchange.fetch_ticker("BTC/USDT")
    tickers = await exchange.fetch_tickers()
    chosen = await exchange.fetch_tickers(["ETH/USDT", "DOGE/USDT"])
    after = {a.code: sim.prices.price(a.code) for a in ASSETS}
    assert ticker["symbol"] == "BTC/USDT"
    assert_ticker_matches(ticker, "BTC", {before["BTC"], after["BTC"]})
    check_ticker(exchange, NO_TIMESTAMP, "fetchTicker", ticker, "BTC/USDT")
    assert set(tickers) == set(exchange.markets)
    assert set(chosen) == {"ETH/USDT", "DOGE/USDT"}
    for symbol, each in tickers.items():
        base = exchange.markets[symbol]["base"]
        assert_ticker_matches(each, base, {before[base], after[base]})
        assert each["high"] >= each["low"] > 0 and each["baseVolume"] > 0
        check_ticker(exchange, NO_TIMESTAMP, "fetchTickers", each, symbol)


async def test_ohlcv_candles_ascend_and_are_consistent(connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    now = exchange.milliseconds()
    candles = await exchange.fetch_ohlcv("ETH/USDT", "5m", limit=50)
    assert len(candles) == 50
    starts = [c[0] for c in candles]
    assert starts == sorted(starts) and all(b - a == 300_000 for a, b in itertools.pairwise(starts))
    assert starts[-1] <= now < starts[-1] + 300_000
    for candle in candles:
        check_ohlcv(exchange, {}, "fetchOHLCV", candle, "ETH/USDT", now)
    since = now - 3_600_000
    recent = await exchange.fetch_ohlcv("ETH/USDT", "1m", since=since)
    assert recent and recent[0][0] >= since - 60_000
    assert len(recent) in (60, 61)
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:interval"):
        await exchange.fetch_ohlcv("ETH/USDT", "3m")  # ccxt passes it on; Kraken has no 3m


async def test_order_book_is_ordered_around_the_price(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    book = await exchange.fetch_order_book("BTC/USDT", 10)
    assert len(book["bids"]) == len(book["asks"]) == 10
    check_order_book(exchange, NO_TIMESTAMP, "fetchOrderBook", book, "BTC/USDT")
    spread = Decimal(str(book["asks"][0][0])) - Decimal(str(book["bids"][0][0]))
    assert spread == 2 * ASSETS[0].price_tick


async def test_unknown_pairs_are_refused(connect: Connect, sim: Simulator) -> None:
    url = f"{sim.base_url}/0/public/Ticker?pair=NOPEUSDT"
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        assert answer.status == 200
        assert await answer.json() == {"error": ["EQuery:Unknown asset pair"], "result": {}}


# -- account and orders -------------------------------------------------------------------------


async def test_balance_is_the_ledger(account: Account, connect: Connect) -> None:
    exchange = connect()
    balance = await exchange.fetch_balance()
    assert ccxt_balances(balance) == ledger_balances(account)
    assert balance["info"]["result"]["XXBT"] == {
        "balance": "0.2500000000",
        "hold_trade": "0.0000000000",
    }
    check_balance(exchange, {}, "fetchBalance", balance)


async def test_limit_order_rests_is_found_and_cancelled(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    price = sim.prices.price("BTC") * Decimal("0.8")
    price = price.quantize(Decimal("0.1"))
    now = exchange.milliseconds()

    placed = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.001, float(price), {"clientOrderId": "cts-limit-0001"}
    )
    # AddOrder answers only the description and txid: no status or timestamp yet.
    check_kraken_order(exchange, "createOrder", placed, "BTC/USDT", now)
    assert placed["id"].startswith("O") and placed["price"] == float(price)
    fetched = await exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["clientOrderId"]) == ("open", "cts-limit-0001")
    assert (fetched["amount"], fetched["filled"], fetched["remaining"]) == (0.001, 0, 0.001)
    check_kraken_order(exchange, "fetchOrder", fetched, "BTC/USDT", now)
    locked = price * Decimal("0.001") * Decimal("1.001")
    assert account.balances["USDT"].locked == locked
    balance = await exchange.fetch_balance()
    assert Decimal(str(balance["used"]["USDT"])) == locked

    open_orders = await exchange.fetch_open_orders()
    assert [o["id"] for o in open_orders] == [placed["id"]]
    by_client_id = await exchange.fetch_open_orders(
        None, None, None, {"clientOrderId": "cts-limit-0001"}
    )
    assert [o["id"] for o in by_client_id] == [placed["id"]]
    for order in open_orders:
        check_kraken_order(exchange, "fetchOpenOrders", order, "BTC/USDT", now)

    cancelled = await exchange.cancel_order(placed["id"])
    assert cancelled["info"]["result"] == {"count": 1}
    closed = await exchange.fetch_closed_orders()
    assert [(o["id"], o["status"]) for o in closed] == [(placed["id"], "canceled")]
    for order in closed:
        check_kraken_order(exchange, "fetchClosedOrders", order, "BTC/USDT", now)
    assert account.balances["USDT"].locked == 0
    assert await exchange.fetch_open_orders() == []
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(placed["id"])
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("OAAAAA-AAAAA-AAAAAB")


async def test_market_order_fills_and_is_a_trade(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    now = exchange.milliseconds()
    usdt_before = account.balances["USDT"].free
    placed = await exchange.create_order("ETH/USDT", "market", "buy", 0.5)
    fetched = await exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["filled"], fetched["type"]) == ("closed", 0.5, "market")
    check_kraken_order(exchange, "fetchOrder", fetched, "ETH/USDT", now)
    average = Decimal(str(fetched["average"]))
    assert account.balances["ETH"].free == Decimal("2.5")
    spent = usdt_before - account.balances["USDT"].free
    assert spent == average * Decimal("0.5") * Decimal("1.001")

    trades = await exchange.fetch_my_trades("ETH/USDT")
    assert len(trades) == 1
    trade = trades[0]
    assert (trade["order"], trade["side"], trade["amount"]) == (placed["id"], "buy", 0.5)
    assert (trade["takerOrMaker"], trade["fee"]["currency"]) == ("taker", "USDT")
    check_trade(exchange, {}, "fetchMyTrades", trade, "ETH/USDT", now, False)

    sold = await exchange.create_order("ETH/USDT", "market", "sell", 0.5)
    closed = await exchange.fetch_closed_orders("ETH/USDT")
    assert {o["id"] for o in closed} == {placed["id"], sold["id"]}
    assert account.balances["ETH"].free == Decimal(2)


async def test_resting_order_fills_as_maker_when_the_price_reaches_it(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    sim.prices.set_price("SOL", "150")
    placed = await exchange.create_order("SOL/USDT", "limit", "buy", 1, 140)
    assert (await exchange.fetch_order(placed["id"]))["status"] == "open"
    sim.prices.set_price("SOL", "139")
    fetched = await exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["average"]) == ("closed", 140)
    [trade] = await exchange.fetch_my_trades()
    assert trade["takerOrMaker"] == "maker" and trade["price"] == 140


async def test_orders_refused_in_krakens_words(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    sim.prices.set_price("BTC", "65000")
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("BTC/USDT", "market", "buy", 1)
    with pytest.raises(ccxt.InvalidOrder, match="EOrder:Order minimum not met"):
        await exchange.create_order("XRP/USDT", "limit", "buy", 1, 0.5)
    with pytest.raises(ccxt.ExchangeError, match="EOrder:Post only order"):
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 70000, {"postOnly": True})
    first = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "dup-0001"}
    )
    with pytest.raises(ccxt.ExchangeError, match="EOrder:Duplicate order"):
        await exchange.create_order(
            "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "dup-0001"}
        )
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:cl_ord_id"):
        # 32 characters that are not a UUID: more than Kraken's 18 of free text.
        await exchange.create_order(
            "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "cts" + "x" * 29}
        )
    await exchange.cancel_order(first["id"])
    # Once the first is closed, its cl_ord_id may be used again (unique among open orders).
    again = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "dup-0001"}
    )
    cancelled = await exchange.cancel_order("", None, {"clientOrderId": "dup-0001"})
    assert cancelled["info"]["result"] == {"count": 1}
    assert (await exchange.fetch_order(again["id"]))["status"] == "canceled"


async def test_userref_is_a_client_reference(connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    placed = await exchange.create_order(
        "BTC/USDT", "limit", "sell", 0.001, 500000, {"userref": 42}
    )
    [found] = await exchange.fetch_open_orders(None, None, None, {"userref": 42})
    assert (found["id"], found["clientOrderId"]) == (placed["id"], "42")
    await exchange.cancel_order(placed["id"], None, {"userref": 42})
    assert await exchange.fetch_open_orders() == []


# -- authentication, limits and outages ---------------------------------------------------------


async def test_wrong_credentials_raise_ccxts_authentication_errors(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
        await connect(plain=True, api_key="not-a-key").fetch_balance()
    # Unmodified ccxt leaves EAPI:Invalid signature unmapped (a plain ExchangeError) ...
    with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature") as plain:
        await connect(plain=True, secret=new_secret()).fetch_balance()
    assert not isinstance(plain.value, ccxt.AuthenticationError)
    # ... and CTS's instances read it as what it is.
    with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid signature"):
        await connect(secret=new_secret()).fetch_balance()
    account.revoked = True
    with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
        await connect(plain=True).fetch_balance()


async def test_a_secret_that_is_not_base64_is_refused_before_any_request() -> None:
    with pytest.raises(ExchangeError) as refused:
        create_ccxt("kraken", "spot", api_key="k", secret="not base64!", base_url="http://x")
    assert refused.value.failure is ExchangeFailure.AUTHENTICATION
    assert "not base64!" not in str(refused.value)


async def test_permissions_are_enforced(sim: Simulator, connect: Connect) -> None:
    viewer = sim.open_account("kraken", secret=new_secret(), permissions=Permissions(spot=False))
    exchange = connect(api_key=viewer.api_key, secret=viewer.secret)
    await exchange.fetch_balance()
    with pytest.raises(ccxt.PermissionDenied, match="EGeneral:Permission denied"):
        await exchange.create_order("BTC/USDT", "market", "buy", 0.001)
    blind = sim.open_account("kraken", secret=new_secret(), permissions=Permissions(read=False))
    with pytest.raises(ccxt.PermissionDenied):
        await connect(api_key=blind.api_key, secret=blind.secret).fetch_balance()


def signed(path: str, secret: str, nonce: int) -> tuple[dict[str, str], str]:
    """A private request signed by hand, for nonces ccxt would never send."""
    body = urllib.parse.urlencode({"nonce": nonce})
    digest = hashlib.sha256((str(nonce) + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret), path.encode() + digest, hashlib.sha512)
    return {"API-Sign": base64.b64encode(mac.digest()).decode()}, body


async def test_a_nonce_must_increase_per_key(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    path = "/0/private/Balance"
    nonce = int(time.time() * 1000)
    async with aiohttp.ClientSession() as http:
        for sent, expected in (
            (nonce, []),
            (nonce, ["EAPI:Invalid nonce"]),
            (nonce - 5, ["EAPI:Invalid nonce"]),
            (nonce + 1, []),
        ):
            headers, body = signed(path, account.secret, sent)
            headers |= {
                "API-Key": account.api_key,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            async with http.post(sim.base_url + path, data=body, headers=headers) as answer:
                assert answer.status == 200
                assert (await answer.json())["error"] == expected
    # ccxt's own nonce (ms) is now behind the last one accepted: Kraken's InvalidNonce.
    exchange = connect()
    exchange.options["lastNonce"] = 0
    exchange.nonce = lambda: nonce - 1000
    with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
        await exchange.fetch_balance()


async def test_rate_limit_unavailable_and_maintenance(sim: Simulator, connect: Connect) -> None:
    exchange = connect(plain=True)
    await exchange.load_markets()
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="kraken")
    # ccxt's kraken maps EAPI:Rate limit exceeded to DDoSProtection (its "exact" table).
    with pytest.raises(ccxt.DDoSProtection, match="EAPI:Rate limit exceeded"):
        await exchange.fetch_balance()
    assert exchange.last_response_headers.get("Retry-After") == "3"
    await exchange.fetch_balance()  # the burst is over
    sim.faults.set({"down": True}, exchange="kraken")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="EService:Unavailable"):
        await exchange.fetch_ticker("BTC/USDT")
    sim.faults.set({"down": False, "maintenance": True}, exchange="kraken")
    with pytest.raises(ccxt.OnMaintenance):
        await exchange.fetch_balance()
    sim.faults.set({"maintenance": False}, exchange="kraken")
    await exchange.fetch_balance()


def test_the_demo_account_has_a_base64_secret() -> None:
    demo = next(a for a in DEMO_ACCOUNTS if a.exchange == "kraken")
    assert demo.api_key == "cts-demo-kraken-key-0001"
    assert base64.b64decode(demo.secret, validate=True) == b"cts-demo-kraken-secret-0001"


def test_a_429_carries_retry_after_only_when_asked() -> None:
    dialect = KrakenDialect(Simulator(seed=1, dialects=[KrakenDialect]))
    assert dialect.rate_limited(2.5).status == 429
    assert dialect.rate_limited(2.5).headers.get("Retry-After") == "3"
    assert dialect.rate_limited(0).headers.get("Retry-After") is None
