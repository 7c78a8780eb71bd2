"""Storage of alerts, rules, channels and deliveries (``server.alerts.model``), as views."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import paging
from server.alerts.channels import apply_channel, channel_target, channel_view, new_channel
from server.alerts.delivery.contract import ChannelKind, ChannelTarget, DeliveryOutcome, Severity
from server.alerts.model import AlertRecord, AlertRuleRecord, ChannelRecord, DeliveryRecord
from server.alerts.rules import (
    BUILTIN_ENABLED,
    BUILTIN_HEALTH_BAND,
    AlertKind,
    HealthBand,
    RuleView,
    check_rule,
)
from server.alerts.views import AlertPage, AlertView, ChannelView, DeliveryView
from server.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.storage.database import Database
from server.storage.seed_marks import claim_seed
from server.vault.cipher import CredentialCipher

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
SNAPSHOT_RECENT = 100
SNAPSHOT_UNACKNOWLEDGED = 1000
BUILTIN_SEED = "alert_rules"


@dataclass(frozen=True, slots=True)
class AlertFilter:
    connection_id: str = ""
    kind: str = ""
    unacknowledged: bool = False

    def fingerprint(self) -> str:
        text = f"{self.connection_id}|{self.kind}|{self.unacknowledged}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def rule_view(record: AlertRuleRecord) -> RuleView:
    return RuleView(
        id=str(record.id),
        kind=AlertKind(record.kind),
        enabled=record.enabled,
        connection_id=record.connection_id,
        health_band=HealthBand(record.health_band) if record.health_band else None,
        quiet_from=record.quiet_from,
        quiet_until=record.quiet_until,
        channel_ids=tuple(record.channel_ids),
        severity=Severity(record.severity) if record.severity else None,
        builtin=record.builtin,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


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
    """Every read and write of the alerts domain, each in one transaction off the loop."""

    def __init__(self, db: Database, cipher: CredentialCipher) -> None:
        self._db = db
        self._cipher = cipher

    # -- rules ----------------------------------------------------------------------------------

    async def seed_builtin_rules(self, now: datetime) -> None:
        """One rule per kind for every connection, once per database (a deleted database
        row is not re-created, and a changed one is left as the operator set it)."""

        def work(session: Session) -> None:
            if not claim_seed(session, BUILTIN_SEED):
                return
            for kind in AlertKind:
                session.add(
                    AlertRuleRecord(
                        kind=kind.value,
                        enabled=BUILTIN_ENABLED[kind],
                        health_band=(
                            BUILTIN_HEALTH_BAND.value if kind is AlertKind.HEALTH_BELOW else None
                        ),
                        builtin=True,
                        created_at=now,
                        updated_at=now,
                    )
                )

        await self._db.write(work)

    async def rules(self) -> list[RuleView]:
        def work(session: Session) -> list[RuleView]:
            statement = select(AlertRuleRecord).order_by(
                col(AlertRuleRecord.created_at), col(AlertRuleRecord.kind), col(AlertRuleRecord.id)
            )
            return [rule_view(r) for r in session.exec(statement).all()]

        return await self._db.read(work)

    async def rule(self, rule_id: uuid.UUID) -> RuleView:
        return await self._db.read(lambda s: rule_view(_rule(s, rule_id)))

    async def save_rule(
        self, rule_id: uuid.UUID | None, changes: Mapping[str, Any], now: datetime
    ) -> RuleView:
        """Create (``rule_id`` None) or change a rule; channel ids must name channels."""

        def work(session: Session) -> RuleView:
            if rule_id is None:
                record = AlertRuleRecord(kind=changes["kind"], created_at=now)
            else:
                record = _rule(session, rule_id)
            for name, value in changes.items():
                setattr(record, name, value)
            check_rule(record.kind, record.health_band, record.quiet_from, record.quiet_until)
            _require_channels(session, record.channel_ids)
            record.updated_at = now
            session.add(record)
            session.flush()
            return rule_view(record)

        return await self._db.write(work)

    async def delete_rule(self, rule_id: uuid.UUID) -> None:
        def work(session: Session) -> None:
            record = _rule(session, rule_id)
            if record.builtin:
                raise FailedPrecondition(
                    f"alert rule {rule_id} is a builtin rule: disable it instead of deleting it",
                    reason="BUILTIN_RULE",
                )
            session.delete(record)

        await self._db.write(work)

    # -- channels -------------------------------------------------------------------------------

    async def channels(self) -> list[ChannelView]:
        def work(session: Session) -> list[ChannelView]:
            statement = select(ChannelRecord).order_by(col(ChannelRecord.name_key))
            return [channel_view(r) for r in session.exec(statement).all()]

        return await self._db.read(work)

    async def channel(self, channel_id: uuid.UUID) -> ChannelView:
        return await self._db.read(lambda s: channel_view(_channel(s, channel_id)))

    async def targets(self, channel_ids: Iterable[str]) -> list[ChannelTarget]:
        """The enabled channels among ``channel_ids``, secrets opened, for delivery."""
        wanted = [uuid.UUID(i) for i in channel_ids]

        def work(session: Session) -> list[ChannelTarget]:
            if not wanted:
                return []
            rows = session.exec(select(ChannelRecord).where(col(ChannelRecord.id).in_(wanted)))
            return [channel_target(r, self._cipher) for r in rows.all() if r.enabled]

        return await self._db.read(work)

    async def target(self, channel_id: uuid.UUID) -> ChannelTarget:
        return await self._db.read(lambda s: channel_target(_channel(s, channel_id), self._cipher))

    async def save_channel(
        self, channel_id: uuid.UUID | None, changes: Mapping[str, Any], now: datetime
    ) -> ChannelView:
        def work(session: Session) -> ChannelView:
            if channel_id is None:
                record = new_channel(ChannelKind(changes["kind"]))
                record.created_at = now
            else:
                record = _channel(session, channel_id)
            apply_channel(record, changes, self._cipher)
            clash = session.exec(
                select(ChannelRecord).where(
                    ChannelRecord.name_key == record.name_key, ChannelRecord.id != record.id
                )
            ).first()
            if clash is not None:
                raise InvalidArgument.field("name", f"a channel named '{clash.name}' exists")
            record.updated_at = now
            session.add(record)
            session.flush()
            return channel_view(record)

        return await self._db.write(work)

    async def delete_channel(self, channel_id: uuid.UUID) -> None:
        def work(session: Session) -> None:
            record = _channel(session, channel_id)
            naming = [
                str(r.id)
                for r in session.exec(select(AlertRuleRecord)).all()
                if str(channel_id) in r.channel_ids
            ]
            if naming:
                raise FailedPrecondition(
                    f"channel {channel_id} is used by alert rules {', '.join(sorted(naming))}: "
                    "remove it from them first",
                    reason="CHANNEL_IN_USE",
                )
            session.delete(record)

        await self._db.write(work)

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


def _rule(session: Session, rule_id: uuid.UUID) -> AlertRuleRecord:
    record = session.get(AlertRuleRecord, rule_id)
    if record is None:
        raise NotFound(f"alert rule '{rule_id}' not found", reason="ALERT_RULE_NOT_FOUND")
    return record


def _channel(session: Session, channel_id: uuid.UUID) -> ChannelRecord:
    record = session.get(ChannelRecord, channel_id)
    if record is None:
        raise NotFound(f"channel '{channel_id}' not found", reason="CHANNEL_NOT_FOUND")
    return record


def _alert(session: Session, alert_id: int) -> AlertRecord:
    record = session.get(AlertRecord, alert_id)
    if record is None:
        raise NotFound(f"alert '{alert_id}' not found", reason="ALERT_NOT_FOUND")
    return record


def _require_channels(session: Session, channel_ids: Sequence[str]) -> None:
    if not channel_ids:
        return
    wanted = [uuid.UUID(i) for i in channel_ids]
    found = {
        str(i)
        for i in session.exec(select(ChannelRecord.id).where(col(ChannelRecord.id).in_(wanted)))
    }
    unknown = [i for i in channel_ids if i not in found]
    if unknown:
        raise InvalidArgument([FieldViolation("channel_ids", f"no channel '{i}'") for i in unknown])
