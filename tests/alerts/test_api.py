"""AlertService over gRPC on a real server: WatchAlerts (snapshot with the unacknowledged count,
changes, resume, heartbeats) and acknowledgement by the caller's token name."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from cts.monitoring.v1 import alerts_pb2 as pb
from cts.stream.v1 import stream_pb2

from server.access.roles import Role
from server.access.tokens import create_token
from server.alerts.views import AlertEvent, AlertView
from server.storage.database import Database
from tests.alerts.conftest import AlertServer
from tests.conftest import auth


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    return {"stream_heartbeat_seconds": 0.3}


async def raise_alert(server: AlertServer, title: str) -> AlertView:
    """An alert raised in the server's own domain (a one-off start-up check failure)."""
    runtime = server.thread.server.alerts if server.thread.server else None
    assert runtime is not None
    event = AlertEvent("startup_check_failed", title, "the check failed")
    (raised,) = await asyncio.to_thread(
        server.thread.run, lambda: runtime.alerts.raise_event(event)
    )
    return raised


def operator_token(server: AlertServer) -> str:
    db = Database(server.thread.settings.resolved_database_url, threads=1)
    try:
        token, _ = db.write_now(lambda s: create_token(s, "night operator", Role.OPERATOR))
    finally:
        db.close()
    return token


async def test_watch_alerts_gives_a_snapshot_then_changes_with_the_count_and_resumes(
    alert_server: AlertServer,
) -> None:
    first = await raise_alert(alert_server, "first")
    await raise_alert(alert_server, "second")
    stream = alert_server.stub.WatchAlerts(pb.WatchAlertsRequest(), metadata=auth())
    snapshot = await stream.read()
    assert snapshot.snapshot.reason == stream_pb2.SNAPSHOT_REASON_INITIAL
    assert [a.title for a in snapshot.snapshot.alerts] == ["second", "first"]
    assert snapshot.snapshot.unacknowledged_count == 2

    third = await raise_alert(alert_server, "third")
    added = await stream.read()
    assert added.change.type == stream_pb2.CHANGE_TYPE_ADDED
    assert (added.change.alert.id, added.change.unacknowledged_count) == (str(third.id), 3)
    token = operator_token(alert_server)
    await alert_server.stub.AcknowledgeAlert(
        pb.AcknowledgeAlertRequest(id=str(first.id)), metadata=auth(token)
    )
    acknowledged = await stream.read()
    assert acknowledged.change.type == stream_pb2.CHANGE_TYPE_MODIFIED
    assert acknowledged.change.alert.acknowledged_by == "night operator"
    assert acknowledged.change.unacknowledged_count == 2
    heartbeat = await stream.read()
    assert heartbeat.WhichOneof("event") == "heartbeat"
    stream.cancel()

    resumed = alert_server.stub.WatchAlerts(
        pb.WatchAlertsRequest(resume_revision=snapshot.revision), metadata=auth()
    )
    replayed = [await resumed.read() for _ in range(3)]
    assert [m.WhichOneof("event") for m in replayed] == ["change", "change", "heartbeat"]
    assert [m.change.unacknowledged_count for m in replayed[:2]] == [3, 2]
    resumed.cancel()
    too_old = alert_server.stub.WatchAlerts(
        pb.WatchAlertsRequest(resume_revision=1), metadata=auth()
    )
    again = await too_old.read()
    assert again.snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESUME_TOO_OLD
    assert again.snapshot.unacknowledged_count == 2
    too_old.cancel()


async def test_acknowledgement_records_the_caller_and_the_time_once(
    alert_server: AlertServer,
) -> None:
    raised = [await raise_alert(alert_server, f"alert {n}") for n in range(4)]
    token = operator_token(alert_server)
    one = await alert_server.stub.AcknowledgeAlert(
        pb.AcknowledgeAlertRequest(id=str(raised[0].id)), metadata=auth(token)
    )
    assert (one.acknowledged, one.acknowledged_by) == (True, "night operator")
    again = await alert_server.stub.AcknowledgeAlert(
        pb.AcknowledgeAlertRequest(id=str(raised[0].id)), metadata=auth()
    )
    assert (again.acknowledged_by, again.acknowledged_at) == ("night operator", one.acknowledged_at)
    upto = await alert_server.stub.AcknowledgeAlerts(
        pb.AcknowledgeAlertsRequest(up_to_id=str(raised[2].id)), metadata=auth()
    )
    assert upto.acknowledged == 2
    listed = await alert_server.stub.ListAlerts(
        pb.ListAlertsRequest(unacknowledged=True), metadata=auth()
    )
    assert [a.id for a in listed.alerts] == [str(raised[3].id)]
    assert listed.unacknowledged_count == 1
    everyone = await alert_server.alerts()
    assert [a.acknowledged_by for a in everyone] == ["", "admin", "admin", "night operator"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alert_server.stub.AcknowledgeAlert(
            pb.AcknowledgeAlertRequest(id="999999"), metadata=auth()
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
