"""An engine's life and its exchange's circuit, as its connection's log tells them."""

from __future__ import annotations

from typing import Any

import pytest
from cts.monitoring.v1 import monitoring_pb2_grpc

from tests.connections.conftest import Desk
from tests.engine.test_coordinator import ENGINE_SETTINGS, Engines, active_connection
from tests.support.logs import entries, until_logged


@pytest.fixture(autouse=True)
def engines_on(server_settings: dict[str, Any]) -> None:
    server_settings.update(
        ENGINE_SETTINGS, circuit_failure_threshold=2, circuit_cooldown_seconds=0.5
    )


async def test_engine_states_and_circuit_changes_are_logged_on_the_connection(
    desk: Desk,
) -> None:
    stub = monitoring_pb2_grpc.MonitoringServiceStub(desk.channel)
    connection = await active_connection(desk)
    running = await until_logged(
        stub, connection_id=connection.id, category="engine", text="engine running"
    )
    assert running[0].context["state"] == "running" and running[0].level == "info"
    engine_log = await entries(stub, connection_id=connection.id, category="engine")
    assert "engine starting" in [e.message for e in engine_log]

    desk.faults("bybit", down=True)  # the exchange answers 5xx: the market feed fails
    stale = await until_logged(
        stub, connection_id=connection.id, category="engine", text="prices stale"
    )
    assert stale[0].level == "warning" and stale[0].context["stale"] == "true"
    # The feed's circuit is the exchange's public account: its entry concerns no one connection.
    opened = await until_logged(stub, category="exchange", text="is now open")
    assert opened[0].connection_id == "" and opened[0].context["subject"].startswith("feed:")
    desk.clear_faults()
    await until_logged(
        stub, connection_id=connection.id, category="engine", text="prices fresh again"
    )
    stopped = await Engines(desk).command("StopEngine", connection.id)
    assert stopped.connection_id == connection.id
    await until_logged(stub, connection_id=connection.id, category="engine", text="engine stopped")
