"""What is stored of an engine: the state its user asked for (the ``engines`` table).

Everything else about an engine is runtime state. After a restart the coordinator brings back
every engine whose stored wish is running or paused (and whose connection is enabled and
active).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from server.storage.types import UTCDateTime, utc_now


class EngineRecord(SQLModel, table=True):
    __tablename__ = "engines"

    connection_id: uuid.UUID = Field(
        primary_key=True, foreign_key="connections.id", ondelete="CASCADE"
    )
    # running, paused or stopped
    desired: str = Field(max_length=16)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
