"""Connection tests of a simulated Pionex spot connection, through CTS's real server over gRPC.

CTS reaches the simulator's Pionex dialect through its own Pionex ccxt class (create_ccxt), with
its throttling and URL rewriting unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from server.simulator.server import DEMO_BALANCES
from tests.connections.conftest import BALANCES, Desk

DEMO = next(a for a in DEMO_ACCOUNTS if a.exchange == "pionex")


async def test_the_demo_pionex_key_tests_green_with_its_balance(desk: Desk) -> None:
    desk.sim.call(lambda: open_demo_accounts(desk.simulator))
    account = desk.sim.call(lambda: desk.simulator.account(DEMO.api_key))
    assert (account.api_key, account.secret) == (
        "cts-demo-pionex-key-0001",
        "cts-demo-pionex-secret-0001",
    )
    connection = await desk.connect("pionex", account, api_type="spot")

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    assert Decimal(result.balance) == DEMO_BALANCES["USDT"]
    assert {b.asset: Decimal(b.total) for b in result.balances} == {
        asset: Decimal(amount) for asset, amount in DEMO_BALANCES.items()
    }
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "ok"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    assert result.is_simulated and result.error_reason == ""
    assert abs(result.clock_drift_ms) < 1000  # from the envelope's timestamp
    assert DEMO.secret not in str(result)
    paths = {r.path for r in desk.requests(exchange="pionex", api_key=DEMO.api_key)}
    assert paths == {"/api/v1/account/balances"}


async def test_a_wrong_pionex_secret_fails_with_an_authentication_error(desk: Desk) -> None:
    account = desk.account("pionex")
    wrong = "0" * len(account.secret)
    connection = await desk.connect("pionex", account, api_type="spot", secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    steps = {s.name: s.status for s in result.steps}
    assert steps["server_time"] == "ok"  # public: the exchange itself answers
    assert steps["balance"] == "failed"
    assert "pionex" in result.error_message.lower()
    assert wrong not in str(result) and account.secret not in str(result)


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
