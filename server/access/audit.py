"""The audit trail: one entry per call that changed (or tried to change) something, written
before the call returns, listed newest first with filters and pages. Entries are only added."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from server import paging
from server.access.model import AuditEntryRecord
from server.access.tokens import Principal
from server.errors import InvalidArgument
from server.storage.database import Database
from server.storage.types import utc_now

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_WORD = 200
MAX_FIELDS = 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    time: datetime
    token_id: uuid.UUID | None
    token_name: str
    role: str
    client_address: str
    method: str
    target_id: str
    fields: tuple[str, ...]
    outcome: str


@dataclass(frozen=True, slots=True)
class Call:
    """What a call did, as the audit trail keeps it: names, never values."""

    method: str
    client_address: str
    target_id: str = ""
    fields: Sequence[str] = ()
    outcome: str = "OK"


@dataclass(frozen=True, slots=True)
class AuditFilter:
    token_name: str | None = None
    method: str | None = None
    target_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def fingerprint(self) -> str:
        text = repr(
            (
                self.token_name,
                self.method,
                self.target_id,
                self.outcome,
                self.since.isoformat() if self.since else None,
                self.until.isoformat() if self.until else None,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry] = field(default_factory=list)
    next_page_token: str = ""


def audit_filter(
    *,
    token_name: str = "",
    method: str = "",
    target_id: str = "",
    outcome: str = "",
    since: str = "",
    until: str = "",
) -> AuditFilter:
    """A filter from a request's words, checked."""
    for name, word in (
        ("token_name", token_name),
        ("method", method),
        ("target_id", target_id),
        ("outcome", outcome),
    ):
        if len(word) > MAX_WORD:
            raise InvalidArgument.field(name, f"must be at most {MAX_WORD} characters")
    start, end = paging.time_bound(since, "since"), paging.time_bound(until, "until")
    if start is not None and end is not None and end <= start:
        raise InvalidArgument.field("until", "must be after since")
    return AuditFilter(
        token_name=token_name.strip() or None,
        method=method.strip() or None,
        target_id=target_id.strip() or None,
        outcome=outcome.strip().upper() or None,
        since=start,
        until=end,
    )


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, who: Principal | None, call: Call) -> None:
        """Stores one entry; returns once it is committed."""
        values = _row(who, call).model_dump(exclude={"id"})
        statement = insert(AuditEntryRecord).values(**values)  # no ORM flush: cheaper

        def work(session: Session) -> None:
            session.execute(statement)

        await self._db.write(work)

    def record_now(self, who_name: str, call: Call) -> None:
        """Stores an entry for the command line (no token), synchronously."""
        row = _row(None, call, name=who_name)
        self._db.write_now(lambda session: session.add(row))

    async def page(self, where: AuditFilter, page_size: int, page_token: str) -> AuditPage:
        size = paging.page_size_of(page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        before = paging.decode_page_token(page_token, where.fingerprint(), paging.before_id)

        def work(session: Session) -> list[AuditEntry]:
            query = select(AuditEntryRecord)
            if before is not None:
                query = query.where(col(AuditEntryRecord.id) < before)
            if where.token_name is not None:
                query = query.where(AuditEntryRecord.token_name == where.token_name)
            if where.method is not None:
                query = query.where(
                    col(AuditEntryRecord.method).endswith(where.method, autoescape=True)
                )
            if where.target_id is not None:
                query = query.where(AuditEntryRecord.target_id == where.target_id)
            if where.outcome is not None:
                query = query.where(AuditEntryRecord.outcome == where.outcome)
            if where.since is not None:
                query = query.where(col(AuditEntryRecord.time) >= where.since)
            if where.until is not None:
                query = query.where(col(AuditEntryRecord.time) < where.until)
            rows = session.exec(query.order_by(col(AuditEntryRecord.id).desc()).limit(size + 1))
            return [_entry(r) for r in rows.all()]

        entries = await self._db.read(work)
        if len(entries) <= size:
            return AuditPage(entries)
        entries = entries[:size]
        token = paging.encode_page_token({"b": entries[-1].id}, where.fingerprint())
        return AuditPage(entries, token)


def _row(who: Principal | None, call: Call, *, name: str = "") -> AuditEntryRecord:
    return AuditEntryRecord(
        time=utc_now(),
        token_id=who.token_id if who else None,
        token_name=(who.name if who else name)[:100],
        role=who.role.word if who else "",
        client_address=call.client_address[:100],
        method=call.method[:200],
        target_id=call.target_id[:100],
        fields=json.dumps(list(call.fields)[:MAX_FIELDS]),
        outcome=call.outcome[:32],
    )


def _entry(row: AuditEntryRecord) -> AuditEntry:
    assert row.id is not None
    return AuditEntry(
        id=row.id,
        time=row.time,
        token_id=row.token_id,
        token_name=row.token_name,
        role=row.role,
        client_address=row.client_address,
        method=row.method,
        target_id=row.target_id,
        fields=tuple(json.loads(row.fields)),
        outcome=row.outcome,
    )
