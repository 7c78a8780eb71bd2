"""The BingX dialect's orders, fills, positions and refusals, through unmodified ccxt ``bingx``
(default options) over real HTTP; every structure goes through ccxt's own validators."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from server.exchange.errors import ExchangeFailure, translate
from server.simulator.instruments import QUOTE
from server.simulator.ledger import Account, OrderStatus
from server.simulator.server import Simulator
from tests.simulator.bingx_fixtures import API_TYPES, BTC, Connect, account, connect, sim
from tests.support.bingx_validators import check_order, check_position, check_trade

__all__ = ["account", "connect", "sim"]  # the fixtures

# What ccxt's bingx leaves empty in every position, against BingX itself too.
POSITION_GAPS = {
    # ccxt reads ``openTime``, which only BingX's position history carries.
    "timestamp": "BingX's positions carry no opening time",
    "datetime": "BingX's positions carry no opening time",
    # ccxt fills collateral in only for isolated positions; these are cross-margined.
    "collateral": "ccxt reads BingX's collateral only for isolated positions",
}


def quoted(value: object) -> Decimal:
    return Decimal(str(value))


# -- spot ---------------------------------------------------------------------------------------


async def test_spot_limit_order_lifecycle(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("spot", plain=True)
    await exchange.load_markets()
    symbol = BTC["spot"]
    low = (sim.prices.price("BTC") * Decimal("0.8")).quantize(Decimal("0.1"))
    created = await exchange.create_order(
        symbol, "limit", "buy", 0.001, float(low), {"clientOrderId": "cts-spot-1"}
    )
    check_order(exchange, created, symbol)
    assert (created["status"], created["clientOrderId"]) == ("open", "cts-spot-1")
    locked = account.balances[QUOTE].locked
    assert locked >= low * Decimal("0.001")

    fetched = await exchange.fetch_order(created["id"], symbol)
    by_client = await exchange.fetch_order("", symbol, {"clientOrderID": "cts-spot-1"})
    opened = await exchange.fetch_open_orders(symbol)
    for order in (fetched, by_client, *opened):
        check_order(exchange, order, symbol)
    assert fetched["id"] == by_client["id"] == created["id"]
    assert (fetched["status"], quoted(fetched["price"]), quoted(fetched["amount"])) == (
        "open",
        low,
        Decimal("0.001"),
    )
    assert [o["id"] for o in opened] == [created["id"]]

    canceled = await exchange.cancel_order(created["id"], symbol)
    check_order(exchange, canceled, symbol)
    assert canceled["status"] == "canceled"
    assert account.balances[QUOTE].locked == 0
    assert await exchange.fetch_open_orders(symbol) == []
    assert [o["id"] for o in await exchange.fetch_canceled_orders(symbol)] == [created["id"]]
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(created["id"], symbol)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("", symbol, {"clientOrderID": "no-such-order"})


async def test_spot_market_orders_fill_and_leave_trades(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("spot", plain=True)
    await exchange.load_markets()
    symbol = BTC["spot"]
    usdt_before, btc_before = account.balances["USDT"].total, account.balances["BTC"].total
    bought = await exchange.create_order(symbol, "market", "buy", 0.002)
    check_order(exchange, bought, symbol)
    sold = await exchange.create_order(
        symbol, "market", "sell", 0.001, None, {"clientOrderId": "s1"}
    )
    assert account.balances["BTC"].total == btc_before + Decimal("0.001")
    assert account.balances["USDT"].total < usdt_before

    closed = await exchange.fetch_closed_orders(symbol)
    assert {o["id"] for o in closed} == {bought["id"], sold["id"]}
    for order in closed:
        check_order(exchange, order, symbol)
        assert order["status"] == "closed" and order["filled"] == order["amount"]
        assert order["average"] > 0 and order["fee"]["cost"] > 0
    by_client = await exchange.fetch_order("", symbol, {"clientOrderID": "s1"})
    assert (by_client["id"], by_client["status"], by_client["side"]) == (
        sold["id"],
        "closed",
        "sell",
    )

    trades = await exchange.fetch_my_trades(symbol)
    for trade in trades:
        check_trade(exchange, trade, symbol)
    assert [(t["order"], t["side"], t["takerOrMaker"]) for t in trades] == [
        (bought["id"], "buy", "taker"),
        (sold["id"], "sell", "taker"),
    ]
    ledger_buy = account.orders[bought["id"]]
    assert quoted(trades[0]["amount"]) == ledger_buy.filled
    assert quoted(trades[0]["price"]) == ledger_buy.average
    assert quoted(trades[0]["fee"]["cost"]) == ledger_buy.fee
    # A market buy by value (quoteOrderQty) is filled for that much.
    by_cost = await exchange.create_market_buy_order_with_cost(symbol, 50)
    order = account.orders[by_cost["id"]]
    assert order.status is OrderStatus.FILLED and order.filled * order.average <= 50


# -- swap ---------------------------------------------------------------------------------------


async def test_swap_orders_open_and_close_a_position(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    exchange = connect("perpetual_futures", plain=True)
    await exchange.load_markets()
    symbol = BTC["perpetual_futures"]
    answer = await exchange.set_leverage(5, symbol, {"side": "BOTH"})
    assert answer["data"]["leverage"] == 5 and account.leverage == 5

    opened = await exchange.create_order(
        symbol, "market", "buy", 0.01, None, {"clientOrderId": "cts-swap-1"}
    )
    check_order(exchange, opened, symbol)
    filled = await exchange.fetch_order(opened["id"], symbol)
    check_order(exchange, filled, symbol)
    assert (filled["status"], filled["clientOrderId"], filled["filled"]) == (
        "closed",
        "cts-swap-1",
        0.01,
    )
    by_client = await exchange.fetch_order("", symbol, {"clientOrderID": "cts-swap-1"})
    assert by_client["id"] == opened["id"]

    positions = await exchange.fetch_positions([symbol])
    assert len(positions) == 1
    position = positions[0]
    check_position(exchange, position, symbol, POSITION_GAPS)
    ledger_position = account.positions[symbol]
    assert (position["side"], position["contracts"], position["leverage"]) == ("long", 0.01, 5)
    assert quoted(position["entryPrice"]) == ledger_position.entry_price
    assert quoted(position["initialMargin"]) == ledger_position.margin

    low = (sim.prices.price("BTC") * Decimal("0.8")).quantize(Decimal("0.1"))
    resting = await exchange.create_order(
        symbol, "limit", "buy", 0.01, float(low), {"clientOrderId": "cts-swap-2"}
    )
    opened_orders = await exchange.fetch_open_orders(symbol)
    for order in opened_orders:
        check_order(exchange, order, symbol)
    assert [o["id"] for o in opened_orders] == [resting["id"]]
    canceled = await exchange.cancel_order("", symbol, {"clientOrderId": "cts-swap-2"})
    check_order(exchange, canceled, symbol)
    assert (canceled["id"], canceled["status"]) == (resting["id"], "canceled")

    closing = await exchange.create_order(
        symbol, "market", "sell", 0.01, None, {"reduceOnly": True}
    )
    assert account.orders[closing["id"]].status is OrderStatus.FILLED
    assert await exchange.fetch_positions([symbol]) == []
    assert ledger_position.size == 0

    closed = await exchange.fetch_closed_orders(symbol)
    assert {o["id"] for o in closed} == {opened["id"], closing["id"]}
    for order in closed:
        check_order(exchange, order, symbol)
    trades = await exchange.fetch_my_trades(symbol)
    for trade in trades:
        check_trade(exchange, trade, symbol)
    assert [(t["order"], t["side"], t["amount"]) for t in trades] == [
        (opened["id"], "buy", 0.01),
        (closing["id"], "sell", 0.01),
    ]
    assert trades[0]["fee"]["currency"] == "USDT" and trades[0]["fee"]["cost"] > 0


async def test_leverage_out_of_range_is_a_bad_request(connect: Connect) -> None:
    exchange = connect("perpetual_futures", plain=True)
    with pytest.raises(ccxt.BadRequest, match="109400"):
        await exchange.set_leverage(101, BTC["perpetual_futures"], {"side": "BOTH"})


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_order_refusals_map_to_ccxt_exceptions(
    account: Account, connect: Connect, api_type: str
) -> None:
    exchange = connect(api_type, plain=True)
    await exchange.load_markets()
    symbol = BTC[api_type]
    await exchange.create_order(symbol, "market", "buy", 0.001, None, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.DuplicateOrderId, match="101481"):
        await exchange.create_order(symbol, "market", "buy", 0.001, None, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(symbol, "market", "buy", 100)
    with pytest.raises(ccxt.InvalidOrder, match="101400"):
        await exchange.create_order(symbol, "market", "buy", 0.00001)  # below 5 USDT
    with pytest.raises(ccxt.BadRequest):  # conditional orders are not simulated
        await exchange.create_order(symbol, "limit", "buy", 0.001, 1000, {"triggerPrice": 1100})
    with pytest.raises(ccxt.OrderNotFound, match="80016"):
        await exchange.fetch_order("123", symbol)
    with pytest.raises(ccxt.OrderNotFound, match="80016"):
        await exchange.cancel_order("123", symbol)


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_credentials_refusals_are_authentication_errors(
    sim: Simulator, account: Account, connect: Connect, api_type: str
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="100001"):
        await connect(api_type, secret="not-the-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="100413"):
        await connect(api_type, api_key="no-such-key").fetch_balance()
    exchange = connect(api_type)
    await exchange.fetch_balance()
    sim.account(account.api_key).revoked = True
    with pytest.raises(ccxt.AuthenticationError, match="100413") as refused:
        await exchange.fetch_balance()
    translated = translate(refused.value, exchange="bingx")
    assert translated.failure is ExchangeFailure.AUTHENTICATION
    assert account.secret not in str(translated)


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_a_key_without_the_permission_is_refused(
    sim: Simulator, connect: Connect, api_type: str
) -> None:
    reader = sim.open_account("bingx")
    reader.permissions.spot = reader.permissions.derivatives = False
    exchange = connect(api_type, api_key=reader.api_key, secret=reader.secret)
    await exchange.fetch_balance()
    with pytest.raises(ccxt.PermissionDenied, match="100004") as refused:
        await exchange.create_order(BTC[api_type], "market", "buy", 0.001)
    assert translate(refused.value, exchange="bingx").failure is ExchangeFailure.PERMISSION
    assert reader.orders == {}


async def test_a_stale_timestamp_is_refused_as_clock_skew(sim: Simulator, connect: Connect) -> None:
    exchange = connect("spot")
    await exchange.load_markets()
    sim.faults.set({"clock_skew_ms": 60_000}, exchange="bingx")
    # ccxt maps 100421 to BadSymbol (BingX also uses it for pairs closed to the API); CTS reads
    # the message.
    with pytest.raises(ccxt.BadSymbol, match="100421") as refused:
        await exchange.fetch_balance()
    assert translate(refused.value, exchange="bingx").failure is ExchangeFailure.CLOCK_SKEW
    sim.faults.set({"clock_skew_ms": 4000}, exchange="bingx")  # 4 s old: within recvWindow
    await exchange.fetch_balance()


async def test_rate_limit_answers_429_and_asks_to_retry_later(
    sim: Simulator, connect: Connect
) -> None:
    exchange = connect("spot")
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="bingx")
    with pytest.raises(ccxt.OperationFailed, match="100410") as refused:
        await exchange.fetch_time()
    headers = {k.lower(): v for k, v in exchange.last_response_headers.items()}
    assert headers["retry-after"] == "3"
    assert int(headers["x-ratelimit-requests-expire"]) > time.time() * 1000
    assert [r.status for r in sim.requests_since(time.time() - 60)][-1] == 429
    translated = translate(refused.value, exchange="bingx", retry_after=3.0)
    assert translated.failure is ExchangeFailure.RATE_LIMITED and translated.retry_after == 3.0
    assert await exchange.fetch_time() > 0  # the burst is over


async def test_down_and_maintenance_are_not_available(sim: Simulator, connect: Connect) -> None:
    exchange = connect("perpetual_futures")
    sim.faults.set({"down": True}, exchange="bingx")
    with pytest.raises(ccxt.ExchangeNotAvailable) as down:
        await exchange.fetch_time()
    assert translate(down.value, exchange="bingx").failure is ExchangeFailure.UNAVAILABLE
    sim.faults.set({"down": False, "maintenance": True}, exchange="bingx")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="maintenance") as maintenance:
        await exchange.fetch_balance()
    assert translate(maintenance.value, exchange="bingx").failure is ExchangeFailure.MAINTENANCE
