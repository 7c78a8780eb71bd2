"""What access control stores: API tokens (only a SHA-256 hash of each) and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from server.storage.types import UTCDateTime, utc_now


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    # Hex SHA-256 of the whole token. Tokens carry 256 random bits, so a fast hash is enough.
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters of the token ("cts_AbCd"), to tell tokens apart in listings.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # viewer, operator or admin (server.access.roles.Role's words).
    role: str = Field(default="viewer", max_length=16)
    # The token stops working at this time; None for a token that does not expire.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntryRecord(SQLModel, table=True):
    """One call that changed (or tried to change) something. Rows are only ever added: no API
    edits or deletes them, and log retention does not touch this table."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_time", "time"),
        Index("ix_audit_entries_target", "target_id", "id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    time: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    token_id: uuid.UUID | None = Field(default=None)
    token_name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    client_address: str = Field(max_length=100)
    method: str = Field(max_length=200)
    target_id: str = Field(max_length=100)
    # JSON list of field names (never values).
    fields: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=32)
