"""What is stored of an engine: its user's wish (``engines``), its positions (``positions``)
and the live orders it sent (``orders``).

Everything else about an engine is runtime state. After a restart the coordinator brings back
every engine whose stored wish is running or paused (and whose connection is enabled and
active), and each engine takes its open positions back from here.

Money is Decimal (``DecimalType``: NUMERIC on PostgreSQL, exact text on SQLite).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.storage.types import DecimalType, UTCDateTime, utc_now


class EngineRecord(SQLModel, table=True):
    __tablename__ = "engines"

    connection_id: uuid.UUID = Field(
        primary_key=True, foreign_key="connections.id", ondelete="CASCADE"
    )
    # running, paused or stopped
    desired: str = Field(max_length=16)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PositionRecord(SQLModel, table=True):
    """One position, pseudo (paper) or live (real orders), open or closed."""

    __tablename__ = "positions"
    __table_args__ = (
        Index("ix_positions_connection_status", "connection_id", "status", "opened_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    connection_id: uuid.UUID = Field(foreign_key="connections.id", ondelete="CASCADE")
    mode: str = Field(max_length=8)  # pseudo | live
    set_id: str = Field(max_length=32)  # the parameter set that opened it, e.g. trend/trailing
    symbol: str = Field(max_length=64)
    side: str = Field(max_length=8)  # long | short
    status: str = Field(max_length=8)  # open | closed
    quantity: Decimal = Field(sa_type=DecimalType)  # base asset
    average_price: Decimal = Field(sa_type=DecimalType)
    entry_price: Decimal = Field(sa_type=DecimalType)
    order_value: Decimal = Field(sa_type=DecimalType)
    best_price: Decimal = Field(sa_type=DecimalType)
    adds: int = 0
    trailing_armed: bool = False
    fees: Decimal = Field(sa_type=DecimalType)
    exit_price: Decimal | None = Field(default=None, sa_type=DecimalType)
    realized_pnl: Decimal | None = Field(default=None, sa_type=DecimalType)
    close_reason: str | None = Field(default=None, max_length=32)
    # A live position: the pseudo position whose orders it mirrors.
    follows: uuid.UUID | None = None
    opened_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class OrderRecord(SQLModel, table=True):
    """One live order. Stored *before* it is sent, so a lost answer or a restart can always
    find it again at the exchange by its client order id."""

    __tablename__ = "orders"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    connection_id: uuid.UUID = Field(foreign_key="connections.id", ondelete="CASCADE")
    position_id: uuid.UUID = Field(foreign_key="positions.id", ondelete="CASCADE", index=True)
    client_order_id: str = Field(max_length=36, unique=True)
    symbol: str = Field(max_length=64)
    side: str = Field(max_length=4)  # buy | sell
    intent: str = Field(max_length=8)  # open | add | close
    quantity: Decimal = Field(sa_type=DecimalType)
    # pending (sent or about to be; outcome unknown) | filled | failed
    status: str = Field(max_length=8)
    exchange_order_id: str | None = Field(default=None, max_length=64)
    filled: Decimal | None = Field(default=None, sa_type=DecimalType)
    average_price: Decimal | None = Field(default=None, sa_type=DecimalType)
    fee: Decimal | None = Field(default=None, sa_type=DecimalType)
    error: str | None = Field(default=None, max_length=300)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
