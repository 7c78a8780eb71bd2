"""A card's rate-limit bars follow the account's usage as its windows run empty, also after
calls that no check follows (an engine's; here engine dry runs'), against a real server whose
connection talks to the exchange simulator. The server pushes the usage when it settles: the
dashboard gets only counts, not the requests' times, so it could not work out the decay."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1.engine_pb2_grpc import EngineServiceStub
from nicegui.testing.user import User

from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import Stub, simulated
from tests.webui.test_dashboard import sign_in
from tests.webui.test_live_trading import until

# Limits this roomy stay under half full: the usage alone decides when it is pushed again.
ROOMY = {"per_second": 1000, "per_minute": 60000, "concurrent": 10}


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, "demo": False, "exchange_limits": {"bybit": ROOMY}}


def rate_shown(user: User) -> str:
    (label,) = user.find(marker="health-rate").elements
    return str(label.text)


async def test_the_bars_fall_back_when_calls_stop_without_a_check(
    user: User, stub: Stub, sim: SimulatorThread, dashboard_server: ServerThread
) -> None:
    account = sim.call(lambda: sim.simulator.open_account("bybit"))
    made = await simulated(stub, sim, "Sim dry run", account=account)
    # Answers take a while and the dry runs keep the account busy for seconds: its health is
    # pushed while some of its requests are under way, and the score stays the same after.
    sim.call(lambda: sim.simulator.faults.set({"latency_ms": 200}, api_key=account.api_key))
    await sign_in(user)
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        for _ in range(4):
            dry_run = await EngineServiceStub(channel).TestEngine(
                epb.TestEngineRequest(connection_id=made.id), metadata=auth()
            )
            assert dry_run.status == "success", dry_run.error_message
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_see(marker="health-rate", retries=100)
        # Nothing calls the account any more and no check comes (they are minutes apart): its
        # last second's window runs empty, and the card shows it.
        await until(lambda: rate_shown(user).startswith("0/1000 per s · "), "an empty second")
        (second_bar,) = user.find(marker="health-second-bar").elements
        assert second_bar.props["value"] == 0
