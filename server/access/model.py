"""API tokens as stored: only a SHA-256 hash of each token is kept."""

from __future__ import annotations

import uuid
from datetime import datetime

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
