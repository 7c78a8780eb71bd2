"""Alerts raised by the real sources of a real server in front of the exchange simulator:
engines in error and recovering, circuits opening and closing, health falling, failed
connection tests, rate-limit pauses and failing start-up checks; each once while it lasts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import alerts_pb2 as pb
from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc

from server.app import CtsServer
from server.monitoring.startup import StartupChecks
from tests.alerts.conftest import AlertServer, alert_server_settings, delivered
from tests.conftest import auth
from tests.connections.conftest import Desk
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

ENGINES = {
    "engines": True,
    "engine_cycle_seconds": 0.1,
    "engine_symbols": 3,
    "engine_history_bars": 60,
    "engine_retry_seconds": 0.2,
}
MONITORED = {
    "health_checks": True,
    "health_check_interval_seconds": 0.2,
    "circuit_failure_threshold": 3,
    "circuit_cooldown_seconds": 0.5,
}


def kinds(alerts: list[pb.Alert], connection_id: str | None = None) -> list[str]:
    """Kinds, oldest first."""
    return [a.kind for a in reversed(alerts) if connection_id in (None, a.connection_id)]


@pytest.fixture
def engines_on(server_overrides: dict[str, Any]) -> None:
    server_overrides.update(ENGINES)


@pytest.fixture
def monitored(server_overrides: dict[str, Any]) -> None:
    server_overrides.update(MONITORED)


@pytest.mark.usefixtures("engines_on")
async def test_an_engine_error_alerts_once_while_it_retries_then_its_recovery(
    alert_server: AlertServer,
) -> None:
    desk = alert_server.desk
    await alert_server.enable("engine_recovered")
    connection = await desk.connect(
        "okx", desk.account("okx"), is_enabled=True, is_active=True, name="okx main"
    )
    stub = engine_pb2_grpc.EngineServiceStub(desk.channel)
    feed = stub.WatchEngines(epb.WatchEnginesRequest(connection_id=connection.id), metadata=auth())
    async for message in feed:
        if message.WhichOneof("event") == "change" and message.change.engine.state == "running":
            break
    desk.faults(exchange="okx", down=True)
    command = epb.EngineCommand(connection_id=connection.id)
    await stub.StopEngine(command, metadata=auth())
    await stub.StartEngine(command, metadata=auth())
    attempts = 0
    async for message in feed:  # the engine fails to load and retries with back-off
        if message.WhichOneof("event") == "change" and message.change.engine.state == "error":
            attempts = message.change.engine.attempts
            if attempts >= 3:
                break
    errors = await alert_server.alerts(kind="engine_error")
    assert len(errors) == 1, [a.text for a in errors]
    (error,) = errors
    assert (error.connection_id, error.connection_name, error.severity) == (
        connection.id,
        "okx main",
        "critical",
    )
    assert error.title == "Engine error: okx main" and "okx" in error.text

    desk.clear_faults()
    alerts = await alert_server.until(lambda a: "engine_recovered" in kinds(a, connection.id))
    assert kinds(alerts, connection.id).count("engine_error") == 1
    feed.cancel()


@pytest.mark.usefixtures("monitored")
async def test_a_down_exchange_opens_the_circuit_and_lowers_health_then_closes(
    alert_server: AlertServer,
) -> None:
    desk = alert_server.desk
    await alert_server.enable("circuit_closed")
    connection = await desk.connect("bybit", desk.account("bybit"), is_enabled=True)
    desk.faults(exchange="bybit", down=True)
    alerts = await alert_server.until(
        lambda a: {"circuit_open", "health_below"} <= set(kinds(a, connection.id))
    )
    health = next(a for a in alerts if a.kind == "health_below")
    assert health.details["band"] == "poor" and int(health.details["score"]) < 70
    circuit = next(a for a in alerts if a.kind == "circuit_open")
    assert circuit.details["exchange"] == "bybit" and circuit.connection_id == connection.id

    desk.clear_faults()
    alerts = await alert_server.until(lambda a: "circuit_closed" in kinds(a, connection.id))
    seen = kinds(alerts, connection.id)
    # Checks kept failing every 0.2 s while it was down: one alert of each.
    assert seen.count("circuit_open") == 1 and seen.count("health_below") == 1


async def test_failed_connection_tests_alert_once_until_a_test_passes(
    alert_server: AlertServer,
) -> None:
    desk = alert_server.desk
    account = desk.account("binance")
    wrong = await desk.connect("binance", account, secret="not-the-secret", name="typo")
    assert (await desk.test(wrong.id)).status == "failed"
    assert (await desk.test(wrong.id)).status == "failed"
    alerts = await alert_server.until(lambda a: "connection_test_failed" in kinds(a))
    (failed,) = [a for a in alerts if a.kind == "connection_test_failed"]
    assert (failed.connection_id, failed.title) == (wrong.id, "Connection test failed: typo")
    assert failed.details["reason"] and failed.details["test_id"]


async def test_rate_limit_pauses_in_a_row_alert_once(alert_server: AlertServer) -> None:
    desk = alert_server.desk
    await alert_server.enable("rate_limit_pause")
    connection = await desk.connect("binance", desk.account("binance"))
    desk.faults(exchange="binance", rate_limit_burst=2, retry_after_seconds=0.2)
    await desk.test(connection.id)  # 429 twice: paused, retried, paused again
    alerts = await alert_server.until(lambda a: "rate_limit_pause" in kinds(a))
    (paused,) = [a for a in alerts if a.kind == "rate_limit_pause"]
    assert paused.connection_id == connection.id and paused.details["exchange"] == "binance"
    assert float(paused.details["pause_seconds"]) > 0


async def test_a_start_up_check_that_starts_failing_alerts_once(
    alert_server: AlertServer, tmp_path: Path
) -> None:
    hook = await alert_server.stub.CreateChannel(
        pb.CreateChannelRequest(
            channel=pb.Channel(name="ops", kind="webhook", url="http://127.0.0.1:9/", secret="k")
        ),
        metadata=auth(),
    )
    await alert_server.enable("startup_check_failed", channel_ids=[hook.id])
    alert_server.dispatcher.answer = delivered
    monitoring = monitoring_pb2_grpc.MonitoringServiceStub(alert_server.desk.channel)
    data = alert_server.thread.settings.resolved_data_dir
    data.chmod(0o707)  # open to other users: the data_folder check fails
    try:
        for _ in range(2):
            await monitoring.VerifyStartup(mpb.VerifyStartupRequest(), metadata=auth())
        alerts = await alert_server.until(
            lambda a: bool(a) and all(d.state == "delivered" for d in a[0].deliveries)
        )
    finally:
        data.chmod(0o700)
    (failed,) = alerts
    assert (failed.kind, failed.connection_id, failed.details["check"]) == (
        "startup_check_failed",
        "",
        "data_folder",
    )
    assert [(d.channel_name, d.state, d.status_code) for d in failed.deliveries] == [
        ("ops", "delivered", 200)
    ]
    # Passing again ends the condition: the next failure is a new alert.
    await monitoring.VerifyStartup(mpb.VerifyStartupRequest(), metadata=auth())
    data.chmod(0o707)
    try:
        await monitoring.VerifyStartup(mpb.VerifyStartupRequest(), metadata=auth())
        alerts = await alert_server.until(lambda a: len(a) == 2)
    finally:
        data.chmod(0o700)
    assert kinds(alerts) == ["startup_check_failed"] * 2


class NeedsMoreDisk(CtsServer):
    """A server whose disk check asks for more free space than any disk has."""

    def startup_checks(self) -> StartupChecks:
        return StartupChecks(self.settings, self._db, disk_warn_below=2**62, disk_fail_below=2**62)


async def test_a_start_up_check_failing_at_the_start_alerts_without_being_asked(
    tmp_path: Path, sim: SimulatorThread
) -> None:
    settings = alert_server_settings(tmp_path / "data", sim)
    thread = ServerThread(settings, NeedsMoreDisk).start()
    try:
        async with grpc.aio.insecure_channel(thread.target) as channel:
            server = AlertServer(thread, Desk(channel, thread, sim), [])
            alerts = await server.until(lambda a: "startup_check_failed" in kinds(a))
    finally:
        thread.stop()
    (failed,) = alerts
    assert failed.details["check"] == "disk_space" and "cannot grow" in failed.text
