"""What monitoring stores: the structured log (``log_entries``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, SmallInteger, Text
from sqlmodel import Field, SQLModel

from server.storage.types import UTCDateTime


class LogEntryRecord(SQLModel, table=True):
    """One entry of the server's structured log.

    ``id`` grows with every entry, also across restarts (it starts at the start time in
    microseconds), so that it orders entries and is the cursor of pages and resumed streams.
    ``connection_id`` has no foreign key: a deleted connection's entries stay until retention
    removes them, so that what happened to it can still be read.
    """

    __tablename__ = "log_entries"
    __table_args__ = (
        Index("ix_log_entries_connection", "connection_id", "id"),
        Index("ix_log_entries_time", "time"),
    )

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    time: datetime = Field(sa_type=UTCDateTime)
    # 10 debug, 20 info, 30 warning, 40 error: filters ask for a minimum.
    level: int = Field(sa_column=Column(SmallInteger, nullable=False))
    category: str = Field(max_length=16)
    connection_id: uuid.UUID | None = Field(default=None)
    logger: str = Field(max_length=64)
    message: str = Field(sa_column=Column(Text, nullable=False))
    stack: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # JSON object of string values.
    context: str = Field(sa_column=Column(Text, nullable=False))
