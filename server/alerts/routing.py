"""Storage of where alerts go: alert rules (the builtin ones made once per database) and
delivery channels, their secrets sealed (``server.alerts.channels``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server.alerts.channels import apply_channel, channel_target, channel_view, new_channel
from server.alerts.delivery.contract import ChannelKind, ChannelTarget, Severity
from server.alerts.model import AlertRuleRecord, ChannelRecord
from server.alerts.rules import (
    BUILTIN_ENABLED,
    BUILTIN_HEALTH_BAND,
    AlertKind,
    HealthBand,
    RuleView,
    check_rule,
)
from server.alerts.views import ChannelView
from server.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.storage.database import Database
from server.storage.seed_marks import claim_seed
from server.vault.cipher import CredentialCipher

BUILTIN_SEED = "alert_rules"


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


class RoutingStore:
    """Rules and channels, each read or write in one transaction off the loop."""

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

    async def delete_rules_of(self, connection_id: str) -> int:
        """Delete the rules that name this (deleted) connection; how many there were."""

        def work(session: Session) -> int:
            statement = select(AlertRuleRecord).where(
                AlertRuleRecord.connection_id == connection_id
            )
            found = session.exec(statement).all()
            for record in found:
                session.delete(record)
            return len(found)

        return await self._db.write(work)

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
