"""Initial schema: connections, API tokens, seed marks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", server.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", server.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("exchange", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("api_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("connection_method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "authentication_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        ),
        sa.Column("margin_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("position_mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("volume_factor", server.storage.types.DecimalType(), nullable=False),
        sa.Column("leverage", sa.Integer(), nullable=False),
        sa.Column("preset_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("is_testnet", sa.Boolean(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_live_trade", sa.Boolean(), nullable=False),
        sa.Column("is_predefined", sa.Boolean(), nullable=False),
        sa.Column("predefined_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("api_key_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("api_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("api_passphrase_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("api_key_hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", server.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name_key", name=op.f("uq_connections_name_key")),
        sa.UniqueConstraint("predefined_key", name=op.f("uq_connections_predefined_key")),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index("ix_connections_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "seed_marks",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("applied_at", server.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_seed_marks")),
    )


def downgrade() -> None:
    op.drop_table("seed_marks")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index("ix_connections_created_at_id")

    op.drop_table("connections")
    op.drop_table("api_tokens")
