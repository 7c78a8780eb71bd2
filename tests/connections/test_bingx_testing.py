"""Connection tests of simulated BingX connections (spot and perpetual) through the real CTS
server over gRPC, with the simulator's BingX demo key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cts.connection.v1 import connection_pb2 as pb

from server.simulator.demo import DEMO_ACCOUNTS, open_demo_accounts
from server.simulator.ledger import Account, Permissions
from tests.connections.conftest import Desk

DEMO = next(d for d in DEMO_ACCOUNTS if d.exchange == "bingx")


def demo_account(desk: Desk) -> Account:
    desk.sim.call(lambda: open_demo_accounts(desk.simulator))
    return desk.sim.call(lambda: desk.simulator.account(DEMO.api_key))


def step(result: pb.ConnectionTestResult, name: str) -> pb.TestStep:
    return next(s for s in result.steps if s.name == name)


@pytest.mark.parametrize("api_type", ["spot", "perpetual_futures"])
async def test_the_demo_key_tests_green_with_its_balance(desk: Desk, api_type: str) -> None:
    account = demo_account(desk)
    connection = await desk.connect("bingx", account, api_type=api_type)

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    usdt = account.balances["USDT"].total
    assert Decimal(result.balance) == usdt
    balances = {b.asset: Decimal(b.total) for b in result.balances}
    if api_type == "spot":
        assert balances == {a: b.total for a, b in account.balances.items()}
    else:  # the perpetual account holds the margin asset
        assert balances == {"USDT": usdt}
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "ok"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    caps = result.capabilities
    assert caps.read and caps.spot_trading and caps.derivatives_trading and not caps.withdrawals
    assert result.is_simulated and result.error_reason == ""
    assert abs(result.clock_drift_ms) < 1000
    assert DEMO.secret not in str(result)
    assert {r.exchange for r in desk.requests(api_key=DEMO.api_key)} == {"bingx"}


@pytest.mark.parametrize("api_type", ["spot", "perpetual_futures"])
async def test_a_wrong_secret_fails_with_an_authentication_error(desk: Desk, api_type: str) -> None:
    account = demo_account(desk)
    wrong = "0" * len(account.secret)
    connection = await desk.connect("bingx", account, api_type=api_type, secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    assert step(result, "server_time").status == "ok"
    assert step(result, "balance").status == "failed"
    assert "bingx" in result.error_message.lower()
    assert wrong not in str(result) and account.secret not in str(result)


async def test_a_key_that_may_withdraw_gets_a_warning(desk: Desk) -> None:
    account = desk.account("bingx", permissions=Permissions(withdraw=True))
    connection = await desk.connect("bingx", account, api_type="spot")

    result = await desk.test(connection.id)

    assert result.status == "warning" and result.capabilities.withdrawals
    assert step(result, "permissions").status == "warning"
    assert "WITHDRAW" in step(result, "permissions").message


async def test_a_read_only_key_gets_a_warning(desk: Desk) -> None:
    account = desk.account("bingx", permissions=Permissions(spot=False, derivatives=False))
    connection = await desk.connect("bingx", account, api_type="perpetual_futures")

    result = await desk.test(connection.id)

    assert result.status == "warning"
    assert result.capabilities.derivatives_trading is False
    assert "trading is not allowed" in step(result, "permissions").message
