"""The structured log (``log_entries``) and the master-key canary (``canaries``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = server.storage.types.UTCDateTime
AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", UTCDateTime(timezone=True), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("category", AutoString(length=16), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        sa.Column("logger", AutoString(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("stack", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_log_entries_connection", "log_entries", ["connection_id", "id"], unique=False
    )
    op.create_index("ix_log_entries_time", "log_entries", ["time"], unique=False)
    op.create_table(
        "canaries",
        sa.Column("name", AutoString(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("canaries")
    op.drop_index("ix_log_entries_time", table_name="log_entries")
    op.drop_index("ix_log_entries_connection", table_name="log_entries")
    op.drop_table("log_entries")
