"""Positions and live orders of the engines; live-trading limits on connections.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DecimalType = server.storage.types.DecimalType
UTCDateTime = server.storage.types.UTCDateTime
AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_position_notional", DecimalType(), server_default="100", nullable=False)
        )
        batch_op.add_column(
            sa.Column("max_total_notional", DecimalType(), server_default="500", nullable=False)
        )
    op.create_table(
        "positions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("mode", AutoString(length=8), nullable=False),
        sa.Column("set_id", AutoString(length=32), nullable=False),
        sa.Column("symbol", AutoString(length=64), nullable=False),
        sa.Column("side", AutoString(length=8), nullable=False),
        sa.Column("status", AutoString(length=8), nullable=False),
        sa.Column("quantity", DecimalType(), nullable=False),
        sa.Column("average_price", DecimalType(), nullable=False),
        sa.Column("entry_price", DecimalType(), nullable=False),
        sa.Column("order_value", DecimalType(), nullable=False),
        sa.Column("best_price", DecimalType(), nullable=False),
        sa.Column("adds", sa.Integer(), nullable=False),
        sa.Column("trailing_armed", sa.Boolean(), nullable=False),
        sa.Column("fees", DecimalType(), nullable=False),
        sa.Column("exit_price", DecimalType(), nullable=True),
        sa.Column("realized_pnl", DecimalType(), nullable=True),
        sa.Column("close_reason", AutoString(length=32), nullable=True),
        sa.Column("follows", sa.Uuid(), nullable=True),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_positions_connection_status",
        "positions",
        ["connection_id", "status", "opened_at"],
        unique=False,
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", AutoString(length=36), nullable=False),
        sa.Column("symbol", AutoString(length=64), nullable=False),
        sa.Column("side", AutoString(length=4), nullable=False),
        sa.Column("intent", AutoString(length=8), nullable=False),
        sa.Column("quantity", DecimalType(), nullable=False),
        sa.Column("status", AutoString(length=8), nullable=False),
        sa.Column("exchange_order_id", AutoString(length=64), nullable=True),
        sa.Column("filled", DecimalType(), nullable=True),
        sa.Column("average_price", DecimalType(), nullable=True),
        sa.Column("fee", DecimalType(), nullable=True),
        sa.Column("error", AutoString(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["position_id"], ["positions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_order_id"),
    )
    op.create_index("ix_orders_position_id", "orders", ["position_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_position_id", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_positions_connection_status", table_name="positions")
    op.drop_table("positions")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("max_total_notional")
        batch_op.drop_column("max_position_notional")
