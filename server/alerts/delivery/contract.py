"""What alert delivery takes and what it reports: the contract between the alerts domain
(rules, storage, streams) and the channels that carry an alert out of CTS.

The alerts domain decides *whether* and *where* an alert goes; it hands each (channel, alert)
pair to an :class:`AlertDispatcher` and never waits on it. The dispatcher owns *how*: the
channel's message format, signing, retries with back-off, and one queue per channel so that a
channel that is down delays no other channel and no caller. Each attempt's result comes back
through the ``on_outcome`` callback given to the dispatcher, for storage and display.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ChannelKind(StrEnum):
    """How a channel carries an alert."""

    # JSON POST signed with ``X-CTS-Signature-256: sha256=<hex HMAC-SHA256(raw body, secret)>``.
    WEBHOOK = "webhook"
    # Slack incoming webhook (the URL is the secret).
    SLACK = "slack"
    # Discord webhook (the URL is the secret).
    DISCORD = "discord"
    # Telegram Bot API ``sendMessage`` at ``{url}/bot{secret}/sendMessage``.
    TELEGRAM = "telegram"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """One channel as the dispatcher needs it, its secrets opened. Secrets never appear in a
    repr, a log line or an outcome's error text."""

    id: str
    name: str
    kind: ChannelKind
    # Webhook: the receiver's URL. Slack/Discord: the incoming-webhook URL (a secret itself).
    # Telegram: the Bot API base URL (default https://api.telegram.org; configurable).
    url: str = field(repr=False)
    # Webhook: the HMAC key (may be empty: then no signature header). Telegram: the bot token.
    secret: str = field(default="", repr=False)
    # Telegram only: the chat to post to.
    chat_id: str = ""


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """One alert as channels present it."""

    id: str
    # The event kind in the domain's words, e.g. "engine_error", "circuit_open".
    kind: str
    severity: Severity
    title: str
    text: str
    occurred_at: datetime  # UTC
    connection_id: str = ""
    connection_name: str = ""
    # Extra facts as strings (money as decimal strings), in a stable order.
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The result of one delivery attempt of one alert to one channel."""

    channel_id: str
    alert_id: str
    delivered: bool
    attempt: int  # 1 for the first attempt
    # True when nothing more will be tried for this (channel, alert): delivered, or given up.
    final: bool
    status_code: int | None  # the receiver's HTTP status, None when no answer came
    error: str  # empty when delivered; never holds a secret (no URL of Slack/Discord/Telegram)
    at: datetime  # UTC


OutcomeListener = Callable[[DeliveryOutcome], None]


class AlertDispatcher(Protocol):
    """Delivers alerts to channels without ever making the caller wait."""

    def submit(self, target: ChannelTarget, alert: AlertMessage) -> None:
        """Queue ``alert`` for ``target``; returns at once."""

    def discard(self, channel_id: str) -> None:
        """The channel was deleted or disabled: stop its retries at once; what it still held is
        reported as final failures."""

    async def close(self) -> None:
        """Stop: give up what is still queued (reported as final failures) and release the
        HTTP client."""
