"""Engines: the state each engine's user asked for.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engines",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("desired", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("updated_at", server.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id"),
    )


def downgrade() -> None:
    op.drop_table("engines")
