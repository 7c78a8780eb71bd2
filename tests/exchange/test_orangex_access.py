"""OrangeX perpetual futures through CTS's exchange access (ExchangeAccess → CcxtAdapter →
CTS's OrangeX ccxt class) against the simulator's OrangeX dialect: CTS's units, the lookup by
client order id (OrangeX's ``custom_order_id``), key permissions and error kinds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from server.simulator.ledger import Account, Permissions
from server.simulator.server import Simulator

BTC = "BTC/USDT:USDT"


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield exchange_access
    await exchange_access.close()


def target(account: Account, secret: str | None = None) -> Target:
    return Target(
        connection_id=f"orangex-perp-{account.api_key[-6:]}",
        exchange="orangex",
        api_type="perpetual_futures",
        simulated=True,
        credentials=Credentials(account.api_key, secret or account.secret, None),
    )


async def test_market_data_balances_and_permissions(sim: Simulator, access: ExchangeAccess) -> None:
    account = sim.open_account("orangex", balances={"USDT": "1000.5"})
    where = target(account)
    clock = await access.call(where, lambda a: a.server_time())
    assert abs(clock.server_ms - clock.received_ms) < 2000  # the envelope's usOut
    markets = {m.symbol: m for m in await access.call(where, lambda a: a.markets())}
    btc = markets[BTC]
    assert (btc.base, btc.quote, btc.type) == ("BTC", "USDT", "swap")
    assert (btc.price_precision, btc.amount_precision) == (Decimal("0.1"), Decimal("0.00001"))
    assert btc.min_cost == 5 and btc.taker_fee == Decimal("0.0005")

    ticker = (await access.call(where, lambda a: a.tickers([BTC])))[BTC]
    assert ticker.bid is not None and ticker.ask is not None
    assert ticker.bid < ticker.last < ticker.ask
    candles = await access.call(where, lambda a: a.candles(BTC, "1m", limit=5))
    assert len(candles) == 5 and all(c.low <= c.close <= c.high for c in candles)

    balances = {b.asset: b for b in await access.call(where, lambda a: a.balances())}
    assert (balances["USDT"].free, balances["USDT"].total) == (Decimal("1000.5"), Decimal("1000.5"))
    granted = await access.call(where, lambda a: a.key_permissions())
    assert (granted.read, granted.derivatives_trading, granted.withdrawals) == (True, True, False)
    reader = sim.open_account("orangex", permissions=Permissions(derivatives=False))
    read_only = await access.call(target(reader), lambda a: a.key_permissions())
    assert (read_only.read, read_only.derivatives_trading) == (True, False)


async def test_refusals_become_cts_error_kinds(sim: Simulator, access: ExchangeAccess) -> None:
    account = sim.open_account("orangex", balances={"USDT": "10"})
    wrong = target(account, secret="0" * len(account.secret))
    with pytest.raises(ExchangeError) as refused:
        await access.call(wrong, lambda a: a.balances())
    assert refused.value.failure is ExchangeFailure.AUTHENTICATION
    assert account.secret not in str(refused.value) and "0000" not in str(refused.value)

    where = target(account)
    with pytest.raises(ExchangeError) as poor:
        await access.call(
            where, lambda a: a.create_order(BTC, "buy", "market", Decimal(1)), retry=False
        )
    assert poor.value.failure is ExchangeFailure.INSUFFICIENT_FUNDS
    with pytest.raises(ExchangeError) as unknown:
        await access.call(where, lambda a: a.fetch_order("999", BTC))
    assert unknown.value.failure is ExchangeFailure.ORDER_NOT_FOUND
    with pytest.raises(ExchangeError) as small:
        await access.call(
            where,
            lambda a: a.create_order(BTC, "buy", "limit", Decimal("0.00001"), Decimal(100)),
            retry=False,
        )
    assert small.value.failure is ExchangeFailure.INVALID_ORDER

    reader = sim.open_account("orangex", permissions=Permissions(derivatives=False))
    with pytest.raises(ExchangeError) as denied:
        await access.call(
            target(reader),
            lambda a: a.create_order(BTC, "buy", "market", Decimal("0.001")),
            retry=False,
        )
    assert denied.value.failure is ExchangeFailure.PERMISSION
    account.revoked = True
    with pytest.raises(ExchangeError) as revoked:
        await access.call(where, lambda a: a.balances(), retry=False)
    assert revoked.value.failure is ExchangeFailure.AUTHENTICATION


async def test_rate_limits_outages_and_maintenance_have_their_kinds(
    sim: Simulator, access: ExchangeAccess
) -> None:
    where = target(sim.open_account("orangex"))
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 2}, exchange="orangex")
    with pytest.raises(ExchangeError) as limited:
        await access.call(where, lambda a: a.server_time(), retry=False)
    assert limited.value.failure is ExchangeFailure.RATE_LIMITED
    assert limited.value.retry_after == 2
    sim.faults.set({"down": True}, exchange="orangex")
    with pytest.raises(ExchangeError) as down:
        await access.call(where, lambda a: a.server_time(), retry=False)
    assert down.value.failure is ExchangeFailure.UNAVAILABLE
    sim.faults.clear()
    sim.faults.set({"maintenance": True}, exchange="orangex")
    with pytest.raises(ExchangeError) as paused:
        await access.call(where, lambda a: a.server_time(), retry=False)
    assert paused.value.failure is ExchangeFailure.MAINTENANCE


async def test_the_demo_account_is_orangex_s(sim: Simulator, access: ExchangeAccess) -> None:
    [demo] = [d for d in DEMO_ACCOUNTS if d.exchange == "orangex"]
    assert (demo.api_key, demo.secret) == (
        "cts-demo-orangex-key-0001",
        "cts-demo-orangex-secret-0001",
    )
    open_demo_accounts(sim)
    balances = await access.call(target(sim.account(demo.api_key)), lambda a: a.balances())
    assert [(b.asset, b.total) for b in balances] == [("USDT", Decimal(10_000))]
