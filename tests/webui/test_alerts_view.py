"""Alerts on the dashboard: the bell's count, menu and toast, acknowledgement, and the Alerts
page's rules and channels, against a real server whose connections talk to a real simulator."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.monitoring.v1 import alerts_pb2 as apb
from cts.monitoring.v1 import alerts_pb2_grpc
from nicegui.testing.user import User

from server.access.roles import Role
from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import Stub, simulated
from tests.webui.test_dashboard import sign_in
from tests.webui.test_live_trading import until
from tests.webui.test_roles_view import token_for

WAIT = 100
AlertStub = alerts_pb2_grpc.AlertServiceStub


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, "demo": False}


@pytest.fixture
async def alerts(dashboard_server: ServerThread) -> Any:
    """AlertService, with the builtin health rule off: a failed test then raises exactly one
    alert (connection_test_failed), not also "health poor"."""
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = AlertStub(channel)
        rules = (await stub.ListAlertRules(apb.ListAlertRulesRequest(), metadata=auth())).rules
        health = next(r for r in rules if r.kind == "health_below")
        await stub.UpdateAlertRule(
            apb.UpdateAlertRuleRequest(id=health.id, rule=apb.AlertRule(enabled=False)),
            metadata=auth(),
        )
        yield stub


async def failed_test(stub: Stub, sim: SimulatorThread, name: str) -> pb.Connection:
    """A connection whose test fails (wrong secret): the builtin rule raises an alert."""
    made = await simulated(stub, sim, name, secret="not-the-secret")
    result = await stub.TestConnection(pb.TestConnectionRequest(id=made.id), metadata=auth())
    assert result.status == "failed"
    return made


async def unacknowledged(alerts: AlertStub) -> list[apb.Alert]:
    listed = await alerts.ListAlerts(apb.ListAlertsRequest(unacknowledged=True), metadata=auth())
    return list(listed.alerts)


async def test_an_alert_raised_shows_as_a_toast_and_in_the_bell_and_is_acknowledged_there(
    user: User, stub: Stub, sim: SimulatorThread, alerts: AlertStub
) -> None:
    await sign_in(user)
    await user.should_see(marker="alert-bell")
    await user.should_not_see(marker="alert-count")  # nothing unacknowledged yet
    made = await failed_test(stub, sim, "Sim refused")
    await user.should_see(marker="alert-count", content="1", retries=WAIT)  # pushed at once
    (raised,) = await unacknowledged(alerts)
    assert raised.kind == "connection_test_failed" and raised.connection_id == made.id
    await user.should_see(raised.title)  # the toast
    (bell,) = user.find(marker="alert-bell").elements
    assert bell.props["aria-label"] == "Alerts: 1 unacknowledged"

    user.find(marker="alert-bell").click()
    with user.scope(marker="alert-menu"):
        await user.should_see(f"Sim refused · {raised.raised_at.ToDatetime():%Y-%m-%d}")
        user.find(marker="alert-ack").click()
    await user.should_not_see(marker="alert-count", retries=WAIT)
    (acknowledged,) = (await alerts.ListAlerts(apb.ListAlertsRequest(), metadata=auth())).alerts
    assert acknowledged.acknowledged and acknowledged.acknowledged_by
    assert bell.props["aria-label"] == "Alerts: none unacknowledged"


async def test_the_alerts_page_lists_alerts_live_and_acknowledges_all_with_who_and_when(
    user: User, stub: Stub, sim: SimulatorThread, alerts: AlertStub
) -> None:
    await sign_in(user)
    await user.open("/alerts")
    await user.should_see(marker="alerts-table")
    await user.should_see("No alerts")
    await failed_test(stub, sim, "Sim first")
    await failed_test(stub, sim, "Sim second")
    table = "alerts-table"
    await user.should_see(marker=table, content="Sim first", retries=WAIT)
    await user.should_see(marker=table, content="Sim second", retries=WAIT)
    await user.should_see(marker=table, content="dashboard only")  # the rule names no channel
    await user.should_see(marker="alert-count", content="2", retries=WAIT)
    user.find(marker="alert-bell").click()
    user.find(marker="alert-ack-all").click()
    await user.should_not_see(marker="alert-count", retries=WAIT)
    assert await unacknowledged(alerts) == []
    await user.should_see(marker=table, content="by ")  # acknowledged by the token's name
    user.find(marker="alerts-unacknowledged").click()  # only unacknowledged: none left
    await user.should_not_see(marker=table, content="Sim first", retries=WAIT)


async def test_a_channel_is_added_with_its_secret_never_shown_and_refused_fields_on_the_field(
    user: User, alerts: AlertStub
) -> None:
    await sign_in(user)
    await user.open("/alerts")
    await user.should_see("No channels", retries=WAIT)
    user.find(marker="channel-add").click()
    await user.should_see(marker="channel-dialog")
    with user.scope(marker="channel-dialog"):
        user.find(marker="channel-name").type("Desk hook")
        user.find(marker="channel-url").type("not a url")
        user.find(marker="channel-secret").type("hook-signing-secret-42")
        user.find(marker="channel-save").click()
    (url,) = user.find(marker="channel-url").elements
    await until(lambda: url.props.get("error") is True, "the URL field's refusal")
    assert url.props["error-message"]  # the server's reason, under the field
    await user.should_see(marker="channel-dialog")  # refused: still open
    assert (await alerts.ListChannels(apb.ListChannelsRequest(), metadata=auth())).channels == []

    url.value = "http://127.0.0.1:9/hook"
    user.find(marker="channel-save").click()
    await user.should_not_see(marker="channel-dialog", retries=WAIT)
    with user.scope(marker="channels-list"):
        await user.should_see("Desk hook", retries=WAIT)
        await user.should_see("http://127.0.0.1:9/hook")
        await user.should_see("last delivery: none yet")
    await user.should_not_see("hook-signing-secret-42")
    (stored,) = (await alerts.ListChannels(apb.ListChannelsRequest(), metadata=auth())).channels
    assert stored.has_secret and not stored.secret and stored.kind == "webhook"


async def test_a_rule_is_switched_off_and_given_quiet_hours_in_its_dialog(
    user: User, alerts: AlertStub
) -> None:
    rules = (await alerts.ListAlertRules(apb.ListAlertRulesRequest(), metadata=auth())).rules
    rule = next(r for r in rules if r.kind == "engine_error")
    assert rule.enabled and rule.builtin
    await sign_in(user)
    await user.open("/alerts")
    await user.should_see(marker=f"rule-{rule.id}", retries=WAIT)
    with user.scope(marker=f"rule-{rule.id}"):
        await user.should_see("Engine error")
        await user.should_not_see(marker="rule-delete")  # builtin rules are not deleted
        user.find(marker="rule-edit").click()
    await user.should_see(marker="rule-dialog", retries=WAIT)
    with user.scope(marker="rule-dialog"):
        user.find(marker="rule-enabled").click()
        user.find(marker="rule-quiet-from").type("22:00")
        user.find(marker="rule-quiet-until").type("06:30")
        user.find(marker="rule-save").click()
    await user.should_not_see(marker="rule-dialog", retries=WAIT)
    changed = await alerts.GetAlertRule(apb.GetAlertRuleRequest(id=rule.id), metadata=auth())
    assert (changed.enabled, changed.quiet_from, changed.quiet_until) == (False, "22:00", "06:30")
    with user.scope(marker=f"rule-{rule.id}"):
        await user.should_see("off · severity", retries=WAIT)
        await user.should_see("quiet 22:00–06:30 UTC")


async def test_a_viewer_sees_alerts_but_no_acknowledge_or_edit_actions(
    user: User, stub: Stub, sim: SimulatorThread, dashboard_server: ServerThread, alerts: AlertStub
) -> None:
    await failed_test(stub, sim, "Sim watched")
    await sign_in(user, token_for(dashboard_server, Role.VIEWER))
    await user.should_see(marker="alert-count", content="1", retries=WAIT)
    user.find(marker="alert-bell").click()
    with user.scope(marker="alert-menu"):
        await user.should_see("Sim watched", retries=WAIT)
        await user.should_not_see(marker="alert-ack")
        await user.should_not_see(marker="alert-ack-all")
    await user.open("/alerts")
    await user.should_see(marker="alerts-table")
    await user.should_not_see(marker="rule-add")
    await user.should_not_see(marker="channel-add")
    (table,) = user.find(marker="alerts-table").elements
    await until(lambda: bool(table.props["rows"]), "the alert's row")
    assert [row["can_acknowledge"] for row in table.props["rows"]] == [False]
