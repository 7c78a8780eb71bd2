"""BingX through CTS's exchange access (ccxt built by create_ccxt, the adapter, the error
kinds) against the simulator: everything CTS asks of an exchange, spot and perpetual."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator

API_TYPES = ("spot", "perpetual_futures")
SYMBOL = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield exchange_access
    await exchange_access.close()


def target(api_type: str, account: Account, *, secret: str | None = None) -> Target:
    return Target(
        connection_id=f"bingx-{api_type}-{account.api_key[-6:]}",
        exchange="bingx",
        api_type=api_type,
        simulated=True,
        credentials=Credentials(account.api_key, secret or account.secret, None),
    )


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_market_data_balances_and_permissions(
    sim: Simulator, access: ExchangeAccess, api_type: str
) -> None:
    account = sim.open_account("bingx")
    where = target(api_type, account)
    symbol = SYMBOL[api_type]

    clock = await access.call(where, lambda a: a.server_time())
    markets = {m.symbol: m for m in await access.call(where, lambda a: a.markets())}
    before = sim.prices.price("BTC")
    tickers = await access.call(where, lambda a: a.tickers([symbol]))
    after = sim.prices.price("BTC")
    candles = await access.call(where, lambda a: a.candles(symbol, "1m", limit=5))
    balances = {b.asset: b for b in await access.call(where, lambda a: a.balances())}
    permissions = await access.call(where, lambda a: a.key_permissions())

    assert abs(clock.server_ms - clock.received_ms) < 2000
    btc = markets[symbol]
    assert (btc.base, btc.quote, btc.price_precision) == ("BTC", "USDT", Decimal("0.1"))
    assert btc.min_cost == 5
    if api_type == "perpetual_futures":  # ccxt reads no minimum amount from BingX's spot pairs
        assert btc.min_amount == Decimal("0.00001")
    ticker = tickers[symbol]
    assert ticker.last in (before, after)
    assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
    assert isinstance(ticker.change_percent, Decimal) and ticker.quote_volume
    assert len(candles) == 5 and all(isinstance(c.close, Decimal) for c in candles)
    assert balances["USDT"].total == account.balances["USDT"].total
    if api_type == "spot":
        assert balances["BTC"].total == account.balances["BTC"].total
    assert (permissions.read, permissions.spot_trading, permissions.derivatives_trading) == (
        True,
        True,
        True,
    )
    assert permissions.withdrawals is False


async def test_a_perpetual_position_is_reported_in_base_units(
    sim: Simulator, access: ExchangeAccess
) -> None:
    account = sim.open_account("bingx")
    where = target("perpetual_futures", account)
    symbol = SYMBOL["perpetual_futures"]
    order = await access.call(
        where,
        lambda a: a.create_order(symbol, "buy", "market", Decimal("0.02"), client_order_id="p1"),
        retry=False,
    )
    [position] = await access.call(where, lambda a: a.positions([symbol]))
    assert order.id and order.client_order_id == "p1"
    assert (position.symbol, position.side, position.amount) == (symbol, "long", Decimal("0.02"))
    assert position.entry_price == account.positions[symbol].entry_price


@pytest.mark.parametrize("api_type", API_TYPES)
async def test_refusals_become_cts_error_kinds(
    sim: Simulator, access: ExchangeAccess, api_type: str
) -> None:
    account = sim.open_account("bingx", balances={"USDT": Decimal(10)})
    where = target(api_type, account)
    symbol = SYMBOL[api_type]
    with pytest.raises(ExchangeError) as poor:
        await access.call(
            where, lambda a: a.create_order(symbol, "buy", "market", Decimal(1)), retry=False
        )
    assert poor.value.failure is ExchangeFailure.INSUFFICIENT_FUNDS
    with pytest.raises(ExchangeError) as unknown:
        await access.call(where, lambda a: a.cancel_order("123456789", symbol), retry=False)
    assert unknown.value.failure is ExchangeFailure.ORDER_NOT_FOUND
    assert "{" not in str(poor.value) and account.api_key not in str(poor.value)

    reader = sim.open_account("bingx", permissions=Permissions(spot=False, derivatives=False))
    with pytest.raises(ExchangeError) as refused:
        await access.call(
            target(api_type, reader),
            lambda a: a.create_order(symbol, "buy", "market", Decimal("0.001")),
            retry=False,
        )
    assert refused.value.failure is ExchangeFailure.PERMISSION

    with pytest.raises(ExchangeError) as wrong:
        await access.call(target(api_type, account, secret="wrong"), lambda a: a.balances())
    assert wrong.value.failure is ExchangeFailure.AUTHENTICATION


async def test_clock_skew_rate_limits_and_maintenance_have_their_kinds(
    sim: Simulator, access: ExchangeAccess
) -> None:
    where = target("spot", sim.open_account("bingx"))
    sim.faults.set({"clock_skew_ms": 60_000}, exchange="bingx")
    with pytest.raises(ExchangeError) as skewed:
        await access.call(where, lambda a: a.balances(), retry=False)
    assert skewed.value.failure is ExchangeFailure.CLOCK_SKEW
    sim.faults.clear()
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 2}, exchange="bingx")
    with pytest.raises(ExchangeError) as limited:
        await access.call(where, lambda a: a.server_time(), retry=False)
    assert limited.value.failure is ExchangeFailure.RATE_LIMITED
    assert limited.value.retry_after == 2
    sim.faults.set({"maintenance": True}, exchange="bingx")
    with pytest.raises(ExchangeError) as paused:
        await access.call(where, lambda a: a.server_time(), retry=False)
    assert paused.value.failure is ExchangeFailure.MAINTENANCE


async def test_the_demo_account_is_bingx_s(sim: Simulator, access: ExchangeAccess) -> None:
    [demo] = [d for d in DEMO_ACCOUNTS if d.exchange == "bingx"]
    assert (demo.api_key, demo.secret) == ("cts-demo-bingx-key-0001", "cts-demo-bingx-secret-0001")
    open_demo_accounts(sim)
    account = sim.account(demo.api_key)
    balances = await access.call(target("spot", account), lambda a: a.balances())
    assert {b.asset for b in balances} == {"USDT", "BTC", "ETH"}
