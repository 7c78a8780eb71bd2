"""What the account summaries and the PnL history read from the ``positions`` table: sums in
SQL (exact: :func:`server.storage.aggregates.money_sum`), never every closed position."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, cast, func
from sqlmodel import Session, col, select

from server.engine.model import PositionRecord
from server.engine.positions import PositionView, Status
from server.engine.store import view_of
from server.storage.aggregates import money_sum
from server.storage.database import Database


@dataclass(frozen=True, slots=True)
class StoredFigures:
    """Per connection and mode: realised PnL in total and since ``today``."""

    realized_total: dict[tuple[str, str], Decimal]
    realized_today: dict[tuple[str, str], Decimal]
    open_positions: list[PositionView]
    traded_symbol: dict[str, str]  # per connection: one symbol it holds positions in


@dataclass(frozen=True, slots=True)
class PnlBucket:
    connection_id: str
    mode: str
    bucket: int  # 0: the first bucket from ``since``
    realized_pnl: Decimal


class AccountStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self, today: datetime) -> StoredFigures:
        dialect = self._db.dialect

        def sums(session: Session, since: datetime | None) -> dict[tuple[str, str], Decimal]:
            query = select(
                col(PositionRecord.connection_id),
                col(PositionRecord.mode),
                money_sum(PositionRecord.realized_pnl, dialect),
            ).where(PositionRecord.status == Status.CLOSED.value)
            if since is not None:
                query = query.where(col(PositionRecord.closed_at) >= since)
            query = query.group_by(col(PositionRecord.connection_id), col(PositionRecord.mode))
            return {(str(c), m): total or Decimal(0) for c, m, total in session.exec(query)}

        def work(session: Session) -> StoredFigures:
            opened = select(PositionRecord).where(PositionRecord.status == Status.OPEN.value)
            traded = select(
                col(PositionRecord.connection_id), func.max(col(PositionRecord.symbol))
            ).group_by(col(PositionRecord.connection_id))
            return StoredFigures(
                realized_total=sums(session, None),
                realized_today=sums(session, today),
                open_positions=[view_of(r) for r in session.exec(opened)],
                traded_symbol={str(c): s for c, s in session.exec(traded)},
            )

        return await self._db.read(work)

    async def pnl_buckets(
        self, *, connection_id: uuid.UUID | None, since: datetime, bucket_seconds: int
    ) -> list[PnlBucket]:
        """Realised PnL of the positions closed from ``since`` (whole seconds), summed per
        connection, mode and bucket of ``bucket_seconds``."""
        dialect = self._db.dialect
        start = int(since.timestamp())
        closed_at = col(PositionRecord.closed_at)
        bucket: Any
        if dialect == "sqlite":
            seconds = cast(func.strftime("%s", closed_at), Integer)
            bucket = (seconds - start) / bucket_seconds  # integer division
        else:
            bucket = cast(
                func.floor((func.extract("epoch", closed_at) - start) / bucket_seconds), Integer
            )
        bucket = bucket.label("bucket")

        def work(session: Session) -> list[PnlBucket]:
            query = select(
                col(PositionRecord.connection_id),
                col(PositionRecord.mode),
                bucket,
                money_sum(PositionRecord.realized_pnl, dialect),
            ).where(
                PositionRecord.status == Status.CLOSED.value,
                closed_at >= since,
                col(PositionRecord.realized_pnl).is_not(None),
            )
            if connection_id is not None:
                query = query.where(PositionRecord.connection_id == connection_id)
            query = query.group_by(
                col(PositionRecord.connection_id), col(PositionRecord.mode), bucket
            )
            return [
                PnlBucket(str(c), m, int(b), total or Decimal(0))
                for c, m, b, total in session.exec(query)
            ]

        return await self._db.read(work)
