"""Storage of alerts and their deliveries (``server.alerts.model``), as views; each read or
write in one transaction off the loop. Rules and channels: ``server.alerts.routing``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import paging
from server.alerts.delivery.contract import ChannelTarget, DeliveryOutcome, Severity
from server.alerts.model import AlertRecord, ChannelRecord, DeliveryRecord
from server.alerts.views import AlertPage, AlertView, DeliveryView
from server.errors import NotFound
from server.storage.database import Database

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
SNAPSHOT_RECENT = 100
SNAPSHOT_UNACKNOWLEDGED = 1000


@dataclass(frozen=True, slots=True)
class AlertFilter:
    connection_id: str = ""
    kind: str = ""
    unacknowledged: bool = False

    def fingerprint(self) -> str:
        text = f"{self.connection_id}|{self.kind}|{self.unacknowledged}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _delivery(record: DeliveryRecord) -> DeliveryView:
    return DeliveryView(
        record.channel_id,
        record.channel_name,
        record.state,
        record.attempts,
        record.status_code,
        record.error,
        record.at,
    )


def _alert_views(session: Session, records: Sequence[AlertRecord]) -> list[AlertView]:
    ids = [r.id for r in records if r.id is not None]
    deliveries: dict[int, list[DeliveryView]] = {}
    if ids:
        rows = session.exec(
            select(DeliveryRecord)
            .where(col(DeliveryRecord.alert_id).in_(ids))
            .order_by(col(DeliveryRecord.channel_name))
        ).all()
        for row in rows:
            deliveries.setdefault(row.alert_id, []).append(_delivery(row))
    return [
        AlertView(
            id=r.id or 0,
            kind=r.kind,
            severity=Severity(r.severity),
            title=r.title,
            text=r.text,
            connection_id=r.connection_id,
            connection_name=r.connection_name,
            details={str(k): str(v) for k, v in r.details.items()},
            rule_id=r.rule_id,
            raised_at=r.raised_at,
            acknowledged_by=r.acknowledged_by,
            acknowledged_at=r.acknowledged_at,
            deliveries=tuple(deliveries.get(r.id or 0, ())),
        )
        for r in records
    ]


def _count_unacknowledged(session: Session) -> int:
    statement = (
        select(func.count())
        .select_from(AlertRecord)
        .where(col(AlertRecord.acknowledged_at).is_(None))
    )
    return int(session.exec(statement).one())


class AlertStore:
    """Alerts, their deliveries and the outcomes that reach channels."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- alerts ---------------------------------------------------------------------------------

    async def add_alert(
        self, record: AlertRecord, channels: Sequence[ChannelTarget]
    ) -> tuple[AlertView, int]:
        """Store an alert with a pending delivery per channel; the view and the count after."""

        def work(session: Session) -> tuple[AlertView, int]:
            session.add(record)
            session.flush()
            assert record.id is not None
            for target in channels:
                session.add(
                    DeliveryRecord(
                        alert_id=record.id,
                        channel_id=target.id,
                        channel_name=target.name,
                        at=record.raised_at,
                    )
                )
            session.flush()
            return _alert_views(session, [record])[0], _count_unacknowledged(session)

        return await self._db.write(work)

    async def alert(self, alert_id: int) -> AlertView:
        def work(session: Session) -> AlertView:
            return _alert_views(session, [_alert(session, alert_id)])[0]

        return await self._db.read(work)

    async def page(self, where: AlertFilter, page_size: int, page_token: str) -> AlertPage:
        size = paging.page_size_of(page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        before = paging.decode_page_token(page_token, where.fingerprint(), paging.before_id)

        def work(session: Session) -> AlertPage:
            statement = select(AlertRecord)
            if where.connection_id:
                statement = statement.where(AlertRecord.connection_id == where.connection_id)
            if where.kind:
                statement = statement.where(AlertRecord.kind == where.kind)
            if where.unacknowledged:
                statement = statement.where(col(AlertRecord.acknowledged_at).is_(None))
            if before is not None:
                statement = statement.where(col(AlertRecord.id) < before)
            rows = session.exec(statement.order_by(col(AlertRecord.id).desc()).limit(size + 1))
            records = list(rows.all())
            token = ""
            if len(records) > size:
                records = records[:size]
                token = paging.encode_page_token({"b": records[-1].id}, where.fingerprint())
            views = _alert_views(session, records)
            return AlertPage(tuple(views), token, _count_unacknowledged(session))

        return await self._db.read(work)

    async def snapshot(self) -> tuple[list[AlertView], int]:
        """The unacknowledged alerts (newest 1,000) and the 100 most recent, newest first."""

        def work(session: Session) -> tuple[list[AlertView], int]:
            recent = session.exec(
                select(AlertRecord).order_by(col(AlertRecord.id).desc()).limit(SNAPSHOT_RECENT)
            ).all()
            open_ = session.exec(
                select(AlertRecord)
                .where(col(AlertRecord.acknowledged_at).is_(None))
                .order_by(col(AlertRecord.id).desc())
                .limit(SNAPSHOT_UNACKNOWLEDGED)
            ).all()
            merged = {r.id: r for r in (*recent, *open_)}
            records = sorted(merged.values(), key=lambda r: -(r.id or 0))
            return _alert_views(session, records), _count_unacknowledged(session)

        return await self._db.read(work)

    async def acknowledge(
        self, up_to: int | None, only: int | None, by: str, now: datetime
    ) -> tuple[list[AlertView], int]:
        """Acknowledge alert ``only``, or every unacknowledged one up to ``up_to`` (all when
        None): the alerts that changed and the unacknowledged count after."""

        def work(session: Session) -> tuple[list[AlertView], int]:
            if only is not None:
                record = _alert(session, only)
                records = [record] if record.acknowledged_at is None else []
            else:
                statement = select(AlertRecord).where(col(AlertRecord.acknowledged_at).is_(None))
                if up_to is not None:
                    statement = statement.where(col(AlertRecord.id) <= up_to)
                records = list(session.exec(statement.order_by(col(AlertRecord.id))).all())
            for record in records:
                record.acknowledged_by, record.acknowledged_at = by, now
                session.add(record)
            session.flush()
            return _alert_views(session, records), _count_unacknowledged(session)

        return await self._db.write(work)

    async def record_outcome(self, outcome: DeliveryOutcome) -> tuple[AlertView, int] | None:
        """Store one attempt's outcome on the channel and, for a stored alert, its delivery:
        the alert after it (None for a test alert or a delivery no longer stored)."""

        def work(session: Session) -> tuple[AlertView, int] | None:
            state = "delivered" if outcome.delivered else ("failed" if outcome.final else "pending")
            error = outcome.error[:500]
            try:
                channel = session.get(ChannelRecord, uuid.UUID(outcome.channel_id))
            except ValueError:
                channel = None
            if channel is not None:
                channel.last_state, channel.last_attempts = state, outcome.attempt
                channel.last_status_code = outcome.status_code or 0
                channel.last_error, channel.last_at = error, outcome.at
                session.add(channel)
            if not outcome.alert_id.isdigit():
                return None
            delivery = session.get(DeliveryRecord, (int(outcome.alert_id), outcome.channel_id))
            if delivery is None:
                return None
            delivery.state, delivery.attempts = state, outcome.attempt
            delivery.status_code, delivery.error, delivery.at = (
                outcome.status_code or 0,
                error,
                outcome.at,
            )
            session.add(delivery)
            session.flush()
            record = _alert(session, delivery.alert_id)
            return _alert_views(session, [record])[0], _count_unacknowledged(session)

        return await self._db.write(work)


def _alert(session: Session, alert_id: int) -> AlertRecord:
    record = session.get(AlertRecord, alert_id)
    if record is None:
        raise NotFound(f"alert '{alert_id}' not found", reason="ALERT_NOT_FOUND")
    return record
