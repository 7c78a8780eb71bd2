"""Alerts: raised alerts (with who acknowledged them), alert rules, delivery channels (secrets
sealed) and each alert's delivery per channel.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = server.storage.types.UTCDateTime
AutoString = sqlmodel.sql.sqltypes.AutoString
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", AutoString(length=32), nullable=False),
        sa.Column("severity", AutoString(length=16), nullable=False),
        sa.Column("title", AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("connection_id", AutoString(length=64), nullable=False),
        sa.Column("connection_name", AutoString(length=100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("rule_id", AutoString(length=64), nullable=False),
        sa.Column("raised_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", AutoString(length=100), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_unacknowledged", "alerts", ["acknowledged_at", "id"])
    op.create_index("ix_alerts_connection", "alerts", ["connection_id", "id"])
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", AutoString(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("connection_id", AutoString(length=64), nullable=True),
        sa.Column("health_band", AutoString(length=16), nullable=True),
        sa.Column("quiet_from", AutoString(length=5), nullable=True),
        sa.Column("quiet_until", AutoString(length=5), nullable=True),
        sa.Column("channel_ids", sa.JSON(), nullable=False),
        sa.Column("severity", AutoString(length=16), nullable=True),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", AutoString(length=100), nullable=False),
        sa.Column("name_key", AutoString(length=100), nullable=False),
        sa.Column("kind", AutoString(length=16), nullable=False),
        sa.Column("url", AutoString(length=2000), nullable=False),
        sa.Column("url_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("chat_id", AutoString(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_state", AutoString(length=16), nullable=True),
        sa.Column("last_attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=False),
        sa.Column("last_error", AutoString(length=500), nullable=False),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_id", BigId, autoincrement=False, nullable=False),
        sa.Column("channel_id", AutoString(length=64), nullable=False),
        sa.Column("channel_name", AutoString(length=100), nullable=False),
        sa.Column("state", AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", AutoString(length=500), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "channel_id"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_channels")
    op.drop_table("alert_rules")
    op.drop_index("ix_alerts_connection", table_name="alerts")
    op.drop_index("ix_alerts_unacknowledged", table_name="alerts")
    op.drop_table("alerts")
