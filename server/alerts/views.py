"""Alerts, deliveries and channels as the domain hands them out (never a secret)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from server.alerts.delivery.contract import ChannelKind, Severity


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One alert's delivery to one channel (or a channel's last delivery)."""

    channel_id: str
    channel_name: str
    state: str  # pending, delivered or failed
    attempts: int
    status_code: int
    error: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    kind: str
    severity: Severity
    title: str
    text: str
    connection_id: str
    connection_name: str
    details: Mapping[str, str]
    rule_id: str
    raised_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    deliveries: tuple[DeliveryView, ...] = ()

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """What the alerts topic carries: an alert and the unacknowledged count just after."""

    alert: AlertView
    unacknowledged: int


@dataclass(frozen=True, slots=True)
class ChannelView:
    id: str
    name: str
    kind: ChannelKind
    url: str  # "" for Slack and Discord, whose URL is a secret
    chat_id: str
    enabled: bool
    has_secret: bool
    last_delivery: DeliveryView | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AlertPage:
    alerts: tuple[AlertView, ...]
    next_page_token: str
    unacknowledged: int


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """Something an event source saw that rules may turn into alerts.

    ``condition`` names a state that lasts (an engine in error, an open circuit): while it
    lasts, one alert per rule and connection, until the source clears it. None: a one-off
    event (a failed order, a closed position), an alert each time. ``band``: for health_below,
    the connection's band now (rules fire when it is theirs or worse).
    """

    kind: str
    title: str
    text: str
    connection_id: str = ""
    condition: str | None = None
    details: Mapping[str, str] | None = None
    band: str | None = None
