"""Pionex perpetual futures through CTS's exchange access (ExchangeAccess → CcxtAdapter → CTS's
Pionex ccxt class, ``/uapi/v1``) and through the class itself, against the simulator's Pionex
dialect: a lost answer never doubles an order; positions, leverage and reduce-only orders; the
futures and spot APIs keep to their own markets; the key's derivatives permission."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator
from tests.support.simulated import ccxt_instances

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield exchange_access
    await exchange_access.close()


@pytest.fixture
async def perp(sim: Simulator) -> AsyncIterator[tuple[Account, Any]]:
    """A Pionex account and CTS's perpetual instance of it (as create_ccxt builds it)."""
    account = sim.open_account("pionex", balances={"USDT": "5000"})
    async with ccxt_instances(sim, "pionex", account) as instances:
        yield account, instances.cts("perpetual_futures")


def target(account: Account) -> Target:
    return Target(
        connection_id=f"pionex-perp-{account.api_key[-6:]}",
        exchange="pionex",
        api_type="perpetual_futures",
        simulated=True,
        credentials=Credentials(account.api_key, account.secret, None),
    )


async def test_leverage_positions_and_a_reduce_only_close(perp: tuple[Account, Any]) -> None:
    account, exchange = perp
    await exchange.load_markets()
    assert exchange.market(PERP)["id"] == "BTC_USDT_PERP"
    await exchange.set_leverage(5, PERP)
    assert (await exchange.fetch_leverage(PERP))["longLeverage"] == 5
    assert account.leverage == 5

    bought = await exchange.create_order(PERP, "market", "buy", 0.01)
    [position] = await exchange.fetch_positions([PERP])
    entry = Decimal(str(position["entryPrice"]))
    assert (position["side"], position["contracts"], position["leverage"]) == ("long", 0.01, 5)
    assert position["marginMode"] == "cross"
    assert Decimal(str(position["initialMargin"])) == Decimal("0.01") * entry / 5
    assert 0 < position["liquidationPrice"] < float(entry)
    assert (await exchange.fetch_order(bought["id"], PERP))["status"] == "closed"

    closing = await exchange.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert (await exchange.fetch_order(closing["id"], PERP))["reduceOnly"] is True
    assert await exchange.fetch_positions([PERP]) == []
    with pytest.raises(ccxt.BadRequest):  # nothing left to reduce
        await exchange.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.BadRequest):  # above the market's maximum leverage
        await exchange.set_leverage(500, PERP)


async def test_time_in_force_and_post_only_are_order_types(perp: tuple[Account, Any]) -> None:
    _, exchange = perp
    book = await exchange.fetch_order_book(PERP)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    resting = await exchange.create_order(
        PERP, "limit", "buy", 0.01, bid * 0.95, {"postOnly": True}
    )
    fetched = await exchange.fetch_order(resting["id"], PERP)
    assert (fetched["status"], fetched["postOnly"], fetched["timeInForce"]) == ("open", True, "PO")
    with pytest.raises(ccxt.InvalidOrder):  # a post-only order that would take is refused
        await exchange.create_order(PERP, "limit", "buy", 0.01, ask * 1.01, {"postOnly": True})
    ioc = await exchange.create_order(
        PERP, "limit", "buy", 0.01, bid * 0.95, {"timeInForce": "IOC"}
    )
    gone = await exchange.fetch_order(ioc["id"], PERP)
    assert (gone["status"], gone["timeInForce"], gone["filled"]) == ("canceled", "IOC", 0)
    assert [o["id"] for o in await exchange.fetch_open_orders()] == [resting["id"]]
    await exchange.cancel_order(resting["id"], PERP)
    closed = await exchange.fetch_closed_orders(PERP)
    assert {o["id"] for o in closed} == {resting["id"], ioc["id"]}


async def test_each_api_keeps_to_its_own_markets(sim: Simulator, perp: tuple[Account, Any]) -> None:
    account, exchange = perp
    await exchange.load_markets()
    assert all(m["swap"] and m["linear"] for m in exchange.markets.values())
    async with ccxt_instances(sim, "pionex", account) as instances:
        spot = instances.cts("spot")
        await spot.load_markets()
        assert "BTC/USDT" in spot.markets and PERP not in spot.markets
        # The spot order endpoint refuses a perpetual's symbol, and the futures one a spot's.
        with pytest.raises(ccxt.BadSymbol):
            await spot.private_post_trade_order(
                {"symbol": "BTC_USDT_PERP", "side": "BUY", "type": "MARKET", "size": "0.01"}
            )
    with pytest.raises(ccxt.BadSymbol):
        await exchange.private_post_uapi_trade_order(
            {"symbol": "BTC_USDT", "side": "BUY", "type": "MARKET_QTY", "size": "0.01"}
        )
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["free"] == 5000 and "BTC" not in balance


async def test_a_key_without_derivatives_permission_cannot_trade_perpetuals(sim: Simulator) -> None:
    account = sim.open_account("pionex", permissions=Permissions(derivatives=False))
    async with ccxt_instances(sim, "pionex", account) as instances:
        exchange = instances.cts("perpetual_futures")
        assert (await exchange.fetch_balance())["USDT"]["free"] == 10_000
        with pytest.raises(ccxt.PermissionDenied):
            await exchange.create_order(PERP, "market", "buy", 0.01)
        with pytest.raises(ccxt.PermissionDenied):
            await exchange.set_leverage(3, PERP)
    assert account.orders == {}


@pytest.mark.parametrize(
    ("call", "params"),
    [
        ("private_post_uapi_trade_order", {"symbol": "BTC_USDT_PERP", "side": "UP"}),
        (
            "private_post_uapi_trade_order",
            {"symbol": "BTC_USDT_PERP", "side": "BUY", "type": "MARKET_QTY", "size": "-1"},
        ),
        (
            "private_post_uapi_trade_order",
            {"symbol": "BTC_USDT_PERP", "side": "BUY", "type": "LIMIT", "size": "0.01"},
        ),
        (
            "private_post_uapi_trade_order",
            {
                "symbol": "BTC_USDT_PERP",
                "side": "BUY",
                "type": "MARKET_QTY",
                "size": "0.01",
                "reduceOnly": "perhaps",
            },
        ),
        ("private_post_uapi_account_leverage", {"symbol": "BTC_USDT_PERP", "leverage": "ten"}),
        ("private_get_uapi_trade_order", {"symbol": "BTC_USDT_PERP", "orderId": "x1"}),
        ("private_get_uapi_trade_openorders", {"limit": "9999"}),
        ("private_get_uapi_trade_fills", {}),
    ],
)
async def test_malformed_requests_get_pionex_parameter_errors(
    perp: tuple[Account, Any], call: str, params: dict[str, Any]
) -> None:
    account, exchange = perp
    with pytest.raises(ccxt.BadRequest) as refused:
        await getattr(exchange, call)(params)
    assert "TRADE_PARAMETER_ERROR" in str(refused.value)
    assert account.orders == {} and account.leverage == 10
