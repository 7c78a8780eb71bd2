"""The metadata of every table, for Alembic. Import table modules here when adding them."""

from __future__ import annotations

from sqlmodel import SQLModel

from server.access.model import ApiToken, AuditEntryRecord
from server.connections.model import ConnectionRecord
from server.engine.model import EngineRecord, OrderRecord, PositionRecord
from server.monitoring.model import LogEntryRecord
from server.storage.seed_marks import SeedMark
from server.vault.canary import CanaryRecord

TABLES = (
    ApiToken,
    AuditEntryRecord,
    CanaryRecord,
    ConnectionRecord,
    EngineRecord,
    LogEntryRecord,
    OrderRecord,
    PositionRecord,
    SeedMark,
)
metadata = SQLModel.metadata
