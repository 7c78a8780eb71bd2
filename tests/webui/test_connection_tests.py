"""Connection tests and health on the dashboard, against a real server whose connections talk
to a real exchange simulator."""

from __future__ import annotations

from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from nicegui.testing.user import User

from tests.conftest import auth
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import Stub, simulated
from tests.webui.test_dashboard import sign_in

# `should_see` tries every 0.1 s; a test against the simulator takes longer than its default 3.
WAIT = 100


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, "demo": False}


async def test_the_card_shows_health_and_rate_limit_usage(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    made = await simulated(stub, sim, "Sim health", api_type="perpetual_futures")
    await sign_in(user)
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_see(marker="chip-simulated")
        await user.should_see("unknown")  # never checked
        await user.should_see("never tested")
        await user.should_not_see(marker="health-rate")

    await stub.TestConnection(pb.TestConnectionRequest(id=made.id), metadata=auth())
    tested = await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
    health, rate = tested.health, tested.health.rate_limit
    assert (health.status, rate.per_second_limit, rate.per_minute_limit) == ("healthy", 10, 120)
    assert rate.requests_last_minute >= 3  # the test's three calls
    with user.scope(marker=f"connection-{made.id}"):  # arrived on the stream, no reload
        await user.should_see("healthy", retries=WAIT)
        # The last second's window runs empty and that is pushed too (the minute's still holds
        # the test's requests): the bars do not freeze between checks.
        await user.should_see(f"0/10 per s · {rate.requests_last_minute}/120 per min", retries=WAIT)
        await user.should_see(marker="health-score", content="score ", retries=WAIT)
        await user.should_see(marker="health-score", content="operational")
        await user.should_see("uptime 100% · avg ")
        await user.should_see(f"{health.success_count} ok / 0 errors")
        await user.should_see("last test success · ")
        await user.should_see(f"{tested.last_test_balance} USDT")
        await user.should_not_see(marker="health-circuit")
        await user.should_not_see(marker="health-paused")


async def test_test_shows_the_log_live_then_success_with_the_balance(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    account = sim.call(lambda: sim.simulator.open_account("bybit"))
    made = await simulated(stub, sim, "Sim tested", api_type="perpetual_futures", account=account)
    # The key's requests (the balance: after the server time) are answered slowly until the
    # first lines are seen, so that the test is seen running: its log arrives live.
    sim.call(lambda: sim.simulator.faults.set({"latency_ms": 2000}, api_key=account.api_key))
    await sign_in(user)
    with user.scope(marker=f"connection-{made.id}"):
        user.find(marker="card-test").click()
    await user.should_see(marker="test-dialog")
    with user.scope(marker="test-dialog"):
        await user.should_see("Server time: latency", retries=WAIT)
        await user.should_see("Running…")
        await user.should_not_see(marker="test-status")
        sim.call(sim.simulator.faults.clear)
        await user.should_see("Balance: 10000", retries=WAIT)
        await user.should_see(marker="test-status", retries=WAIT)
        await user.should_see("success")
        await user.should_see("Balance 10000")
        await user.should_see("0.25 BTC")
        await user.should_see("withdrawals: no")
        await user.should_see("clock drift")
        await user.should_see("Test success in")
        await user.should_not_see(marker="test-error")
        await user.should_not_see(marker="test-withdrawals-warning")
        await user.should_not_see(account.secret)
    await user.should_see("Sim tested: test success")  # the toast
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_see("last test success")
    user.find(marker="test-close").click()
    await user.should_not_see(marker="test-dialog")


async def test_a_wrong_secret_fails_with_an_authentication_message(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    made = await simulated(
        stub, sim, "Sim wrong", api_type="perpetual_futures", secret="not-the-secret"
    )
    await sign_in(user)
    with user.scope(marker=f"connection-{made.id}"):
        user.find(marker="card-test").click()
    await user.should_see(marker="test-dialog")
    with user.scope(marker="test-dialog"):
        await user.should_see("failed", retries=WAIT)
        await user.should_see(marker="test-error")
        await user.should_see("authentication: ")
        await user.should_not_see(marker="test-balance")
        await user.should_not_see("not-the-secret")
    await user.should_see("Sim wrong: test failed")
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_see("last test failed")
        await user.should_see("degraded")  # the failed test counts as a failed check


async def test_batch_test_of_the_selected_connections(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    first = await simulated(stub, sim, "Sim one", api_type="perpetual_futures")
    second = await simulated(stub, sim, "Sim two", api_type="perpetual_futures")
    await sign_in(user)
    await user.should_see("Test selected (0)")
    for made in (first, second):
        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-select").click()
    await user.should_see("Test selected (2)")
    user.find(marker="batch-test").click()
    await user.should_see(marker="batch-dialog")
    with user.scope(marker="batch-dialog"):
        await user.should_see("Testing 2 connections")
        await user.should_see("2 of 2 finished", retries=WAIT)
        await user.should_see("2 succeeded · 0 failed · ")
        for made in (first, second):
            with user.scope(marker=f"batch-row-{made.id}"):
                await user.should_see("success")
                await user.should_see("10000")
    await user.should_see("Batch test: 2 succeeded, 0 failed")
    for made in (first, second):
        with user.scope(marker=f"connection-{made.id}"):
            await user.should_see("last test success")


async def test_more_than_fifty_selected_are_refused_before_calling(user: User, stub: Stub) -> None:
    for i in range(47):  # and the 4 predefined ones
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name=f"Many {i}", exchange="okx", api_type="spot")
            ),
            metadata=auth(),
        )
    await sign_in(user)
    await user.should_see("51 of 51 connections")
    for checkbox in user.find(marker="card-select").elements:
        checkbox.set_value(True)
    await user.should_see("Test selected (51)")
    user.find(marker="batch-test").click()
    await user.should_see("At most 50 connections can be tested at once (51 are selected)")
    await user.should_not_see(marker="batch-dialog")
    listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
    assert all(not c.last_test_status for c in listed.connections)
