"""Pionex spot through CTS's exchange access (ExchangeAccess → CcxtAdapter → CTS's Pionex ccxt
class), against the simulator's Pionex dialect: CTS's units, order lookup and error kinds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.exchange.adapter import ExchangeAdapter
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.model import OrderInfo
from server.simulator.dialects.pionex import PionexDialect
from server.simulator.ledger import Account
from server.simulator.server import Simulator

BTC = "BTC/USDT"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=31, dialects=[PionexDialect])
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield exchange_access
    await exchange_access.close()


def target(account: Account, secret: str | None = None) -> Target:
    return Target(
        connection_id=f"pionex-spot-{account.api_key[-6:]}",
        exchange="pionex",
        api_type="spot",
        simulated=True,
        credentials=Credentials(account.api_key, secret or account.secret, None),
    )


async def test_market_data_and_balances_in_decimals(sim: Simulator, access: ExchangeAccess) -> None:
    account = sim.open_account("pionex", balances={"USDT": "1000.5", "BTC": "0.1"})
    where = target(account)
    markets = {m.symbol: m for m in await access.call(where, lambda a: a.markets())}
    btc = markets[BTC]
    assert (btc.base, btc.quote, btc.type) == ("BTC", "USDT", "spot")
    assert (btc.price_precision, btc.amount_precision) == (Decimal("0.1"), Decimal("0.00001"))
    assert btc.min_cost == 5

    ticker = (await access.call(where, lambda a: a.tickers([BTC])))[BTC]
    assert ticker.bid is not None and ticker.ask is not None
    assert ticker.bid < ticker.last < ticker.ask
    assert isinstance(ticker.quote_volume, Decimal) and ticker.quote_volume > 0
    candles = await access.call(where, lambda a: a.candles(BTC, "1m", limit=5))
    assert len(candles) == 5 and all(c.low <= c.close <= c.high for c in candles)

    balances = {b.asset: b for b in await access.call(where, lambda a: a.balances())}
    assert (balances["USDT"].free, balances["BTC"].total) == (Decimal("1000.5"), Decimal("0.1"))
    server_time = await access.call(where, lambda a: a.server_time())
    assert abs(server_time.server_ms - server_time.received_ms) < 2000  # the envelope's clock


async def test_refusals_become_cts_error_kinds(sim: Simulator, access: ExchangeAccess) -> None:
    account = sim.open_account("pionex", balances={"USDT": "10"})
    wrong = target(account, secret="0" * len(account.secret))
    with pytest.raises(ExchangeError) as refused:
        await access.call(wrong, lambda a: a.balances())
    assert refused.value.failure is ExchangeFailure.AUTHENTICATION
    assert account.secret not in str(refused.value)

    where = target(account)

    async def too_big(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(BTC, "buy", "limit", Decimal("0.01"), Decimal(50000))

    with pytest.raises(ExchangeError) as poor:
        await access.call(where, too_big, retry=False)
    assert poor.value.failure is ExchangeFailure.INSUFFICIENT_FUNDS
    with pytest.raises(ExchangeError) as unknown:
        await access.call(where, lambda a: a.fetch_order("999", BTC))
    assert unknown.value.failure is ExchangeFailure.ORDER_NOT_FOUND


async def test_the_engines_market_orders_buy_and_sell_by_base_amount(
    sim: Simulator, access: ExchangeAccess
) -> None:
    """CTS's live engine places market orders by base amount; Pionex prices market buys in
    USDT: CTS's Pionex instance spends the amount at the best ask."""
    account = sim.open_account("pionex")
    where = target(account)

    async def buy(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(
            BTC, "buy", "market", Decimal("0.003"), client_order_id="ctsBuy1"
        )

    async def sell(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(
            BTC, "sell", "market", Decimal("0.001"), client_order_id="ctsSell1"
        )

    bought = await access.call(where, buy, retry=False)
    sold = await access.call(where, sell, retry=False)
    buy_order = await access.call(where, lambda a: a.fetch_order(bought.id, BTC))
    sell_order = await access.call(where, lambda a: a.fetch_order(sold.id, BTC))
    assert (buy_order.status, buy_order.type, buy_order.client_order_id) == (
        "closed",
        "market",
        "ctsBuy1",
    )
    assert Decimal("0.00299") <= buy_order.filled <= Decimal("0.003")
    assert (sell_order.status, sell_order.filled) == ("closed", Decimal("0.001"))
    assert account.balance("BTC").free == Decimal("0.25") + buy_order.filled - Decimal("0.001")
