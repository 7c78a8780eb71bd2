"""OKX spot margin in the simulator: cross margin spot orders (``tdMode`` cross with ``ccy``) of
the "Spot and futures" account, placed by unmodified ccxt built as CTS builds an okx margin
connection."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from server.simulator.ledger import Account
from server.simulator.server import Simulator
from tests.simulator.test_okx import Connect, account, connect, sim
from tests.support.margin import SYMBOL, resting_buys

__all__ = ["account", "connect", "sim"]  # fixtures, shared with the spot and swap tests


async def test_a_margin_connections_orders_are_cross_margin_spot_orders(
    sim: Simulator, account: Account, connect: Connect
) -> None:
    margin, spot = connect("margin"), connect("spot")
    on_margin, on_spot = await resting_buys(sim, margin, spot, 0.001, "ctsMargin1")
    modes = {
        o["id"]: (o["info"]["tdMode"], o["info"]["ccy"])
        for o in await spot.fetch_open_orders(SYMBOL)
    }
    assert modes == {on_margin["id"]: ("cross", "USDT"), on_spot["id"]: ("cash", "")}
    fetched = await margin.fetch_order(on_margin["id"], SYMBOL)
    assert (fetched["status"], fetched["clientOrderId"]) == ("open", "ctsMargin1")
    await margin.cancel_order(on_margin["id"], SYMBOL)

    sold = await margin.create_order(SYMBOL, "market", "sell", 0.01)
    filled = await margin.fetch_order(sold["id"], SYMBOL)
    assert (filled["status"], filled["info"]["tdMode"], filled["info"]["ccy"]) == (
        "closed",
        "cross",
        "BTC",
    )
    bought = await margin.create_order(SYMBOL, "market", "buy", 0.001)  # sz in BTC on margin
    assert (await margin.fetch_order(bought["id"], SYMBOL))["filled"] == 0.001
    assert account.balances["BTC"].total == Decimal("0.241")  # the one wallet


async def test_nothing_is_lent_and_a_cross_order_names_its_margin_currency(
    account: Account, connect: Connect
) -> None:
    margin = connect("margin")
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):  # a short sale needs a loan
        await margin.create_order(SYMBOL, "market", "sell", 1)
    body = {"instId": "BTC-USDT", "tdMode": "cross", "side": "buy", "ordType": "market"}
    with pytest.raises(ccxt.BadRequest, match="ccy"):
        await margin.private_post_trade_order({**body, "sz": "10"})
    with pytest.raises(ccxt.BadRequest, match="ccy"):
        await margin.private_post_trade_order({**body, "sz": "10", "ccy": "ETH"})
    with pytest.raises(ccxt.BadRequest, match="tdMode"):  # isolated spot margin: not kept
        await margin.private_post_trade_order({**body, "sz": "10", "tdMode": "isolated"})
    assert account.orders == {}
