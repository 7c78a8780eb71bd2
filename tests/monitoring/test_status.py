"""System status, connection statuses and the comprehensive report through a real server."""

from __future__ import annotations

import asyncio
import base64
import os
from collections import Counter

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc

from server.monitoring.structure import bucket_quantile
from tests.conftest import auth
from tests.connections.conftest import Desk
from tests.support.logs import until_logged

Stub = monitoring_pb2_grpc.MonitoringServiceStub


async def status(stub: Stub) -> mpb.SystemStatus:
    return await stub.GetSystemStatus(mpb.GetSystemStatusRequest(), metadata=auth())  # type: ignore[no-any-return]


async def test_the_status_counts_the_connections_created(desk: Desk) -> None:
    stub = Stub(desk.channel)
    before = await status(stub)  # the predefined connections (seeded, disabled)
    await desk.connect("binance", api_type="spot")
    await desk.connect("binance", api_type="perpetual_futures", is_enabled=True)
    await desk.connect("bybit", api_type="spot", is_enabled=True, is_active=True)
    okx = desk.account("okx")
    live = await desk.connect("okx", okx, api_type="spot", is_enabled=True, is_active=True)
    await desk.stub.SetLiveTrade(
        cpb.SetLiveTradeRequest(id=live.id, is_live_trade=True, confirm=True), metadata=auth()
    )
    now = await status(stub)

    def added(field: str) -> dict[str, int]:
        return dict(Counter(getattr(now, field)) - Counter(getattr(before, field)))

    assert now.connections - before.connections == 4
    assert added("connections_by_exchange") == {"binance": 2, "bybit": 1, "okx": 1}
    assert added("connections_by_api_type") == {"perpetual_futures": 1, "spot": 3}
    assert (before.enabled, before.active, before.live_trading) == (0, 0, 0)
    assert (now.enabled, now.active, now.live_trading) == (3, 2, 1)
    assert dict(now.engines_by_state) == {"stopped": now.connections}  # engines off here
    assert dict(now.health_by_band) == {"unknown": 3}  # the enabled ones: never checked
    assert now.storage.kind == "sqlite" and now.storage.reachable
    assert now.version and now.uptime_seconds >= 0
    assert {"connections", "engines", "logs", "system_status"} <= set(now.stream_subscribers)
    assert set(now.log_entries_last_hour) == {"debug", "info", "warning", "error"}


async def test_the_watch_sends_the_status_then_each_change(desk: Desk) -> None:
    stub = Stub(desk.channel)
    stream = stub.WatchSystemStatus(mpb.WatchSystemStatusRequest(), metadata=auth())
    messages = aiter(stream)
    first = await anext(messages)
    await desk.connect("bybit")
    async with asyncio.timeout(10):
        while (message := await anext(messages)).WhichOneof("event") != "status" or (
            message.status.connections != first.status.connections + 1
        ):
            pass
    assert message.status.connections_by_exchange["bybit"] == (
        first.status.connections_by_exchange["bybit"] + 1
    )
    assert message.status.stream_subscribers["system_status"] >= 1
    stream.cancel()


async def test_connection_statuses_show_the_active_ones_with_health_and_errors(desk: Desk) -> None:
    stub = Stub(desk.channel)
    account = desk.account("binance")
    failing = await desk.connect(
        "binance", account, secret="not-the-secret-1234", is_enabled=True, is_active=True
    )
    await desk.connect("bybit", is_enabled=True)  # enabled, not active: not listed
    await desk.test(failing.id)
    listed = await stub.ListConnectionStatuses(mpb.ListConnectionStatusesRequest(), metadata=auth())
    assert [c.connection_id for c in listed.connections] == [failing.id]
    row = listed.connections[0]
    assert (row.state, row.engine_state, row.exchange) == ("active", "stopped", "binance")
    assert row.health_status in {"degraded", "down"} and row.last_error
    assert row.health_score == 0 and row.health_band == "major_outage"  # the key was rejected
    assert not row.HasField("engine")
    one = await stub.GetConnectionStatus(
        mpb.GetConnectionStatusRequest(connection_id=failing.id), metadata=auth()
    )
    assert one.engine.connection_id == failing.id and one.engine.state == "stopped"


@pytest.mark.parametrize(
    ("connection_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("not-a-uuid", grpc.StatusCode.NOT_FOUND),
        ("3f1d2c4b-0000-4000-8000-000000000000", grpc.StatusCode.NOT_FOUND),
    ],
)
async def test_one_connection_status_refuses_bad_ids(
    desk: Desk, connection_id: str, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await Stub(desk.channel).GetConnectionStatus(
            mpb.GetConnectionStatusRequest(connection_id=connection_id), metadata=auth()
        )
    assert error.value.code() == code


async def test_the_comprehensive_report_holds_everything(desk: Desk) -> None:
    stub = Stub(desk.channel)
    account = desk.account("okx")
    failing = await desk.connect("okx", account, secret="wrong-okx-secret-77", is_enabled=True)
    await desk.connect("bybit")  # disabled: not an exchange in use
    await desk.test(failing.id)
    await until_logged(stub, level="error", connection_id=failing.id)
    report = await stub.GetComprehensiveReport(mpb.GetComprehensiveReportRequest(), metadata=auth())
    assert [(e.exchange, list(e.connection_ids)) for e in report.exchanges] == [
        ("okx", [failing.id])
    ]
    assert report.exchanges[0].circuit_state == "closed"
    assert all(e.level == "error" for e in report.recent_errors)
    assert any(e.connection_id == failing.id for e in report.recent_errors)
    assert len(report.connections) == report.system.connections
    assert {failing.id} <= {c.connection_id for c in report.connections}
    assert report.open_pseudo_positions == 0 and report.trades == 0


async def test_verify_startup_fails_on_a_replaced_key_and_an_open_data_folder(desk: Desk) -> None:
    stub = Stub(desk.channel)
    data = desk.server.settings.resolved_data_dir

    async def verify() -> dict[str, mpb.StartupCheck]:
        report = await stub.VerifyStartup(mpb.VerifyStartupRequest(), metadata=auth())
        return {check.name: check for check in report.checks}

    before = await verify()
    assert before["master_key"].status == "pass" and before["data_folder"].status == "pass"
    key = data / "master.key"
    key.write_bytes(base64.urlsafe_b64encode(os.urandom(32)))  # another key, same mode
    data.chmod(0o755)
    after = await verify()
    assert after["master_key"].status == "fail" and after["data_folder"].status == "fail"
    report = await stub.VerifyStartup(mpb.VerifyStartupRequest(), metadata=auth())
    assert report.status == "fail"
    assert all(check.duration_ms >= 0 and check.detail for check in report.checks)


async def test_structure_metrics_count_rpcs_tables_and_exchange_calls(desk: Desk) -> None:
    stub = Stub(desk.channel)
    account = desk.account("bybit")
    connection = await desk.connect("bybit", account)
    await desk.test(connection.id)
    for _ in range(3):
        await desk.stub.ListConnections(cpb.ListConnectionsRequest(), metadata=auth())
    figures = await stub.GetStructureMetrics(mpb.GetStructureMetricsRequest(), metadata=auth())
    rpcs = {r.method: r for r in figures.rpcs}
    listed = rpcs["/cts.connection.v1.ConnectionService/ListConnections"]
    assert listed.count >= 3 and listed.errors == 0 and 0 < listed.p50_ms <= listed.p99_ms
    assert figures.storage.kind == "sqlite" and figures.storage.size_bytes > 0
    assert (
        figures.storage.rows["connections"] == (await status(stub)).connections
        and "log_entries" in figures.storage.rows
    )
    calls = {(e.exchange, e.outcome): e.count for e in figures.exchange_requests}
    assert calls[("bybit", "ok")] >= 3  # server time, balance, permissions
    assert figures.process.rss_bytes > 10_000_000 and figures.process.threads > 1
    assert figures.event_loop_lag_p99_ms >= figures.event_loop_lag_p50_ms >= 0


def test_quantiles_interpolate_inside_the_bucket() -> None:
    buckets = [(0.1, 10.0), (0.2, 30.0), (0.5, 40.0), (float("inf"), 40.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.15)  # rank 20: half-way in (0.1, 0.2]
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.1)  # rank 10: the first bound
    assert bucket_quantile(1.0, buckets) == pytest.approx(0.5)
    assert bucket_quantile(0.5, [(0.1, 0.0), (float("inf"), 4.0)]) == 0.1  # beyond the bounds
    assert bucket_quantile(0.5, []) == 0.0
