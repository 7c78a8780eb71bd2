"""Log entries in storage: batched inserts, filtered reads by id, retention."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlmodel import Session, col
from sqlmodel import select as select_records

from server.monitoring.logs.entry import Category, Level, LogEntry
from server.monitoring.model import LogEntryRecord

PRUNE_CHUNK = 20_000  # rows deleted per unit of work, so that writers never wait long
_TABLE = LogEntryRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which entries a list or a stream wants. Every condition is optional."""

    connection_id: str | None = None
    min_level: Level = Level.DEBUG
    category: Category | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # a case-insensitive part of the message

    def matches(self, entry: LogEntry) -> bool:
        return (
            entry.level >= self.min_level
            and (self.connection_id is None or entry.connection_id == self.connection_id)
            and (self.category is None or entry.category is self.category)
            and (self.since is None or entry.time >= self.since)
            and (self.until is None or entry.time < self.until)
            and (self.text is None or self.text.lower() in entry.message.lower())
        )

    def fingerprint(self) -> str:
        text = repr(
            (
                self.connection_id,
                int(self.min_level),
                self.category,
                self.since.isoformat() if self.since else None,
                self.until.isoformat() if self.until else None,
                self.text,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _row(entry: LogEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "time": entry.time,
        "level": int(entry.level),
        "category": entry.category.value,
        "connection_id": uuid.UUID(entry.connection_id) if entry.connection_id else None,
        "logger": entry.logger,
        "message": entry.message,
        "stack": entry.stack,
        "context": json.dumps(dict(entry.context), separators=(",", ":")),
    }


def _entry(record: LogEntryRecord) -> LogEntry:
    return LogEntry(
        id=record.id,
        time=record.time,
        level=Level.of_record(record.level),
        category=Category(record.category),
        message=record.message,
        logger=record.logger,
        connection_id=str(record.connection_id) if record.connection_id else None,
        stack=record.stack,
        context=json.loads(record.context),
    )


def insert_entries(session: Session, entries: Sequence[LogEntry]) -> None:
    if entries:
        session.execute(insert(_TABLE), [_row(e) for e in entries])


def max_id(session: Session) -> int:
    return int(session.execute(select(func.max(_TABLE.c.id))).scalar() or 0)


def _matching(query: Any, where: LogFilter) -> Any:
    if where.connection_id is not None:
        query = query.where(col(LogEntryRecord.connection_id) == uuid.UUID(where.connection_id))
    if where.min_level > Level.DEBUG:
        query = query.where(col(LogEntryRecord.level) >= int(where.min_level))
    if where.category is not None:
        query = query.where(col(LogEntryRecord.category) == where.category.value)
    if where.since is not None:
        query = query.where(col(LogEntryRecord.time) >= where.since)
    if where.until is not None:
        query = query.where(col(LogEntryRecord.time) < where.until)
    if where.text:
        query = query.where(col(LogEntryRecord.message).icontains(where.text, autoescape=True))
    return query


def find_entries(
    session: Session,
    where: LogFilter,
    *,
    limit: int,
    before_id: int | None = None,
    after_id: int | None = None,
    newest_first: bool = True,
) -> list[LogEntry]:
    """Matching entries by id (newest first, or oldest first), at most ``limit``."""
    query = _matching(select_records(LogEntryRecord), where)
    if before_id is not None:
        query = query.where(col(LogEntryRecord.id) < before_id)
    if after_id is not None:
        query = query.where(col(LogEntryRecord.id) > after_id)
    order = col(LogEntryRecord.id).desc() if newest_first else col(LogEntryRecord.id).asc()
    return [_entry(r) for r in session.exec(query.order_by(order).limit(limit))]


def count_entries(session: Session, where: LogFilter) -> int:
    query = _matching(select(func.count()).select_from(_TABLE), where)
    return int(session.execute(query).scalar() or 0)


def counts_by_level(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    query = (
        select(_TABLE.c.level, func.count())
        .where(_TABLE.c.time >= since, _TABLE.c.time < until)
        .group_by(_TABLE.c.level)
    )
    counts = {level.word: 0 for level in Level}
    for level, count in session.execute(query):
        counts[Level.of_record(level).word] += int(count)
    return counts


def prune_cutoff(session: Session, older_than: datetime, keep: int) -> int:
    """The highest id that retention removes (0: nothing): entries older than ``older_than``,
    and all but the newest ``keep``."""
    by_age = session.execute(select(func.max(_TABLE.c.id)).where(_TABLE.c.time < older_than))
    cutoff = int(by_age.scalar() or 0)
    beyond = session.execute(select(_TABLE.c.id).order_by(_TABLE.c.id.desc()).offset(keep).limit(1))
    by_count = int(beyond.scalar() or 0)
    return max(cutoff, by_count)


def delete_through(session: Session, cutoff: int) -> int:
    """Delete up to :data:`PRUNE_CHUNK` of the oldest entries with id ≤ ``cutoff``."""
    oldest = (
        select(_TABLE.c.id).where(_TABLE.c.id <= cutoff).order_by(_TABLE.c.id).limit(PRUNE_CHUNK)
    )
    result = session.execute(delete(_TABLE).where(_TABLE.c.id.in_(oldest.scalar_subquery())))
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)
