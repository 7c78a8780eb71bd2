"""Binance cross margin (``/sapi/v1/margin/*``) in the simulator, driven by unmodified ccxt built
as CTS builds a binance margin connection, and on the wire where ccxt hides the shape."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator
from tests.simulator.test_binance import account, connect, signed, sim

__all__ = ["account", "sim"]  # fixtures, shared with the spot and futures tests

SYMBOL = "BTC/USDT"


async def test_margin_orders_are_the_margin_accounts_and_spend_the_shared_wallet(
    sim: Simulator, account: Account
) -> None:
    sim.prices.set_price("BTC", "65000")
    usdt = account.balance("USDT")
    async with (
        connect(sim, "margin", api_key=account.api_key, secret=account.secret) as margin,
        connect(sim, "spot", api_key=account.api_key, secret=account.secret) as spot,
    ):
        bought = await margin.create_order(
            SYMBOL, "market", "buy", 0.001, params={"clientOrderId": "cts-margin-1"}
        )
        assert (bought["status"], bought["clientOrderId"]) == ("closed", "cts-margin-1")
        assert account.balance("BTC").free == Decimal("0.251")
        assert usdt.free == 10_000 - Decimal("65.0001") * Decimal("1.001")

        resting = await margin.create_order(SYMBOL, "limit", "buy", 0.001, 60000)
        assert resting["status"] == "open"
        spot_order = await spot.create_order(SYMBOL, "limit", "buy", 0.001, 59000)
        # CTS finds a lost order by its client order id: on margin, in the margin account.
        by_client_id = await margin.fetch_order(
            "", SYMBOL, {"origClientOrderId": resting["clientOrderId"]}
        )
        assert by_client_id["id"] == resting["id"]
        assert [o["id"] for o in await margin.fetch_open_orders()] == [resting["id"]]
        assert [o["id"] for o in await spot.fetch_open_orders()] == [spot_order["id"]]
        with pytest.raises(ccxt.OrderNotFound):
            await spot.fetch_order(resting["id"], SYMBOL)

        canceled = await margin.cancel_order(resting["id"], SYMBOL)
        assert canceled["status"] == "canceled"
        with pytest.raises(ccxt.OrderNotFound):
            await margin.cancel_order(spot_order["id"], SYMBOL)
        closed = await margin.fetch_closed_orders(SYMBOL)
        assert [o["id"] for o in closed] == [bought["id"]]
        trades = await margin.fetch_my_trades(SYMBOL)
        assert [(t["order"], t["amount"], t["price"]) for t in trades] == [
            (bought["id"], 0.001, 65000.1)
        ]
        assert await spot.fetch_my_trades(SYMBOL) == []


async def test_the_margin_balance_is_the_wallet_and_owes_nothing(
    sim: Simulator, account: Account
) -> None:
    sim.prices.set_price("BTC", "65000")
    sim.prices.set_price("ETH", "3250")
    async with connect(sim, "margin", api_key=account.api_key, secret=account.secret) as margin:
        balance = await margin.fetch_balance()
    for asset, held in {"USDT": 10_000, "BTC": 0.25, "ETH": 2}.items():
        assert (balance[asset]["total"], balance[asset]["debt"]) == (held, 0), asset
    assert balance["SOL"]["total"] == 0
    info = balance["info"]
    value = Decimal(10_000) + Decimal("0.25") * 65_000 + 2 * 3250
    assert Decimal(info["TotalCollateralValueInUSDT"]) == value
    assert Decimal(info["totalNetAssetOfBtc"]) == (value / 65_000).quantize(Decimal("1e-8"))
    assert (info["totalLiabilityOfBtc"], info["marginLevel"]) == ("0.00000000", "999.00000000")


async def test_nothing_is_lent_and_isolated_margin_is_not_kept(
    sim: Simulator, account: Account
) -> None:
    sim.prices.set_price("BTC", "65000")
    async with connect(sim, "margin", api_key=account.api_key, secret=account.secret) as margin:
        with pytest.raises(ccxt.InsufficientFunds):  # a short sale needs a loan
            await margin.create_order(SYMBOL, "market", "sell", 1)
        with pytest.raises(ccxt.InsufficientFunds):  # so does a buy beyond the wallet
            await margin.create_order(
                SYMBOL, "market", "buy", 1, params={"sideEffectType": "MARGIN_BUY"}
            )
        with pytest.raises(ccxt.BadRequest, match="-1100"):
            await margin.create_order(
                SYMBOL, "market", "buy", 0.001, params={"sideEffectType": "BORROW_ALL"}
            )
        with pytest.raises(ccxt.ExchangeError, match="-11001"):
            await margin.create_order(
                SYMBOL, "market", "buy", 0.001, params={"marginMode": "isolated"}
            )
    assert account.orders == {}


async def test_a_key_without_trading_permission_may_not_trade_on_margin(sim: Simulator) -> None:
    read_only = sim.open_account(
        "binance",
        balances={"USDT": 1000},
        permissions=Permissions(spot=False, derivatives=False, withdraw=False),
    )
    async with connect(sim, "margin", api_key=read_only.api_key, secret=read_only.secret) as ex:
        assert (await ex.fetch_balance())["USDT"]["total"] == 1000
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await ex.create_order(SYMBOL, "market", "buy", 0.001)
    assert read_only.orders == {}


async def test_margin_answers_have_binances_shapes(sim: Simulator, account: Account) -> None:
    """What ccxt hides: the ACK form carries ``isIsolated``; a cancel's ``orderId`` is a
    string; margin trades say they are not isolated."""
    sim.prices.set_price("BTC", "65000")

    async def call(method: str, path: str, params: dict[str, Any]) -> Any:
        query = urlencode({**params, "timestamp": int(time.time() * 1000)})
        url = f"{sim.base_url}{path}?{query}&signature={signed(account.secret, query)}"
        headers = {"X-MBX-APIKEY": account.api_key}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, headers=headers) as response,
        ):
            assert response.status == 200, await response.text()
            return await response.json()

    order = {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001"}
    ack = await call(
        "POST",
        "/sapi/v1/margin/order",
        order
        | {"type": "LIMIT", "price": "60000", "timeInForce": "GTC", "newOrderRespType": "ACK"},
    )
    assert set(ack) == {"symbol", "orderId", "clientOrderId", "isIsolated", "transactTime"}
    assert ack["isIsolated"] is False
    canceled = await call(
        "DELETE", "/sapi/v1/margin/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert (canceled["orderId"], canceled["status"]) == (str(ack["orderId"]), "CANCELED")
    full = await call("POST", "/sapi/v1/margin/order", order | {"type": "MARKET"})
    assert "marginBuyBorrowAmount" not in full  # nothing borrowed
    assert full["fills"][0]["price"] == "65000.10000000"
    [trade] = await call("GET", "/sapi/v1/margin/myTrades", {"symbol": "BTCUSDT"})
    assert (trade["orderId"], trade["isIsolated"]) == (full["orderId"], False)
