"""The metadata of every table, for Alembic. Import table modules here when adding them."""

from __future__ import annotations

from sqlmodel import SQLModel

from server.access.model import ApiToken
from server.connections.model import ConnectionRecord
from server.engine.model import EngineRecord, OrderRecord, PositionRecord
from server.storage.seed_marks import SeedMark

TABLES = (ApiToken, ConnectionRecord, EngineRecord, OrderRecord, PositionRecord, SeedMark)
metadata = SQLModel.metadata
