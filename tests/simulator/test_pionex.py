"""CTS's Pionex ccxt class against the simulator's Pionex dialect, over real HTTP.

Every unified structure the class returns goes through ccxt's own validators (the checks ccxt's
maintainers run on every exchange); the wire format is also checked by hand against Pionex's
documented signing, independently of the class.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
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

from server.exchange.ccxt_factory import UnsupportedConnection, create_ccxt
from server.exchange.venues.pionex import pionex
from server.simulator.dialects.pionex import PionexDialect
from server.simulator.instruments import Kind
from server.simulator.ledger import Account, OrderStatus, Permissions
from server.simulator.server import Simulator
from tests.support.ccxt_checks import assert_ticker_matches, ccxt_balances, ledger_balances

BTC = "BTC/USDT"
BALANCES: dict[str, Decimal | str | int] = {"USDT": "10000", "BTC": "0.25"}
Connect = Callable[..., Any]
NO_SKIPS: dict[str, Any] = {}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=29, dialects=[PionexDialect])
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("pionex", balances=BALANCES)


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """Makes Pionex ccxt instances exactly as CTS builds them (create_ccxt), on the simulator."""
    made: list[Any] = []

    def make(*, api_key: str | None = None, secret: str | None = None) -> Any:
        exchange = create_ccxt(
            "pionex",
            "spot",
            api_key=api_key or account.api_key,
            secret=secret or account.secret,
            base_url=sim.base_url,
        )
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


def now_ms() -> int:
    return int(time.time() * 1000)


# -- how CTS builds it --------------------------------------------------------------------------


def test_create_ccxt_builds_the_cts_class_pointed_at_the_simulator() -> None:
    exchange = create_ccxt("pionex", "spot", base_url="http://127.0.0.1:9")
    assert isinstance(exchange, pionex) and isinstance(exchange, ccxt.Exchange)
    assert exchange.id == "pionex" and exchange.enableRateLimit is False
    assert exchange.urls["api"] == {"public": "http://127.0.0.1:9", "private": "http://127.0.0.1:9"}
    assert pionex().urls["api"]["private"] == "https://api.pionex.com"
    with pytest.raises(UnsupportedConnection, match="pionex spot has no testnet"):
        create_ccxt("pionex", "spot", testnet=True)


# -- public data --------------------------------------------------------------------------------


async def test_load_markets_lists_every_spot_instrument_with_its_grid(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect()
    since = time.time()
    markets = await exchange.load_markets()
    spot = [i for i in sim.ledgers["pionex"].instruments if i.kind is Kind.SPOT]
    assert set(markets) == {i.symbol for i in spot}
    btc = markets[BTC]
    assert (btc["id"], btc["type"], btc["spot"], btc["active"]) == ("BTC_USDT", "spot", True, True)
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.1, 0.00001)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00001, 5)
    assert markets["XRP/USDT"]["precision"]["amount"] == 1
    for market in markets.values():
        check_market(exchange, NO_SKIPS, "fetchMarkets", market)
    # has fetchCurrencies off: load_markets makes the one symbols request
    assert [r.path for r in sim.requests_since(since)] == ["/api/v1/common/symbols"]


async def test_fetch_time_is_the_exchange_clock_from_the_envelope(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect()
    assert abs(await exchange.fetch_time() - now_ms()) < 2000
    sim.faults.set({"clock_skew_ms": 7_000}, exchange="pionex")
    assert abs(await exchange.fetch_time() - now_ms() - 7_000) < 2000


async def test_tickers_are_the_simulated_prices_with_bid_and_ask(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    before = sim.prices.price("BTC")
    ticker = await exchange.fetch_ticker(BTC)
    after = sim.prices.price("BTC")
    assert_ticker_matches(ticker, "BTC", {before, after})
    check_ticker(exchange, NO_SKIPS, "fetchTicker", ticker, BTC)
    tickers = await exchange.fetch_tickers()
    assert set(tickers) == set(exchange.markets)
    for symbol, entry in tickers.items():
        check_ticker(exchange, NO_SKIPS, "fetchTickers", entry, symbol)
        assert entry["bid"] < entry["ask"]
    two = await exchange.fetch_tickers(["ETH/USDT", "SOL/USDT"])
    assert set(two) == {"ETH/USDT", "SOL/USDT"}


@pytest.mark.parametrize(("timeframe", "seconds"), [("1m", 60), ("1h", 3600), ("1d", 86400)])
async def test_ohlcv_are_the_price_books_candles(
    sim: Simulator, connect: Connect, timeframe: str, seconds: int
) -> None:
    exchange = connect()
    rows = await exchange.fetch_ohlcv(BTC, timeframe, limit=5)
    assert len(rows) == 5
    starts = [row[0] for row in rows]
    assert starts == [starts[0] + i * seconds * 1000 for i in range(5)]
    assert starts[-1] == now_ms() // (seconds * 1000) * seconds * 1000  # the one in progress
    for row in rows:
        check_ohlcv(exchange, NO_SKIPS, "fetchOHLCV", row, BTC, now_ms())
    expected = sim.prices.candles("BTC", seconds, limit=5)
    assert [Decimal(str(r[1])) for r in rows[:-1]] == [c.open for c in expected[:-1]]
    # since: the candles from that moment on (Pionex pages back from endTime)
    since = starts[0] - 3 * seconds * 1000
    earlier = await exchange.fetch_ohlcv(BTC, timeframe, since, 4)
    assert [r[0] for r in earlier] == [since + i * seconds * 1000 for i in range(4)]


async def test_order_book_is_one_tick_around_the_price(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    book = await exchange.fetch_order_book(BTC, 5)
    check_order_book(exchange, NO_SKIPS, "fetchOrderBook", book, BTC)
    assert len(book["bids"]) == len(book["asks"]) == 5
    spread = Decimal(str(book["asks"][0][0])) - Decimal(str(book["bids"][0][0]))
    assert spread == Decimal("0.2")  # bid and ask one 0.1 tick either side of the last price


async def test_unknown_symbol_is_a_bad_symbol(connect: Connect) -> None:
    exchange = connect()
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_market_depth({"symbol": "NOPE_USDT"})


# -- account and orders -------------------------------------------------------------------------


async def test_balance_is_the_ledgers(account: Account, connect: Connect) -> None:
    exchange = connect()
    balance = await exchange.fetch_balance()
    check_balance(exchange, NO_SKIPS, "fetchBalance", balance)
    assert ccxt_balances(balance) == ledger_balances(account)
    assert ccxt_balances(balance) == {
        "USDT": (Decimal(10000), Decimal(10000)),
        "BTC": (Decimal("0.25"), Decimal("0.25")),
    }


async def test_a_limit_order_rests_is_found_and_is_cancelled(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    price = (sim.prices.price("BTC") * Decimal("0.8")).quantize(Decimal("0.1"))  # it rests
    placed = await exchange.create_order(
        BTC, "limit", "buy", "0.01", str(price), {"clientOrderId": "cts-pionex-1"}
    )
    check_order(exchange, NO_SKIPS, "createOrder", placed, BTC, now_ms())
    assert placed["clientOrderId"] == "cts-pionex-1"
    held = account.orders[placed["id"]]
    assert (held.status, held.amount, held.price) == (OrderStatus.OPEN, Decimal("0.01"), price)

    fetched = await exchange.fetch_order(placed["id"], BTC)
    check_order(exchange, NO_SKIPS, "fetchOrder", fetched, BTC, now_ms())
    assert (fetched["status"], fetched["side"], fetched["type"]) == ("open", "buy", "limit")
    assert (fetched["amount"], fetched["filled"], fetched["remaining"]) == (0.01, 0, 0.01)
    assert fetched["timeInForce"] == "GTC"
    by_client = await exchange.fetch_order("", BTC, {"clientOrderId": "cts-pionex-1"})
    assert by_client["id"] == placed["id"]
    with pytest.raises(ccxt.OrderNotFound):  # Pionex looks up account-wide; ccxt per symbol
        await exchange.fetch_order(placed["id"], "ETH/USDT")

    open_orders = await exchange.fetch_open_orders(BTC)
    assert [o["id"] for o in open_orders] == [placed["id"]]
    for order in open_orders:
        check_order(exchange, NO_SKIPS, "fetchOpenOrders", order, BTC, now_ms())
    used = (await exchange.fetch_balance())["used"]["USDT"]
    assert Decimal(str(used)) > Decimal("0.01") * price  # the price plus the maker fee

    cancelled = await exchange.cancel_order(placed["id"], BTC)
    assert (cancelled["id"], cancelled["status"]) == (placed["id"], "canceled")
    assert account.orders[placed["id"]].status is OrderStatus.CANCELED
    assert await exchange.fetch_open_orders(BTC) == []
    closed = await exchange.fetch_closed_orders(BTC)
    assert [(o["id"], o["status"]) for o in closed] == [(placed["id"], "canceled")]
    for order in closed:
        check_order(exchange, NO_SKIPS, "fetchClosedOrders", order, BTC, now_ms())
    assert (await exchange.fetch_balance())["used"]["USDT"] == 0
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(placed["id"], BTC)


async def test_market_orders_fill_and_are_my_trades(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    price = sim.prices.price("BTC")
    # Pionex sizes a market buy in USDT: ccxt's convention, amount x price
    bought = await exchange.create_order(BTC, "market", "buy", "0.001", str(price))
    check_order(exchange, NO_SKIPS, "createOrder", bought, BTC, now_ms())
    buy = await exchange.fetch_order(bought["id"], BTC)
    check_order(exchange, NO_SKIPS, "fetchOrder", buy, BTC, now_ms())
    assert (buy["status"], buy["type"], buy["side"]) == ("closed", "market", "buy")
    assert Decimal(str(buy["cost"])) <= Decimal("0.001") * price
    assert buy["filled"] > 0 and buy["fee"]["currency"] == "USDT"
    with_cost = await exchange.create_market_buy_order_with_cost(BTC, 20)
    sold = await exchange.create_order(BTC, "market", "sell", "0.002")
    sell = await exchange.fetch_order(sold["id"], BTC)
    assert (sell["status"], sell["filled"], sell["amount"]) == ("closed", 0.002, 0.002)
    assert (
        account.balance("BTC").free
        == Decimal("0.25")
        - Decimal("0.002")
        + Decimal(str(buy["filled"]))
        + account.orders[with_cost["id"]].filled
    )

    trades = {t["order"]: t for t in await exchange.fetch_my_trades(BTC)}
    assert set(trades) == {bought["id"], with_cost["id"], sold["id"]}
    for trade in trades.values():
        check_trade(exchange, NO_SKIPS, "fetchMyTrades", trade, BTC, now_ms(), False)
        assert trade["takerOrMaker"] == "taker"
    assert trades[bought["id"]]["amount"] == buy["filled"]
    assert (trades[sold["id"]]["side"], trades[sold["id"]]["amount"]) == ("sell", 0.002)
    closed = await exchange.fetch_closed_orders(BTC)
    assert {o["id"]: o["status"] for o in closed} == {
        bought["id"]: "closed",
        with_cost["id"]: "closed",
        sold["id"]: "closed",
    }


async def test_a_market_buy_without_a_price_or_cost_is_refused_by_ccxts_convention(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect()
    exchange.options["marketBuyCostFromBook"] = False  # the class's default; CTS turns it on
    await exchange.load_markets()
    since = time.time()
    with pytest.raises(ccxt.InvalidOrder, match="quote asset"):
        await exchange.create_order(BTC, "market", "buy", "0.001")
    assert sim.requests_since(since) == []


async def test_as_cts_builds_it_a_market_buy_costs_the_amount_at_the_best_ask(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect()
    await exchange.load_markets()
    since = time.time()
    ask = sim.ledgers["pionex"].bid_ask(sim.ledgers["pionex"].instrument("BTC", Kind.SPOT))[1]
    placed = await exchange.create_order(BTC, "market", "buy", "0.002")
    assert [r.path for r in sim.requests_since(since)] == [
        "/api/v1/market/bookTickers",
        "/api/v1/trade/order",
    ]
    order = account.orders[placed["id"]]
    assert order.status is OrderStatus.FILLED
    # USDT 0.002 x ask, bought at the ask of that moment (floored to the 0.00001 BTC step)
    assert Decimal("0.00199") <= order.filled <= Decimal("0.002")
    assert abs(order.filled * order.average - Decimal("0.002") * ask) < 2  # a step: 0.75 USDT


async def test_order_refusals_map_to_ccxt_exceptions(connect: Connect) -> None:
    exchange = connect()
    await exchange.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "market", "sell", "5")
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("123456", BTC)
    with pytest.raises(ccxt.BadRequest):  # below the 5 USDT minimum
        await exchange.create_order(BTC, "limit", "buy", "0.00001", "100")
    await exchange.create_order(BTC, "limit", "buy", "0.001", "30000", {"clientOrderId": "dup"})
    with pytest.raises(ccxt.DuplicateOrderId):
        await exchange.create_order(BTC, "limit", "buy", "0.001", "30000", {"clientOrderId": "dup"})
    with pytest.raises(ccxt.ArgumentsRequired):
        await exchange.fetch_open_orders()


# -- refusals -----------------------------------------------------------------------------------


async def test_a_wrong_key_or_secret_is_an_authentication_error(
    account: Account, connect: Connect
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="INVALID_APIKEY"):
        await connect(api_key="not-a-key").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="INVALID_SIGNATURE") as refused:
        await connect(secret="0" * len(account.secret)).fetch_balance()
    assert account.secret not in str(refused.value)
    account.revoked = True
    with pytest.raises(ccxt.AuthenticationError, match="APIKEY_EXPIRED"):
        await connect().fetch_balance()


async def test_a_stale_timestamp_is_an_invalid_nonce(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    sim.faults.set({"clock_skew_ms": 21_000}, exchange="pionex")
    with pytest.raises(ccxt.InvalidNonce, match="INVALID_TIMESTAMP"):
        await exchange.fetch_balance()
    sim.faults.set({"clock_skew_ms": 15_000}, exchange="pionex")  # within Pionex's 20 s
    assert (await exchange.fetch_balance())["USDT"]["total"] == 10000


async def test_a_key_without_permission_is_refused(sim: Simulator, connect: Connect) -> None:
    reader = sim.open_account("pionex", balances=BALANCES, permissions=Permissions(spot=False))
    exchange = connect(api_key=reader.api_key, secret=reader.secret)
    assert (await exchange.fetch_balance())["BTC"]["free"] == 0.25
    with pytest.raises(ccxt.PermissionDenied, match="PERMISSION_DENIED"):
        await exchange.create_order(BTC, "limit", "buy", "0.001", "30000")


@pytest.mark.parametrize("private", [False, True])
async def test_too_many_requests_is_rate_limit_exceeded(
    sim: Simulator, connect: Connect, private: bool
) -> None:
    exchange = connect()
    await exchange.load_markets()
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="pionex")
    with pytest.raises(ccxt.RateLimitExceeded):
        await (exchange.fetch_balance() if private else exchange.fetch_order_book(BTC))
    assert exchange.last_response_headers["Retry-After"] == "3"
    assert json.loads(exchange.last_http_response)["code"] == "RATE_LIMIT"
    await exchange.fetch_order_book(BTC)  # the burst is over


async def test_an_exchange_that_is_down_is_not_available(sim: Simulator, connect: Connect) -> None:
    exchange = connect()
    sim.faults.set({"down": True}, exchange="pionex")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_time()


# -- the wire, by hand --------------------------------------------------------------------------


def signed(secret: str, method: str, path: str, query: dict[str, str], body: str = "") -> str:
    """PIONEX-SIGNATURE as Pionex's documentation spells it out."""
    ordered = "&".join(f"{k}={query[k]}" for k in sorted(query))
    payload = f"{method}{path}?{ordered}{body}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def test_the_documented_signature_is_accepted_and_a_changed_one_refused(
    sim: Simulator, account: Account
) -> None:
    path = "/api/v1/trade/order"
    body = json.dumps(
        {
            "symbol": "BTC_USDT",
            "side": "BUY",
            "type": "LIMIT",
            "size": "0.001",
            "price": "30000",
            "clientOrderId": "by-hand-1",
        }
    )
    query = {"timestamp": str(now_ms())}
    headers = {"PIONEX-KEY": account.api_key, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        good = {**headers, "PIONEX-SIGNATURE": signed(account.secret, "POST", path, query, body)}
        async with http.post(sim.base_url + path, params=query, data=body, headers=good) as r:
            answer = await r.json()
            assert r.status == 200 and answer["result"] is True
            assert answer["data"]["clientOrderId"] == "by-hand-1"
            assert abs(answer["timestamp"] - now_ms()) < 2000
        # the body is signed: another body under the same signature is refused
        other = body.replace("30000", "30001")
        async with http.post(sim.base_url + path, params=query, data=other, headers=good) as r:
            answer = await r.json()
            assert r.status == 401 and answer["result"] is False
            assert answer["code"] == "INVALID_SIGNATURE"
        # a GET signs its sorted query, timestamp included
        query = {"symbol": "BTC_USDT", "timestamp": str(now_ms())}
        sig = signed(account.secret, "GET", "/api/v1/trade/openOrders", query)
        async with http.get(
            sim.base_url + "/api/v1/trade/openOrders",
            params=query,
            headers={"PIONEX-KEY": account.api_key, "PIONEX-SIGNATURE": sig},
        ) as r:
            answer = await r.json()
            assert [o["clientOrderId"] for o in answer["data"]["orders"]] == ["by-hand-1"]
            assert answer["data"]["orders"][0]["status"] == "OPEN"
        async with http.get(sim.base_url + "/api/v1/account/balances") as r:
            answer = await r.json()
            assert (r.status, answer["code"]) == (401, "APIKEY_LOST")
        async with http.get(
            sim.base_url + "/api/v1/account/balances", headers={"PIONEX-KEY": account.api_key}
        ) as r:
            assert (await r.json())["code"] == "SIGNATURE_LOST"


async def test_pionex_paths_are_pionexs_beside_binances_api_v1() -> None:
    """Binance's dialect claims /api/v1/ too: the longer Pionex prefixes win."""
    simulator = Simulator(seed=3)
    await simulator.start()
    try:
        simulator.faults.set({"rate_limit_burst": 1}, exchange="pionex")
        async with aiohttp.ClientSession() as http:
            url = simulator.base_url + "/api/v1/market/depth?symbol=BTC_USDT"
            async with http.get(url) as r:  # Pionex's fault, Pionex's answer
                assert (r.status, (await r.json())["code"]) == (429, "RATE_LIMIT")
            async with http.get(url) as r:
                assert (await r.json())["result"] is True
        assert [r.exchange for r in simulator.requests] == ["pionex", "pionex"]
    finally:
        await simulator.stop()
