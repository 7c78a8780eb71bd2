"""The Alerts page: every alert the token may see (live, from the shared alert feed), with
acknowledgement; the alert rules; and the delivery channels.

Alerts arrive on the stream. Rules and channels are configuration: read when the page opens and
again after each change made here (a change made elsewhere shows on the next visit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cts.monitoring.v1 import alerts_pb2 as pb
from google.protobuf import field_mask_pb2
from nicegui import ui

from server.access.roles import Role
from webui import session, theme
from webui.alert_feed import AlertFeed, AlertFeeds
from webui.backend import Backend, BackendError
from webui.components.accessible import named
from webui.components.alert_bell import SEVERITY_TONES, about, raised_at
from webui.components.alert_rule_form import KINDS, rule_dialog
from webui.components.channel_form import KINDS as CHANNEL_KINDS
from webui.components.channel_form import SECRET_URL, channel_dialog
from webui.components.confirm import confirm
from webui.components.data_table import DataTable, column
from webui.components.status import moment
from webui.feeds import Feeds
from webui.frame import frame, signed_in, use

ALERT_ACTION = """
<q-td :props="props">
  <span v-if="props.row.acknowledged">{{ props.row.acknowledged_text }}</span>
  <q-btn v-else-if="props.row.can_acknowledge" flat dense no-caps label="Acknowledge"
    :aria-label="'Acknowledge ' + props.row.title"
    @click="() => $parent.$emit('acknowledge', props.row.id)" />
  <span v-else>unacknowledged</span>
</q-td>
"""


def deliveries_text(alert: pb.Alert) -> str:
    parts = []
    for d in alert.deliveries:
        detail = f" ({d.error})" if d.state == "failed" and d.error else ""
        parts.append(f"{d.channel_name or d.channel_id}: {d.state}{detail}")
    return "; ".join(parts) or "dashboard only"


def alert_row(alert: pb.Alert, can_acknowledge: bool) -> dict[str, Any]:
    acknowledged = ""
    if alert.acknowledged:
        at = moment(alert.acknowledged_at)
        acknowledged = f"by {alert.acknowledged_by or 'a user'}, {at}"
    return {
        "id": alert.id,
        "raised": raised_at(alert),
        "severity": alert.severity,
        "severity_class": theme.text(theme.tone(SEVERITY_TONES, alert.severity)),
        "title": alert.title,
        "about": about(alert),
        "text": alert.text,
        "deliveries": deliveries_text(alert),
        "acknowledged": alert.acknowledged,
        "acknowledged_text": acknowledged,
        "can_acknowledge": can_acknowledge,
    }


def quiet_text(rule: pb.AlertRule) -> str:
    if rule.quiet_from and rule.quiet_until:
        return f"{rule.quiet_from}–{rule.quiet_until} UTC"
    return "never"


class AlertsView:
    """The page's three parts, bound to one token."""

    def __init__(self, backend: Backend, feed: AlertFeed, feeds: Feeds, token: str) -> None:
        self.backend, self.feed, self.token = backend, feed, token
        self.connections = feeds.connections(token)
        self.operator = session.allows(Role.OPERATOR)
        self.admin = session.allows(Role.ADMIN)
        self.rules: list[pb.AlertRule] = []
        self.channels: list[pb.Channel] = []
        with ui.card().classes("w-full gap-2").mark("alerts-card"):
            with ui.row().classes("w-full items-center"):
                ui.label("Alerts").classes("text-lg font-semibold")
                ui.space()
                self.only_open = ui.switch("Unacknowledged only").mark("alerts-unacknowledged")
            self.alert_table = (
                DataTable(
                    columns=[
                        column("raised", "Raised (UTC)", sortable=True, nowrap=True),
                        column("severity", "Severity", sortable=True),
                        column("title", "Alert"),
                        column("about", "About", sortable=True),
                        column("deliveries", "Delivery"),
                        column("acknowledged_text", "Acknowledged"),
                    ],
                    rows=[],
                    row_key="id",
                    pagination=25,
                )
                .classes("w-full")
                .props('wrap-cells no-data-label="No alerts"')
                .color("severity")
                .mark("alerts-table")
            )
            self.alert_table.add_slot("body-cell-acknowledged_text", ALERT_ACTION)
            self.alert_table.on("acknowledge", lambda e: self.acknowledge(str(e.args)))
        with ui.card().classes("w-full gap-2").mark("rules-card"):
            with ui.row().classes("w-full items-center"):
                ui.label("Rules").classes("text-lg font-semibold")
                ui.space()
                if self.admin:
                    ui.button("Add rule", on_click=lambda: self.edit_rule(None)).mark("rule-add")
            self.rule_list = ui.column().classes("w-full gap-1").mark("rules-list")
        with ui.card().classes("w-full gap-2").mark("channels-card"):
            with ui.row().classes("w-full items-center"):
                ui.label("Channels").classes("text-lg font-semibold")
                ui.space()
                if self.admin:
                    ui.button("Add channel", on_click=lambda: self.edit_channel(None)).mark(
                        "channel-add"
                    )
            self.channel_list = ui.column().classes("w-full gap-1").mark("channels-list")
        self.only_open.on_value_change(lambda _: self.show_alerts())
        feed.updated.subscribe(lambda _update: self.show_alerts())
        self.show_alerts()

    # Alerts

    def show_alerts(self) -> None:
        alerts = self.feed.newest_first()
        if self.only_open.value:
            alerts = [a for a in alerts if not a.acknowledged]
        self.alert_table.show([alert_row(a, self.operator) for a in alerts])

    async def acknowledge(self, alert_id: str) -> None:
        try:
            await self.backend.call(
                self.backend.alerts.AcknowledgeAlert,
                pb.AcknowledgeAlertRequest(id=alert_id),
                self.token,
            )
        except BackendError as error:
            ui.notify(f"Could not acknowledge: {error.message}", type="negative")

    # Rules and channels

    async def load(self) -> None:
        try:
            rules: pb.ListAlertRulesResponse = await self.backend.call(
                self.backend.alerts.ListAlertRules, pb.ListAlertRulesRequest(), self.token
            )
            channels: pb.ListChannelsResponse = await self.backend.call(
                self.backend.alerts.ListChannels, pb.ListChannelsRequest(), self.token
            )
        except BackendError as error:
            ui.notify(f"Could not read rules and channels: {error.message}", type="negative")
            return
        self.rules, self.channels = list(rules.rules), list(channels.channels)
        self.show_config()

    def channel_names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.channels}

    def connection_names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.connections.connections.values()}

    def show_config(self) -> None:
        """Rules and channels as rows of text and buttons (a handful each)."""
        names, connections = self.channel_names(), self.connection_names()
        self.rule_list.clear()
        with self.rule_list:
            if not self.rules:
                ui.label("No rules").classes("text-neutral")
            for rule in self.rules:
                title = KINDS.get(rule.kind, rule.kind)
                if rule.kind == "health_below":
                    title += f" {rule.health_band or 'degraded'}"
                scope = connections.get(rule.connection_id, rule.connection_id)
                channels = ", ".join(names.get(c, c) for c in rule.channel_ids)
                facts = (
                    f"{scope or 'every connection'} · {'on' if rule.enabled else 'off'} · "
                    f"severity {rule.severity or 'default'} · quiet {quiet_text(rule)} · "
                    f"{channels or 'dashboard only'}"
                )
                with config_row(f"rule-{rule.id}", title, facts):
                    if self.admin:
                        action_button("Edit", title, "rule-edit", lambda r=rule: self.edit_rule(r))
                    if self.admin and not rule.builtin:
                        action_button(
                            "Delete", title, "rule-delete", lambda r=rule: self.delete_rule(r)
                        )
        self.channel_list.clear()
        with self.channel_list:
            if not self.channels:
                ui.label("No channels").classes("text-neutral")
            for channel in self.channels:
                target = "secret URL" if channel.kind in SECRET_URL else channel.url
                facts = (
                    f"{CHANNEL_KINDS.get(channel.kind, channel.kind)} · {target} · "
                    f"{'enabled' if channel.enabled else 'disabled'} · "
                    f"last delivery: {last_delivery(channel)}"
                )
                with config_row(f"channel-{channel.id}", channel.name, facts):
                    if self.operator:
                        action_button(
                            "Test", channel.name, "channel-test", lambda c=channel: self.test(c)
                        )
                    if self.admin:
                        action_button(
                            "Edit",
                            channel.name,
                            "channel-edit",
                            lambda c=channel: self.edit_channel(c),
                        )
                        action_button(
                            "Delete",
                            channel.name,
                            "channel-delete",
                            lambda c=channel: self.delete_channel(c),
                        )

    async def edit_rule(self, rule: pb.AlertRule | None) -> None:
        async def submit(changes: dict[str, Any]) -> BackendError | None:
            try:
                if rule is None:
                    await self.backend.call(
                        self.backend.alerts.CreateAlertRule,
                        pb.CreateAlertRuleRequest(rule=pb.AlertRule(**changes)),
                        self.token,
                    )
                else:
                    await self.backend.call(
                        self.backend.alerts.UpdateAlertRule,
                        pb.UpdateAlertRuleRequest(
                            id=rule.id,
                            rule=pb.AlertRule(**changes),
                            update_mask=field_mask_pb2.FieldMask(paths=list(changes)),
                        ),
                        self.token,
                    )
            except BackendError as error:
                return error
            return None

        await rule_dialog(rule, self.connection_names(), self.channel_names(), submit)
        await self.load()

    async def delete_rule(self, rule: pb.AlertRule) -> None:
        if await confirm(
            f"Delete the rule “{KINDS.get(rule.kind, rule.kind)}”?", action="Delete", danger=True
        ):
            await self._quietly(
                self.backend.alerts.DeleteAlertRule, pb.DeleteAlertRuleRequest(id=rule.id)
            )
            await self.load()

    async def edit_channel(self, channel: pb.Channel | None) -> None:
        async def submit(changes: dict[str, Any]) -> BackendError | None:
            try:
                if channel is None:
                    await self.backend.call(
                        self.backend.alerts.CreateChannel,
                        pb.CreateChannelRequest(channel=pb.Channel(**changes)),
                        self.token,
                    )
                else:
                    await self.backend.call(
                        self.backend.alerts.UpdateChannel,
                        pb.UpdateChannelRequest(
                            id=channel.id,
                            channel=pb.Channel(**changes),
                            update_mask=field_mask_pb2.FieldMask(paths=list(changes)),
                        ),
                        self.token,
                    )
            except BackendError as error:
                return error
            return None

        await channel_dialog(channel, submit)
        await self.load()

    async def test(self, channel: pb.Channel) -> None:
        """Send a test alert now and say how it went."""
        try:
            delivery: pb.ChannelDelivery = await self.backend.call(
                self.backend.alerts.TestChannel, pb.TestChannelRequest(id=channel.id), self.token
            )
        except BackendError as error:
            ui.notify(f"Test of {channel.name} failed: {error.message}", type="negative")
            return
        if delivery.state == "delivered":
            ui.notify(f"Test alert delivered to {channel.name}", type="positive")
        else:
            detail = f" ({delivery.error})" if delivery.error else ""
            ui.notify(f"Test alert to {channel.name}: {delivery.state}{detail}", type="negative")
        await self.load()

    async def delete_channel(self, channel: pb.Channel) -> None:
        if await confirm(f"Delete the channel “{channel.name}”?", action="Delete", danger=True):
            await self._quietly(
                self.backend.alerts.DeleteChannel, pb.DeleteChannelRequest(id=channel.id)
            )
            await self.load()

    async def _quietly(self, method: Any, request: Any) -> None:
        """A call whose refusal is shown as a toast (e.g. a channel rules still name)."""
        try:
            await self.backend.call(method, request, self.token)
        except BackendError as error:
            ui.notify(error.message, type="negative")


@contextmanager
def config_row(mark: str, title: str, facts: str) -> Iterator[None]:
    """One rule or channel: its title and facts, then the buttons made inside the block."""
    with ui.row().classes("w-full items-center gap-2 border-b py-1").mark(mark):
        with ui.column().classes("gap-0 grow min-w-0"):
            ui.label(title).classes("font-medium")
            ui.label(facts).classes("text-sm text-neutral break-words")
        with ui.row().classes("gap-1"):
            yield


def action_button(label: str, subject: str, mark: str, act: Any) -> None:
    button = ui.button(label, on_click=act).props("flat dense no-caps").mark(mark)
    named(button, f"{label} {subject}")


def last_delivery(channel: pb.Channel) -> str:
    last = channel.last_delivery
    if not last.state:
        return "none yet"
    at = moment(last.at)
    detail = f" ({last.error})" if last.error else ""
    return f"{last.state}{detail}, {at}"


def register(backend: Backend, feeds: Feeds, alert_feeds: AlertFeeds) -> None:
    @ui.page("/alerts")
    async def alerts_page() -> None:
        token = signed_in()
        if token is None:
            return
        feed = alert_feeds.of(token)
        connection_feed = feeds.connections(token)
        use(connection_feed)
        with frame("Alerts", [connection_feed]):
            view = AlertsView(backend, feed, feeds, token)
        await view.load()
