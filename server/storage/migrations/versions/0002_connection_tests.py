"""Connection tests and the simulator flag: last test results, capabilities, is_simulated.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_simulated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "last_test_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("last_test_balance", server.storage.types.DecimalType(), nullable=True)
        )
        batch_op.add_column(sa.Column("last_test_log", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "last_test_at", server.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("last_test_duration_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("api_capabilities", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("api_capabilities")
        batch_op.drop_column("last_test_duration_ms")
        batch_op.drop_column("last_test_at")
        batch_op.drop_column("last_test_log")
        batch_op.drop_column("last_test_balance")
        batch_op.drop_column("last_test_status")
        batch_op.drop_column("is_simulated")
