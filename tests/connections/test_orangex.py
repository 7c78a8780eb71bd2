"""Connection tests of a simulated OrangeX perpetual-futures connection, through CTS's real
server over gRPC: CTS's OrangeX ccxt class against the simulator's OrangeX dialect."""

from __future__ import annotations

from decimal import Decimal

from cts.connection.v1 import connection_pb2 as pb

from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from server.simulator.ledger import Permissions
from tests.connections.conftest import Desk

DEMO = next(a for a in DEMO_ACCOUNTS if a.exchange == "orangex")


def step(result: pb.ConnectionTestResult, name: str) -> pb.TestStep:
    return next(s for s in result.steps if s.name == name)


async def test_the_demo_orangex_key_tests_green_with_its_balance(desk: Desk) -> None:
    desk.sim.call(lambda: open_demo_accounts(desk.simulator))
    account = desk.sim.call(lambda: desk.simulator.account(DEMO.api_key))
    connection = await desk.connect("orangex", account, api_type="perpetual_futures")

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    assert Decimal(result.balance) == Decimal(10_000)
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "ok"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    assert result.capabilities.derivatives_trading and not result.capabilities.withdrawals
    assert abs(result.clock_drift_ms) < 1000  # from the envelope's usOut
    assert DEMO.secret not in str(result)
    paths = {r.path for r in desk.requests(exchange="orangex")}
    assert {"/api/v1/public/auth", "/api/v1/private/get_assets_info"} <= paths


async def test_a_wrong_orangex_secret_fails_with_an_authentication_error(desk: Desk) -> None:
    account = desk.account("orangex")
    wrong = "0" * len(account.secret)
    connection = await desk.connect("orangex", account, api_type="perpetual_futures", secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    assert step(result, "server_time").status == "ok"  # public: the exchange answers
    assert step(result, "balance").status == "failed"
    assert wrong not in str(result) and account.secret not in str(result)


async def test_a_read_only_orangex_key_gets_a_warning(desk: Desk) -> None:
    account = desk.account("orangex", permissions=Permissions(derivatives=False))
    connection = await desk.connect("orangex", account, api_type="perpetual_futures")

    result = await desk.test(connection.id)

    assert result.status == "warning"
    assert result.capabilities.derivatives_trading is False
    assert "trading is not allowed" in step(result, "permissions").message
