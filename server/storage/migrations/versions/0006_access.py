"""Token roles and expiry, and the audit trail (``audit_entries``).

Tokens made before roles existed could do everything, so they become admin tokens.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = server.storage.types.UTCDateTime
AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("role", AutoString(length=16), nullable=False, server_default="admin")
        )
        batch.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("time", UTCDateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("token_name", AutoString(length=100), nullable=False),
        sa.Column("role", AutoString(length=16), nullable=False),
        sa.Column("client_address", AutoString(length=100), nullable=False),
        sa.Column("method", AutoString(length=200), nullable=False),
        sa.Column("target_id", AutoString(length=100), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("outcome", AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entries_time", "audit_entries", ["time"], unique=False)
    op.create_index("ix_audit_entries_target", "audit_entries", ["target_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_entries_target", table_name="audit_entries")
    op.drop_index("ix_audit_entries_time", table_name="audit_entries")
    op.drop_table("audit_entries")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("role")
