"""What the alerts domain stores: alerts (with who acknowledged them), alert rules, delivery
channels (their secrets sealed, see ``server.vault``) and each alert's delivery per channel."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel

from server.storage.types import UTCDateTime, utc_now


class AlertRecord(SQLModel, table=True):
    """One raised alert. Ids grow with time, so "up to an id" means "raised up to then"."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_unacknowledged", "acknowledged_at", "id"),
        Index("ix_alerts_connection", "connection_id", "id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    kind: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    title: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    connection_id: str = Field(default="", max_length=64)
    connection_name: str = Field(default="", max_length=100)
    # Extra facts, strings only (money as decimal strings).
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rule_id: str = Field(default="", max_length=64)
    raised_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AlertRuleRecord(SQLModel, table=True):
    """When an event becomes an alert, and where it goes."""

    __tablename__ = "alert_rules"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=32)
    enabled: bool = True
    # None: every connection.
    connection_id: str | None = Field(default=None, max_length=64)
    # health_below only: good, degraded or poor.
    health_band: str | None = Field(default=None, max_length=16)
    # "HH:MM" in UTC, both or neither.
    quiet_from: str | None = Field(default=None, max_length=5)
    quiet_until: str | None = Field(default=None, max_length=5)
    # JSON list of channel ids (strings).
    channel_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    severity: str | None = Field(default=None, max_length=16)
    builtin: bool = False
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ChannelRecord(SQLModel, table=True):
    """A way out of CTS (webhook, Slack, Discord, Telegram). Secrets are sealed with the
    owner ``alert_channel:<id>:secret`` / ``alert_channel:<id>:url``."""

    __tablename__ = "alert_channels"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    # lower(trim(name)): names are unique case-insensitively.
    name_key: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=16)
    # Webhook and Telegram: the URL, shown. Slack and Discord keep theirs sealed instead.
    url: str = Field(default="", max_length=2000)
    url_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    chat_id: str = Field(default="", max_length=100)
    enabled: bool = True
    # The last delivery attempt to this channel (a test's included).
    last_state: str | None = Field(default=None, max_length=16)
    last_attempts: int = 0
    last_status_code: int = 0
    last_error: str = Field(default="", max_length=500)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class DeliveryRecord(SQLModel, table=True):
    """One alert's delivery to one channel: pending until the dispatcher's final outcome."""

    __tablename__ = "alert_deliveries"

    alert_id: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        )
    )
    channel_id: str = Field(primary_key=True, max_length=64)
    channel_name: str = Field(default="", max_length=100)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    status_code: int = 0
    error: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
