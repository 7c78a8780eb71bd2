"""What only Pionex's connection test does, through CTS's real server over gRPC: Pionex has no
server-time endpoint, so the clock comes from the envelope of a public answer, and the one signed
request is the balance. What every exchange does is in ``test_every_exchange.py``.

CTS reaches the simulator's Pionex dialect through its own Pionex ccxt class (create_ccxt), with
its throttling and URL rewriting unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from tests.connections.conftest import BALANCES, Desk
from tests.support.clock import drift_is

DEMO = next(a for a in DEMO_ACCOUNTS if a.exchange == "pionex")


async def test_the_clock_comes_from_a_public_envelope_and_the_balance_is_signed(
    desk: Desk,
) -> None:
    desk.sim.call(lambda: open_demo_accounts(desk.simulator))
    account = desk.sim.call(lambda: desk.simulator.account(DEMO.api_key))
    connection = await desk.connect("pionex", account, api_type="spot")
    desk.faults(exchange="pionex", clock_skew_ms=2500)

    result = await desk.test(connection.id)

    assert result.status == "warning", list(result.log)  # the skew, measured
    assert drift_is(result.clock_drift_ms, 2500, result.latency_ms), list(result.log)
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "warning"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    signed = {r.path for r in desk.requests(exchange="pionex", api_key=DEMO.api_key)}
    assert signed == {"/api/v1/account/balances"}


async def test_a_pionex_perpetual_connection_tests_green_with_its_futures_balance(
    desk: Desk,
) -> None:
    account = desk.account("pionex")
    connection = await desk.connect("pionex", account, api_type="perpetual_futures")

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    usdt = Decimal(BALANCES["USDT"])
    assert Decimal(result.balance) == usdt
    # The futures account: its USDT margin, not the spot coins.
    assert {b.asset: Decimal(b.total) for b in result.balances} == {"USDT": usdt}
    paths = {r.path for r in desk.requests(exchange="pionex", api_key=account.api_key)}
    assert paths == {"/uapi/v1/account/balances"}
