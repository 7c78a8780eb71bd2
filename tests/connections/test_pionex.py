"""What only Pionex's connection test does, through CTS's real server over gRPC: Pionex has no
server-time endpoint, so the clock comes from the envelope of a public answer, and the one signed
request is the balance. What every exchange does is in ``test_every_exchange.py``.

CTS reaches the simulator's Pionex dialect through its own Pionex ccxt class (create_ccxt), with
its throttling and URL rewriting unchanged.
"""

from __future__ import annotations

from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from tests.connections.conftest import Desk

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
    assert abs(result.clock_drift_ms - 2500) < 500
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "warning"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    signed = {r.path for r in desk.requests(exchange="pionex", api_key=DEMO.api_key)}
    assert signed == {"/api/v1/account/balances"}
