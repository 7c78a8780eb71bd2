"""Protobuf forms of alerts, rules, channels and deliveries, and of rule and channel input."""

from __future__ import annotations

from typing import Any

from cts.monitoring.v1 import alerts_pb2 as pb
from google.protobuf.message import Message

from server.alerts.channels import CHANNEL_FIELDS, CHANNEL_OUTPUT_ONLY
from server.alerts.rules import RULE_FIELDS, RULE_OUTPUT_ONLY, AlertKind, RuleView
from server.alerts.views import AlertEntry, AlertView, ChannelView, DeliveryView
from server.rpc.messages import masked_fields, stream_message, timestamp
from server.streams.watch import Snapshot, StreamItem, ViewChange

# Fields that are not ``optional`` in the messages: sent when not empty.
_PLAIN = frozenset({"kind", "name", "channel_ids"})


def delivery_message(view: DeliveryView) -> pb.ChannelDelivery:
    message = pb.ChannelDelivery(
        channel_id=view.channel_id,
        channel_name=view.channel_name,
        state=view.state,
        attempts=view.attempts,
        status_code=view.status_code,
        error=view.error,
    )
    if view.at is not None:
        message.at.CopyFrom(timestamp(view.at))
    return message


def alert_message(view: AlertView) -> pb.Alert:
    message = pb.Alert(
        id=str(view.id),
        kind=view.kind,
        severity=view.severity.value,
        title=view.title,
        text=view.text,
        connection_id=view.connection_id,
        connection_name=view.connection_name,
        details=dict(view.details),
        rule_id=view.rule_id,
        raised_at=timestamp(view.raised_at),
        acknowledged=view.acknowledged,
        acknowledged_by=view.acknowledged_by or "",
        deliveries=[delivery_message(d) for d in view.deliveries],
    )
    if view.acknowledged_at is not None:
        message.acknowledged_at.CopyFrom(timestamp(view.acknowledged_at))
    return message


def rule_message(view: RuleView) -> pb.AlertRule:
    message = pb.AlertRule(
        id=view.id,
        kind=view.kind.value,
        enabled=view.enabled,
        channel_ids=list(view.channel_ids),
        severity=view.effective_severity.value,
        builtin=view.builtin,
        created_at=timestamp(view.created_at),
        updated_at=timestamp(view.updated_at),
    )
    if view.connection_id:
        message.connection_id = view.connection_id
    if view.kind is AlertKind.HEALTH_BELOW:
        message.health_band = view.effective_band.value
    if view.quiet_from and view.quiet_until:
        message.quiet_from, message.quiet_until = view.quiet_from, view.quiet_until
    return message


def channel_message(view: ChannelView) -> pb.Channel:
    message = pb.Channel(
        id=view.id,
        name=view.name,
        kind=view.kind.value,
        chat_id=view.chat_id,
        enabled=view.enabled,
        has_secret=view.has_secret,
        created_at=timestamp(view.created_at),
        updated_at=timestamp(view.updated_at),
    )
    if view.url:
        message.url = view.url
    if view.last_delivery is not None:
        message.last_delivery.CopyFrom(delivery_message(view.last_delivery))
    return message


def watch_alerts_message(item: StreamItem[AlertEntry]) -> pb.WatchAlertsResponse:
    response = stream_message(
        item,
        pb.WatchAlertsResponse,
        render=lambda entry: alert_message(entry.alert),
        items_field="alerts",
        item_field="alert",
    )
    if isinstance(item, Snapshot):
        response.snapshot.unacknowledged_count = item.items[0].unacknowledged if item.items else 0
    elif isinstance(item, ViewChange):
        response.change.unacknowledged_count = item.item.unacknowledged
    return response


def _present(message: Message, names: frozenset[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        if name == "channel_ids":
            if len(message.channel_ids):
                values[name] = list(message.channel_ids)
        elif name in _PLAIN:
            if getattr(message, name):
                values[name] = getattr(message, name)
        elif message.HasField(name):
            values[name] = getattr(message, name)
    return values


def _masked(
    message: Message, paths: list[str], names: frozenset[str], output_only: frozenset[str]
) -> dict[str, Any]:
    """The fields a mask names (None: reset), plain and repeated fields included."""
    plain = _PLAIN & names
    others = [p for p in paths if p not in plain]
    values = (
        masked_fields(message, others, settable=names - plain, output_only=output_only)
        if others
        else {}
    )
    for path in paths:
        if path in plain:
            value = getattr(message, path)
            values[path] = list(value) if path == "channel_ids" else value
    return values


def rule_input(rule: pb.AlertRule, paths: list[str] | None = None) -> dict[str, Any]:
    if paths:
        return _masked(rule, paths, RULE_FIELDS, RULE_OUTPUT_ONLY)
    return _present(rule, RULE_FIELDS)


def channel_input(channel: pb.Channel, paths: list[str] | None = None) -> dict[str, Any]:
    if paths:
        return _masked(channel, paths, CHANNEL_FIELDS, CHANNEL_OUTPUT_ONLY)
    return _present(channel, CHANNEL_FIELDS)
