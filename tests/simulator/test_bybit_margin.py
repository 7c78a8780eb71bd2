"""Bybit spot margin in the simulator: spot orders with ``isLeverage`` 1 in the unified account,
placed by unmodified ccxt built as CTS builds a bybit margin connection."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from server.simulator.ledger import Account
from server.simulator.server import Simulator
from tests.simulator.test_bybit import Connect, account, connect, sim
from tests.support.margin import SYMBOL, resting_buys

__all__ = ["account", "connect", "sim"]  # fixtures, shared with the spot and linear tests


async def test_a_margin_connections_orders_are_spot_margin_orders_of_the_unified_account(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    margin, spot = connect("margin"), connect("spot")
    on_margin, on_spot = await resting_buys(sim, margin, spot, 0.01, "cts-margin-1")
    # One unified account: both connections see both orders, each says how it was placed.
    flags = {o["id"]: o["info"]["isLeverage"] for o in await spot.fetch_open_orders(SYMBOL)}
    assert flags == {on_margin["id"]: "1", on_spot["id"]: "0"}
    fetched = await margin.fetch_order(on_margin["id"], SYMBOL, {"acknowledged": True})
    assert (fetched["status"], fetched["clientOrderId"]) == ("open", "cts-margin-1")
    await margin.cancel_order(on_margin["id"], SYMBOL)

    bought = await margin.create_order(SYMBOL, "market", "buy", 0.01)
    filled = await margin.fetch_closed_order(bought["id"], SYMBOL)
    assert (filled["status"], filled["filled"], filled["info"]["isLeverage"]) == (
        "closed",
        0.01,
        "1",
    )
    assert account.balances["BTC"].total == Decimal("0.26")  # the one wallet


async def test_nothing_is_lent_on_spot_margin(account: Account, connect: Connect) -> None:
    margin = connect("margin")
    with pytest.raises(ccxt.InsufficientFunds):  # a short sale needs a loan
        await margin.create_order(SYMBOL, "market", "sell", 1)
    with pytest.raises(ccxt.InsufficientFunds):  # so does a buy beyond the wallet
        await margin.create_order(SYMBOL, "limit", "buy", 1, 50_000)
    with pytest.raises(ccxt.BadRequest, match="isLeverage"):
        await margin.create_order(SYMBOL, "market", "buy", 0.01, None, {"isLeverage": 2})
    assert account.orders == {}
