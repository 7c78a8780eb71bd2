"""The metadata of every table, for Alembic. Import table modules here when adding them."""

from __future__ import annotations

from sqlmodel import SQLModel

from server.access.model import ApiToken, AuditEntryRecord
from server.alerts.model import AlertRecord, AlertRuleRecord, ChannelRecord, DeliveryRecord
from server.connections.model import ConnectionRecord
from server.engine.model import EngineRecord, OrderRecord, PositionRecord
from server.monitoring.model import LogEntryRecord
from server.storage.seed_marks import SeedMark
from server.vault.canary import CanaryRecord

TABLES = (
    AlertRecord,
    AlertRuleRecord,
    ApiToken,
    AuditEntryRecord,
    CanaryRecord,
    ChannelRecord,
    ConnectionRecord,
    DeliveryRecord,
    EngineRecord,
    LogEntryRecord,
    OrderRecord,
    PositionRecord,
    SeedMark,
)
metadata = SQLModel.metadata
