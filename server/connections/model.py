"""The connection as stored: the ``connections`` table."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, false
from sqlmodel import Field, SQLModel

from server.storage.types import DecimalType, UTCDateTime, utc_now


class ConnectionRecord(SQLModel, table=True):
    """One exchange account. Credentials are stored sealed (see ``server.vault``)."""

    __tablename__ = "connections"
    __table_args__ = (Index("ix_connections_created_at_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    # lower(trim(name)): names are unique case-insensitively.
    name_key: str = Field(max_length=100, unique=True)
    exchange: str = Field(max_length=16)
    api_type: str = Field(max_length=32)
    connection_method: str = Field(max_length=16)
    authentication_type: str = Field(max_length=32)
    margin_type: str = Field(max_length=16)
    position_mode: str = Field(max_length=16)
    volume_factor: Decimal = Field(sa_type=DecimalType)
    leverage: int
    max_position_notional: Decimal = Field(
        default=Decimal(100), sa_type=DecimalType, sa_column_kwargs={"server_default": "100"}
    )
    max_total_notional: Decimal = Field(
        default=Decimal(500), sa_type=DecimalType, sa_column_kwargs={"server_default": "500"}
    )
    preset_type: str = Field(max_length=32)
    is_testnet: bool = False
    is_enabled: bool = False
    is_active: bool = False
    is_live_trade: bool = False
    is_predefined: bool = False
    # Which predefined connection this row was seeded from (e.g. "bybit"), else None.
    predefined_key: str | None = Field(default=None, max_length=32, unique=True)
    api_key_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    api_secret_sealed: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    api_passphrase_sealed: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    api_key_hint: str = Field(default="", max_length=16)
    is_simulated: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The last connection test (see server.connections.testing).
    last_test_status: str | None = Field(default=None, max_length=16)
    last_test_balance: Decimal | None = Field(default=None, sa_type=DecimalType)
    last_test_log: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    last_test_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_test_duration_ms: int | None = None
    api_capabilities: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
