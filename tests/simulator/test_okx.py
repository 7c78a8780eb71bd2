"""The OKX v5 dialect against unmodified ccxt, built exactly as CTS builds it (create_ccxt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.simulator.dialects.okx import OkxDialect
from server.simulator.instruments import ASSETS, Kind
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator
from tests.support.ccxt_checks import assert_ticker_matches, ccxt_balances, ledger_balances
from tests.support.simulated import ccxt_instances, running_simulator

API_TYPES = ("spot", "perpetual_futures")
BTC = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
KINDS = {"spot": Kind.SPOT, "perpetual_futures": Kind.LINEAR}
# one swap contract is 100 amount steps: 0.001 BTC, and trades in lots of 0.01 contracts
BTC_CONTRACT = Decimal("0.001")
Connect = Callable[..., Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(17, OkxDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("okx")


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """Makes CTS's ccxt instances for the simulator (the test's account unless told otherwise)."""
    async with ccxt_instances(sim, "okx", account) as instances:
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
    expected = {i.symbol for i in sim.ledgers["okx"].instruments if i.kind is kind}
    assert set(markets) == expected
    btc = markets[BTC[api_type]]
    assert btc["active"] is True
    assert btc["precision"]["price"] == 0.1
    xrp = markets[BTC[api_type].replace("BTC", "XRP")]
    assert xrp["precision"]["price"] == 0.0001
    if api_type == "spot":
        assert (btc["id"], btc["type"], btc["spot"]) == ("BTC-USDT", "spot", True)
        assert (btc["precision"]["amount"], btc["limits"]["amount"]["min"]) == (0.00001, 0.00001)
        assert xrp["precision"]["amount"] == 1
        assert btc["limits"]["leverage"]["max"] == 1
    else:
        assert (btc["id"], btc["type"], btc["linear"]) == ("BTC-USDT-SWAP", "swap", True)
        assert (btc["settle"], btc["contractSize"]) == ("USDT", float(BTC_CONTRACT))
        assert (btc["precision"]["amount"], btc["limits"]["amount"]["min"]) == (0.01, 0.01)
        assert xrp["contractSize"] == 100  # 100 amount steps of 1 XRP
        assert btc["limits"]["leverage"]["max"] == 100
    # CTS's options cut load_markets to the one instrument list of its market type.
    requests = sim.requests_since(since)
    assert [r.path for r in requests] == ["/api/v5/public/instruments"]


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
    assert set(tickers) == set(exchange.markets)
    for symbol, each in tickers.items():
        base = exchange.markets[symbol]["base"]
        assert_ticker_matches(each, base, {before[base], after[base]})
        assert each["high"] >= each["low"] > 0
        assert each["baseVolume"] > 0


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_ohlcv_candles_ascend_and_are_consistent(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
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
    book = sim.prices.candles("BTC", 60, since=candles[0][0] / 1000, limit=1)[0]
    assert candles[0][1:6] == [
        float(book.open),
        float(book.high),
        float(book.low),
        float(book.close),
        float(book.volume),  # base volume for both (ccxt reads contracts' volCcy for swaps)
    ]
    since = int(time.time() * 1000) - 10 * 3_600_000
    hourly = await exchange.fetch_ohlcv(BTC[api_type], "1h", since=since, limit=5)
    assert len(hourly) == 5
    assert hourly[0][0] >= since and hourly[0][0] - since < 3_600_000
    assert [row[0] for row in hourly] == sorted(row[0] for row in hourly)
    for bar, length in (("5m", 300_000), ("15m", 900_000), ("4h", 14_400_000)):
        rows = await exchange.fetch_ohlcv(BTC[api_type], bar, limit=4)
        assert [b[0] - a[0] for a, b in itertools.pairwise(rows)] == [length] * 3
    daily = await exchange.fetch_ohlcv(BTC[api_type], "1d", limit=3)  # ccxt asks for 1Dutc
    assert [row[0] % 86_400_000 for row in daily] == [0, 0, 0]


async def test_hong_kong_daily_bars_start_at_16_utc(sim: Simulator, connect: Connect) -> None:
    """OKX's bars of 6H and longer without "utc" start at midnight in UTC+8."""
    exchange = connect("spot")
    rows = (await exchange.public_get_market_candles({"instId": "BTC-USDT", "bar": "1D"}))["data"]
    assert len(rows) == 100
    assert {int(r[0]) % 86_400_000 for r in rows} == {16 * 3_600_000}
    assert [r[8] for r in rows[:2]] == ["0", "1"]  # newest first; only the newest in progress
    start = int(rows[1][0])
    thirds = sim.prices.candles("BTC", 8 * 3600, since=start / 1000, limit=3)  # of the day
    assert (Decimal(rows[1][1]), Decimal(rows[1][4])) == (thirds[0].open, thirds[-1].close)
    assert Decimal(rows[1][2]) == max(t.high for t in thirds)
    assert Decimal(rows[1][3]) == min(t.low for t in thirds)


async def test_candles_page_with_after_and_before(connect: Connect) -> None:
    exchange = connect("spot")
    newest = (await exchange.public_get_market_candles({"instId": "BTC-USDT", "limit": 3}))["data"]
    stamps = [int(r[0]) for r in newest]
    assert [a - b for a, b in itertools.pairwise(stamps)] == [60_000, 60_000]
    older = await exchange.public_get_market_history_candles(
        {"instId": "BTC-USDT", "after": stamps[-1], "limit": 2}
    )
    assert [int(r[0]) for r in older["data"]] == [stamps[-1] - 60_000, stamps[-1] - 120_000]
    between = await exchange.public_get_market_candles(
        {"instId": "BTC-USDT", "after": stamps[0], "before": stamps[-1]}
    )
    assert [int(r[0]) for r in between["data"]] == [stamps[1]]


async def test_unknown_symbols_are_refused_by_the_server(connect: Connect) -> None:
    exchange = connect("spot")
    with pytest.raises(ccxt.BadSymbol, match="51001"):
        await exchange.public_get_market_ticker({"instId": "FOO-USDT"})
    with pytest.raises(ccxt.BadSymbol, match="51001"):
        await exchange.public_get_market_candles({"instId": "FOO-USDT-SWAP", "bar": "1m"})
    order = {"instId": "FOO-USDT", "tdMode": "cash", "side": "buy", "ordType": "market"}
    with pytest.raises(ccxt.BadSymbol, match="51001"):
        await exchange.private_post_trade_order({**order, "sz": "1"})


# -- the account --------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_balance_is_the_ledger(account: Account, connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    balance = await exchange.fetch_balance()
    assert ccxt_balances(balance) == ledger_balances(account)
    assert ledger_balances(account)["BTC"] == (Decimal("0.25"), Decimal("0.25"))


async def test_account_config_reports_the_key_permissions(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("spot")
    config = (await exchange.private_get_account_config())["data"][0]
    assert config["perm"] == "read_only,trade"
    assert (config["acctLv"], config["posMode"]) == ("2", "net_mode")
    accounts = await exchange.fetch_accounts()
    assert [a["type"] for a in accounts] == ["2"]

    payer = sim.open_account("okx", permissions=Permissions(withdraw=True))
    withdrawing = connect(
        "spot", api_key=payer.api_key, secret=payer.secret, passphrase=payer.passphrase
    )
    perm = (await withdrawing.private_get_account_config())["data"][0]["perm"]
    assert perm.split(",") == ["read_only", "withdraw", "trade"]

    viewer = sim.open_account("okx", permissions=Permissions(spot=False, derivatives=False))
    readonly = connect(
        "spot", api_key=viewer.api_key, secret=viewer.secret, passphrase=viewer.passphrase
    )
    assert (await readonly.private_get_account_config())["data"][0]["perm"] == "read_only"
    before = ledger_balances(viewer)
    # OKX answers 50120, which ccxt does not map to PermissionDenied: a plain ExchangeError.
    with pytest.raises(ccxt.ExchangeError, match="50120") as refused:
        await readonly.create_order("BTC/USDT", "market", "buy", 0.001)
    assert not isinstance(refused.value, ccxt.AuthenticationError)
    assert ledger_balances(viewer) == before and not viewer.orders


# -- orders and positions -----------------------------------------------------------------------


async def test_spot_limit_and_market_orders(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    price = sim.prices.price("BTC")
    limit_price = float((price * Decimal("0.8")).quantize(Decimal("0.1")))
    placed = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.01, limit_price, {"clientOrderId": "ctsLimit1"}
    )
    assert placed["clientOrderId"] == "ctsLimit1"
    opened = await exchange.fetch_open_orders("BTC/USDT")
    assert [(o["id"], o["clientOrderId"], o["status"]) for o in opened] == [
        (placed["id"], "ctsLimit1", "open")
    ]
    assert (opened[0]["price"], opened[0]["amount"], opened[0]["remaining"]) == (
        limit_price,
        0.01,
        0.01,
    )
    assert account.balances["USDT"].locked > 0
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)

    await exchange.cancel_order(placed["id"], "BTC/USDT")
    assert await exchange.fetch_open_orders("BTC/USDT") == []
    assert account.balances["USDT"].locked == 0
    canceled = await exchange.fetch_order(placed["id"], "BTC/USDT")
    assert (canceled["status"], canceled["filled"]) == ("canceled", 0)
    with pytest.raises(ccxt.OrderNotFound, match="51401"):  # already canceled
        await exchange.cancel_order(placed["id"], "BTC/USDT")

    bought = await exchange.create_order(
        "BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "ctsMarket1"}
    )
    filled = await exchange.fetch_order(bought["id"], "BTC/USDT")
    assert (filled["status"], filled["clientOrderId"], filled["filled"]) == (
        "closed",
        "ctsMarket1",
        0.01,
    )
    by_client_id = await exchange.fetch_order("", "BTC/USDT", {"clientOrderId": "ctsMarket1"})
    assert by_client_id["id"] == bought["id"]
    average = Decimal(str(filled["average"]))
    assert average == sim.ledgers["okx"].find(account, order_id=bought["id"]).average
    assert Decimal(str(filled["fee"]["cost"])) == Decimal("0.01") * average * Decimal("0.001")
    balance = await exchange.fetch_balance()
    assert ccxt_balances(balance) == ledger_balances(account)
    assert Decimal(str(balance["BTC"]["total"])) == Decimal("0.26")
    spent = Decimal("0.01") * average * Decimal("1.001")
    assert Decimal(str(balance["USDT"]["total"])) == Decimal(10_000) - spent
    closed = await exchange.fetch_closed_orders("BTC/USDT")
    assert [o["id"] for o in closed] == [bought["id"]]  # ccxt asks for state=filled


async def test_market_buy_sized_in_quote_currency(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    """OKX sizes spot market buys in the quote currency unless tgtCcy says otherwise."""
    sim.prices.set_price("ETH", "3000")
    exchange = connect("spot")
    answer = await exchange.private_post_trade_order(
        {
            "instId": "ETH-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "300.001",
        }
    )
    order = sim.ledgers["okx"].find(account, order_id=answer["data"][0]["ordId"])
    assert (order.amount, order.average) == (Decimal("0.1"), Decimal("3000.01"))
    shown = await exchange.fetch_order(order.id, "ETH/USDT")
    assert (shown["cost"], shown["info"]["tgtCcy"], shown["filled"]) == (300.001, "quote_ccy", 0.1)


async def test_resting_limit_order_fills_when_the_price_reaches_it(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    sim.prices.set_price("BTC", "60000")
    exchange = connect("spot")
    await exchange.load_markets()
    placed = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.002, 59_000, {"clientOrderId": "ctsDip1"}
    )
    assert (await exchange.fetch_order(placed["id"], "BTC/USDT"))["status"] == "open"
    sim.prices.set_price("BTC", "58900")
    filled = await exchange.fetch_order(placed["id"], "BTC/USDT")
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 0.002, 59_000)
    assert await exchange.fetch_open_orders("BTC/USDT") == []
    assert account.balances["USDT"].locked == 0
    assert account.balances["BTC"].total == Decimal("0.252")
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)


async def test_swap_orders_are_in_contracts_and_open_and_close_a_position(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    symbol = "BTC/USDT:USDT"
    sim.prices.set_price("BTC", "65000")
    exchange = connect("perpetual_futures")
    await exchange.load_markets()
    resting = await exchange.create_order(
        symbol, "limit", "sell", 3, 70_000, {"clientOrderId": "perpLimit1"}
    )
    opened = await exchange.fetch_open_orders(symbol)
    assert [(o["clientOrderId"], o["side"], o["price"], o["amount"]) for o in opened] == [
        ("perpLimit1", "sell", 70_000, 3)
    ]
    assert sim.ledgers["okx"].find(account, order_id=resting["id"]).amount == 3 * BTC_CONTRACT
    await exchange.cancel_order(resting["id"], symbol)
    assert await exchange.fetch_open_orders() == []

    bought = await exchange.create_order(
        symbol, "market", "buy", 20, None, {"clientOrderId": "perpMarket1"}
    )
    order = sim.ledgers["okx"].find(account, order_id=bought["id"])
    assert (order.amount, order.average) == (20 * BTC_CONTRACT, Decimal("65000.1"))
    positions = await exchange.fetch_positions()
    assert [(p["symbol"], p["side"], p["contracts"]) for p in positions] == [(symbol, "long", 20)]
    position = positions[0]
    assert Decimal(str(position["entryPrice"])) == order.average
    assert (position["leverage"], position["marginMode"]) == (account.leverage, "cross")
    upl = (Decimal(65000) - order.average) * 20 * BTC_CONTRACT
    assert Decimal(str(position["unrealizedPnl"])) == upl
    margin = 20 * BTC_CONTRACT * order.average / account.leverage
    assert account.balances["USDT"].locked == margin
    assert Decimal(str(position["initialMargin"])) == margin
    # OKX's equity counts the unrealised PnL of the USDT-margined position.
    ledger = ledger_balances(account)
    shown = ccxt_balances(await exchange.fetch_balance())
    assert shown["BTC"] == ledger["BTC"]
    assert shown["USDT"] == (ledger["USDT"][0] + upl, ledger["USDT"][1] + upl)

    await exchange.create_order(symbol, "market", "sell", 20, None, {"reduceOnly": True})
    assert await exchange.fetch_positions() == []
    assert account.balances["USDT"].locked == 0
    assert ccxt_balances(await exchange.fetch_balance()) == ledger_balances(account)
    with pytest.raises(ccxt.InvalidOrder, match="51205"):  # nothing left to reduce
        await exchange.create_order(symbol, "market", "sell", 20, None, {"reduceOnly": True})


async def test_positions_of_chosen_symbols(connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    await exchange.load_markets()
    await exchange.create_order("ETH/USDT:USDT", "market", "sell", 5, None)
    assert await exchange.fetch_positions(["BTC/USDT:USDT"]) == []
    positions = await exchange.fetch_positions(["ETH/USDT:USDT", "BTC/USDT:USDT"])
    assert [(p["symbol"], p["contracts"], p["side"]) for p in positions] == [
        ("ETH/USDT:USDT", 5, "short")
    ]
    assert positions[0]["contractSize"] == 0.01


async def test_leverage_applies_to_new_positions(account: Account, connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    await exchange.load_markets()
    await exchange.set_leverage(5, "BTC/USDT:USDT", {"marginMode": "cross"})
    assert account.leverage == 5
    with pytest.raises(ccxt.ExchangeError, match="59102"):
        await exchange.set_leverage(101, "BTC/USDT:USDT", {"marginMode": "cross"})
    await exchange.create_order("BTC/USDT:USDT", "market", "buy", 10, None)
    (position,) = await exchange.fetch_positions()
    assert position["leverage"] == 5
    assert Decimal(str(position["initialMargin"])) == account.balances["USDT"].locked


async def test_sizes_off_the_lot_are_refused(connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    body = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market"}
    with pytest.raises(ccxt.InvalidOrder, match="51121"):
        await exchange.private_post_trade_order({**body, "sz": "1.005"})
    with pytest.raises(ccxt.BadRequest, match="tdMode"):
        await exchange.private_post_trade_order({**body, "sz": "1", "tdMode": "cash"})


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_duplicate_client_order_id_is_refused(
    account: Account, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    amount = 0.001 if api_type == "spot" else 1
    params = {"clientOrderId": "sameId"}
    await exchange.create_order(BTC[api_type], "market", "buy", amount, None, params)
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        await exchange.create_order(BTC[api_type], "market", "buy", amount, None, params)
    assert len(account.orders) == 1


async def test_client_order_ids_must_be_alphanumeric(connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    with pytest.raises(ccxt.BadRequest, match="clOrdId"):
        await exchange.create_order(
            "BTC/USDT", "market", "buy", 0.001, None, {"clientOrderId": "cts-1"}
        )


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_insufficient_funds(account: Account, connect: Connect, api_type: str) -> None:
    exchange = connect(api_type)
    await exchange.load_markets()
    before = ledger_balances(account)
    amount = 5 if api_type == "spot" else 5000  # 5 BTC either way
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        await exchange.create_order(BTC[api_type], "market", "buy", amount, None)
    assert ledger_balances(account) == before


async def test_orders_below_the_minimum_value_are_invalid(connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    with pytest.raises(ccxt.InvalidOrder, match="51020"):
        await exchange.create_order("BTC/USDT", "market", "buy", 0.00001, None)


async def test_unknown_orders_are_not_found(connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await exchange.fetch_order("123456", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await exchange.cancel_order("123456", "BTC/USDT")


# -- refusals of the gateway ---------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_bad_credentials_are_authentication_errors(
    sim: Simulator, account: Account, connect: Connect, api_type: str
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="50113"):
        await connect(api_type, secret="not-the-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="50105"):
        await connect(api_type, passphrase="not-the-passphrase").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="50111"):
        await connect(api_type, api_key="no-such-key").fetch_balance()
    exchange = connect(api_type)
    await exchange.fetch_balance()
    sim.account(account.api_key).revoked = True
    with pytest.raises(ccxt.AuthenticationError, match="50111"):
        await exchange.fetch_balance()


async def test_clock_skew_is_an_invalid_nonce(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    await exchange.fetch_balance()
    sim.faults.set({"clock_skew_ms": 31_000}, exchange="okx")
    assert abs(await exchange.fetch_time() - (time.time() * 1000 + 31_000)) < 2000
    with pytest.raises(ccxt.InvalidNonce, match="50102"):
        await exchange.fetch_balance()
    sim.faults.set({"clock_skew_ms": 20_000}, exchange="okx")  # within OKX's 30 s
    assert ccxt_balances(await exchange.fetch_balance())


async def test_rate_limit_burst_asks_to_retry_later(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="okx")
    with pytest.raises(ccxt.RateLimitExceeded, match="50011"):
        await exchange.fetch_time()
    headers = {k.lower(): v for k, v in exchange.last_response_headers.items()}
    assert headers["retry-after"] == "3"
    assert await exchange.fetch_time() > 0  # the burst is over


async def test_down_and_maintenance_are_not_available(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    sim.faults.set({"down": True}, exchange="okx")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="50013") as down:
        await exchange.fetch_time()
    assert not isinstance(down.value, ccxt.OnMaintenance)
    sim.faults.set({"down": False, "maintenance": True}, exchange="okx")
    with pytest.raises(ccxt.OnMaintenance, match="50001"):
        await exchange.fetch_balance()
    sim.faults.set({"maintenance": False}, exchange="okx")
    assert await exchange.fetch_time() > 0


def okx_headers(
    account: Account, method: str, path: str, body: str = "", at_ms: int | None = None
) -> dict[str, str]:
    """OKX v5 auth headers for ``method`` on ``path`` (with its query string) and ``body``."""
    ms = at_ms if at_ms is not None else int(time.time() * 1000)
    stamp = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )
    digest = hmac.new(
        account.secret.encode(), (stamp + method + path + body).encode(), hashlib.sha256
    ).digest()
    return {
        "OK-ACCESS-KEY": account.api_key,
        "OK-ACCESS-PASSPHRASE": account.passphrase or "",
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


async def test_wire_envelope_and_gateway_statuses(sim: Simulator, account: Account) -> None:
    """Without ccxt: OKX's envelope, and the HTTP status and code of gateway refusals."""
    base = sim.base_url
    path = "/api/v5/account/balance"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v5/public/time") as response:
            body = await response.json()
        assert set(body) == {"code", "msg", "data"}
        assert (response.status, body["code"], body["msg"]) == (200, "0", "")
        assert abs(int(body["data"][0]["ts"]) - time.time() * 1000) < 2000

        headers = okx_headers(account, "GET", path)
        for missing, code in (
            ("OK-ACCESS-KEY", "50103"),
            ("OK-ACCESS-PASSPHRASE", "50104"),
            ("OK-ACCESS-SIGN", "50106"),
            ("OK-ACCESS-TIMESTAMP", "50107"),
        ):
            partial = {k: v for k, v in headers.items() if k != missing}
            async with http.get(base + path, headers=partial) as r:
                assert (r.status, (await r.json())["code"]) == (401, code)
        malformed = headers | {"OK-ACCESS-TIMESTAMP": str(int(time.time()))}
        async with http.get(base + path, headers=malformed) as r:
            assert (r.status, (await r.json())["code"]) == (401, "50112")
        async with http.get(f"{base}/api/v5/public/instruments") as r:
            assert (await r.json())["code"] == "50014"  # instType is required
        async with http.get(f"{base}/api/v5/no/such/route") as response:
            assert response.status == 404
        sim.faults.set({"rate_limit_burst": 1}, exchange="okx")
        async with http.get(f"{base}/api/v5/public/time") as response:
            body = await response.json()
        assert (response.status, body["code"], body["msg"]) == (429, "50011", "Too Many Requests")


async def test_wire_signature_covers_query_body_and_time(sim: Simulator, account: Account) -> None:
    """Without ccxt: the sign covers the path with its query as sent, the raw body, the time."""
    base = sim.base_url
    query_path = "/api/v5/account/balance?ccy=BTC,USDT"
    order = json.dumps(
        {
            "instId": "ETH-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "0.01",
            "tgtCcy": "base_ccy",
            "clOrdId": "wire1",
        }
    )
    place = "/api/v5/trade/order"
    async with aiohttp.ClientSession() as http:
        headers = okx_headers(account, "GET", query_path)
        async with http.get(base + query_path, headers=headers) as response:
            details = (await response.json())["data"][0]["details"]
        assert [(d["ccy"], d["cashBal"]) for d in details] == [("BTC", "0.25"), ("USDT", "10000")]
        unsigned_query = okx_headers(account, "GET", "/api/v5/account/balance")
        async with http.get(base + query_path, headers=unsigned_query) as response:
            assert (await response.json())["code"] == "50113"

        signed = okx_headers(account, "POST", place, order)
        async with http.post(base + place, data=order, headers=signed) as response:
            answer = await response.json()
        assert (answer["code"], answer["data"][0]["sCode"], answer["data"][0]["clOrdId"]) == (
            "0",
            "0",
            "wire1",
        )
        tampered = order.replace("0.01", "0.02").replace("wire1", "wire2")
        signed_for_original = okx_headers(account, "POST", place, order)
        async with http.post(base + place, data=tampered, headers=signed_for_original) as r:
            assert (await r.json())["code"] == "50113"
        again = order.replace("wire1", "wire3")
        stale = okx_headers(account, "POST", place, again, at_ms=int(time.time() * 1000) - 31_000)
        async with http.post(base + place, data=again, headers=stale) as response:
            assert (await response.json())["code"] == "50102"
    assert account.balances["ETH"].total == Decimal("2.01")  # only the signed order was placed


async def test_batch_orders_report_each_outcome(sim: Simulator, account: Account) -> None:
    """ccxt's default create_order posts a one-item batch; mixed batches answer code 2."""
    base = sim.base_url
    path = "/api/v5/trade/batch-orders"
    sim.prices.set_price("SOL", "150")
    good = {
        "instId": "SOL-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": "100",
        "sz": "1",
        "clOrdId": "batch1",
    }
    bad = good | {"instId": "NOPE-USDT", "clOrdId": "batch2"}
    body = json.dumps([good, bad])
    async with aiohttp.ClientSession() as http:
        headers = okx_headers(account, "POST", path, body)
        async with http.post(base + path, data=body, headers=headers) as response:
            answer = await response.json()
    assert answer["code"] == "2"
    assert [(d["clOrdId"], d["sCode"]) for d in answer["data"]] == [
        ("batch1", "0"),
        ("batch2", "51001"),
    ]
    assert [o.client_order_id for o in account.orders.values()] == ["batch1"]
