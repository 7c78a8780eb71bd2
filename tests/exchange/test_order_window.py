"""An order request that reaches the exchange too late is refused, so an order not found once
its window has passed never will be: the rule behind resolving orders after a crash."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.exchange.ccxt_factory import create_ccxt, expire_signed_requests
from server.simulator.server import Simulator


async def test_a_late_okx_order_is_refused_by_its_exp_time(sim: Simulator) -> None:
    account = sim.open_account("okx", balances={"USDT": 1000})
    exchange = create_ccxt(
        "okx",
        "spot",
        api_key=account.api_key,
        secret=account.secret,
        passphrase=account.passphrase,
        base_url=sim.base_url,
    )
    expire_signed_requests(exchange, 0.2)  # a window shorter than the way to the exchange
    try:
        await exchange.load_markets()
        sim.faults.set({"latency_ms": 1000}, api_key=account.api_key)  # 0.5 s on the way in
        with pytest.raises(ccxt_async.InvalidNonce, match="50102"):
            await exchange.create_order("BTC/USDT", "market", "buy", 0.001)
        sim.faults.clear()
        assert account.orders == {}  # refused on arrival: never in the books
    finally:
        await exchange.close()


@pytest.mark.parametrize(("exchange", "window"), [("binance", 10.0), ("bybit", 5.0), ("okx", 10.0)])
async def test_each_exchange_has_a_receive_window(
    sim: Simulator, exchange: str, window: float
) -> None:
    account = sim.open_account(exchange, balances={"USDT": Decimal(1000)})
    access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url))
    target = Target(
        "c",
        exchange,
        "spot",
        simulated=True,
        credentials=Credentials(account.api_key, account.secret, account.passphrase),
    )
    try:
        assert await access.receive_window(target) == window
    finally:
        await access.close()
