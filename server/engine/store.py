"""Positions and live orders in storage: the ``positions`` and ``orders`` tables."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from server.engine.model import OrderRecord, PositionRecord
from server.engine.positions import Mode, PositionView, Status
from server.engine.strategies import Position, Side
from server.storage.database import Database
from server.streams.topic import STEP_SECONDS

MAX_PAGE = 1000
SAVE_CHUNK = 500  # positions per storage transaction
log = logging.getLogger("cts.engine.store")


def view_of(record: PositionRecord) -> PositionView:
    state = Position(
        side=Side.LONG if record.side == "long" else Side.SHORT,
        quantity=record.quantity,
        average_price=record.average_price,
        entry_price=record.entry_price,
        order_value=record.order_value,
        best_price=record.best_price,
        adds=record.adds,
        trailing_armed=record.trailing_armed,
    )
    return PositionView(
        id=record.id,
        connection_id=str(record.connection_id),
        mode=Mode(record.mode),
        set_id=record.set_id,
        symbol=record.symbol,
        state=state,
        fees=record.fees,
        status=Status(record.status),
        exit_price=record.exit_price,
        realized_pnl=record.realized_pnl,
        close_reason=record.close_reason,
        follows=record.follows,
        opened_at=record.opened_at,
        closed_at=record.closed_at,
    )


def _row(view: PositionView) -> dict[str, Any]:
    """Every column of a position's row."""
    state = view.state
    return {
        "id": view.id,
        "connection_id": uuid.UUID(view.connection_id),
        "mode": view.mode.value,
        "set_id": view.set_id,
        "symbol": view.symbol,
        "side": "long" if view.side > 0 else "short",
        "follows": view.follows,
        "opened_at": view.opened_at,
        "status": view.status.value,
        "quantity": state.quantity,
        "average_price": state.average_price,
        "entry_price": state.entry_price,
        "order_value": state.order_value,
        "best_price": state.best_price,
        "adds": state.adds,
        "trailing_armed": state.trailing_armed,
        "fees": view.fees,
        "exit_price": view.exit_price,
        "realized_pnl": view.realized_pnl,
        "close_reason": view.close_reason,
        "closed_at": view.closed_at,
        "updated_at": datetime.now(UTC),
    }


# Set once, when a position opens; saving it again leaves them alone.
FIXED = frozenset({"connection_id", "mode", "set_id", "symbol", "side", "follows", "opened_at"})


#: What a position's life changes: updated when a stored position is saved again.
CHANGING = tuple(name for name in PositionRecord.model_fields if name not in FIXED and name != "id")


def _upsert(dialect: str) -> Any:
    """One statement for new and stored positions alike: insert, or on the id's conflict
    update what a position's life changes. (Looking the ids up first to split inserts from
    updates was over a quarter of the writer's time at 1,000 engines.)"""
    table = PositionRecord.__table__  # type: ignore[attr-defined]
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={name: statement.excluded[name] for name in CHANGING}
    )


def _running_update() -> Any:
    """Only the running state of a stored position, by id: a trailing position's best price
    and armed stop change every few seconds, far more often than anything else, and writing
    their whole row (22 columns, each through its type) was most of the writer's time."""
    table = PositionRecord.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            best_price=bindparam("b_best_price"),
            trailing_armed=bindparam("b_trailing_armed"),
            updated_at=bindparam("b_updated_at"),
        )
    )


#: The same on PostgreSQL, every position in one statement: three arrays, unnested (a row per
#: position through executemany cost 2-3 times as much of the writer's time).
_RUNNING_UNNESTED = text(
    "UPDATE positions SET best_price = v.best_price, trailing_armed = v.trailing_armed,"
    " updated_at = :now"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:best_prices AS numeric[]),"
    " CAST(:armed AS boolean[])) AS v(id, best_price, trailing_armed)"
    " WHERE positions.id = v.id"
)


def _running_row(view: PositionView, now: datetime) -> dict[str, Any]:
    state = view.state
    return {
        "b_id": view.id,
        "b_best_price": state.best_price,
        "b_trailing_armed": state.trailing_armed,
        "b_updated_at": now,
    }


class PositionWriter:
    """Writes the engines' positions behind their cycles, in order, coalesced.

    ``put`` never waits: the positions join the pending set (a later state of the same position
    replaces the earlier one) and one task writes whatever is pending in one transaction, again
    and again until nothing is. ``put_running`` is for a stored position whose running state
    alone changed (its best price and armed stop, between fills): unless its whole row is
    pending anyway, only that is written. A cycle so never waits for the database. Every change
    put with ``announce`` (each one, in order, also those a later state replaced in storage) is
    handed to ``stored`` once the write that covers it is done, so a stream never shows a
    position that storage does not hold. ``flush`` waits until everything put so far is stored
    — not until the writer is idle: with a thousand engines putting all the time it seldom is,
    and a stop or a manual close waited for it for seconds.
    """

    def __init__(self, store: PositionStore, stored: Callable[[PositionView], None]) -> None:
        self._store = store
        self._stored = stored
        self._pending: dict[uuid.UUID, PositionView] = {}
        # pending ids whose row differs in its running state alone
        self._running_only: set[uuid.UUID] = set()
        self._announcements: list[PositionView] = []
        self._task: asyncio.Task[None] | None = None
        self._puts = 0  # the puts so far, numbered
        self._stored_puts = 0  # every put up to this number is stored
        self._written = asyncio.Event()  # set (and replaced) after each write
        # One write at a time: a flush retrying a failed write in its caller's task and a
        # drain started by a later put would otherwise both be writing, and the older state
        # of a position could be committed after the newer one.
        self._writing = asyncio.Lock()
        self.failures = 0

    def put(self, views: Sequence[PositionView], *, announce: bool) -> None:
        if not views:
            return
        self._puts += 1
        for view in views:
            self._pending[view.id] = view
            self._running_only.discard(view.id)
        if announce:
            self._announcements.extend(views)
        self._start()

    def put_running(self, views: Sequence[PositionView]) -> None:
        """Stored positions whose running state alone changed since they were put (never
        announced: marks tell them)."""
        if not views:
            return
        self._puts += 1
        for view in views:
            if view.id not in self._pending:
                self._running_only.add(view.id)
            self._pending[view.id] = view
        self._start()

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())

    async def flush(self) -> None:
        wanted = self._puts
        while self._stored_puts < wanted:
            if (self._pending or self._announcements) and (
                self._task is None or self._task.done()
            ):  # the last write failed or was stopped: once more, in the caller's task
                await self._write()
            else:
                await self._written.wait()

    async def _drain(self) -> None:
        while self._pending:
            try:
                await self._write()
            except Exception:
                self.failures += 1
                log.exception("storing positions failed; kept for the next write")
                self._wake()  # a flush waiting on this write tries it once more itself
                return

    async def _write(self) -> None:
        async with self._writing:  # what is pending is taken once the write before is done
            batch, self._pending = self._pending, {}
            running, self._running_only = self._running_only, set()
            announced, self._announcements = self._announcements, []
            covers = self._puts
            try:
                await self._store.save(list(batch.values()), running=running)
            except BaseException:
                # Kept for the next write: a row that was to be written whole still is.
                whole = batch.keys() - running
                self._running_only = (running - self._pending.keys()) | (self._running_only - whole)
                self._pending = {**batch, **self._pending}
                self._announcements = announced + self._announcements
                raise
            await self._announce(announced)
            self._stored_puts = max(self._stored_puts, covers)
            self._wake()

    async def _announce(self, announced: list[PositionView]) -> None:
        """Hand the stored changes on in order, letting the loop run every ``STEP_SECONDS``: a
        burst of a thousand engines' fills announced in one go held every cycle and stream for
        100-200 ms. Puts made meanwhile wait for the next write, so the order holds."""
        started = time.perf_counter()
        for done, view in enumerate(announced, 1):
            self._stored(view)
            if time.perf_counter() - started >= STEP_SECONDS and done < len(announced):
                try:
                    await asyncio.sleep(0)
                except BaseException:  # stopped: what is stored is still announced, later
                    self._announcements = announced[done:] + self._announcements
                    raise
                started = time.perf_counter()

    def _wake(self) -> None:
        written, self._written = self._written, asyncio.Event()
        written.set()


class PositionStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._upsert = _upsert(db.dialect)
        self._running_update = _running_update()

    async def save(
        self, views: Sequence[PositionView], *, running: Collection[uuid.UUID] = ()
    ) -> None:
        """Insert or update positions (one bulk upsert: :func:`_upsert`), ``SAVE_CHUNK``
        positions per transaction, so that a burst of a thousand engines' fills never keeps
        storage from anything else (a new connection, a command) for longer than one chunk.
        Of the stored positions in ``running`` only the running state is written
        (:func:`_running_update`). Saving again what a failed call left half-saved is safe: a
        stored position is updated."""
        latest = {view.id: view for view in views}  # the last state of each wins
        chunk = list(latest.values())
        for start in range(0, len(chunk), SAVE_CHUNK):
            await self._save(chunk[start : start + SAVE_CHUNK], running)

    async def _save(self, views: list[PositionView], running: Collection[uuid.UUID]) -> None:
        def work(session: Session) -> None:  # (rows are made here, off the loop)
            now = datetime.now(UTC)
            whole = [_row(view) for view in views if view.id not in running]
            if whole:
                session.execute(self._upsert, whole)
            moved = [view for view in views if view.id in running]
            if moved and self._db.dialect == "postgresql":
                session.execute(
                    _RUNNING_UNNESTED,
                    {
                        "ids": [view.id for view in moved],
                        "best_prices": [view.state.best_price for view in moved],
                        "armed": [view.state.trailing_armed for view in moved],
                        "now": now,
                    },
                )
            elif moved:
                session.execute(self._running_update, [_running_row(v, now) for v in moved])

        await self._db.write(work, bulk=True)

    async def get(self, position_id: uuid.UUID) -> PositionView | None:
        def work(session: Session) -> PositionView | None:
            record = session.get(PositionRecord, position_id)
            return view_of(record) if record is not None else None

        return await self._db.read(work)

    async def open_positions(self, connection_id: str) -> list[PositionView]:
        cid = uuid.UUID(connection_id)

        def work(session: Session) -> list[PositionView]:
            query = select(PositionRecord).where(
                PositionRecord.connection_id == cid, PositionRecord.status == Status.OPEN.value
            )
            return [view_of(r) for r in session.exec(query.order_by(col(PositionRecord.opened_at)))]

        return await self._db.read(work)

    async def closed_pnls(self, connection_id: str, per_set: int) -> dict[str, list[Decimal]]:
        """Each set's last ``per_set`` closed pseudo PnLs, oldest first."""
        cid = uuid.UUID(connection_id)

        def work(session: Session) -> dict[str, list[Decimal]]:
            query = (
                select(col(PositionRecord.set_id), col(PositionRecord.realized_pnl))
                .where(
                    PositionRecord.connection_id == cid,
                    PositionRecord.status == Status.CLOSED.value,
                    PositionRecord.mode == Mode.PSEUDO.value,
                )
                .order_by(col(PositionRecord.closed_at).desc())
            )
            found: dict[str, list[Decimal]] = {}
            for set_id, pnl in session.exec(query):
                kept = found.setdefault(set_id, [])
                if pnl is not None and len(kept) < per_set:
                    kept.append(pnl)
            return {set_id: pnls[::-1] for set_id, pnls in found.items()}

        return await self._db.read(work)

    async def counts(self, connection_id: str) -> Mapping[str, int]:
        """Closed positions per mode (for metrics after a restart)."""
        cid = uuid.UUID(connection_id)

        def work(session: Session) -> dict[str, int]:
            query = (
                select(PositionRecord.mode, func.count())
                .where(
                    PositionRecord.connection_id == cid,
                    PositionRecord.status == Status.CLOSED.value,
                )
                .group_by(PositionRecord.mode)
            )
            return {mode: int(n) for mode, n in session.exec(query)}

        return await self._db.read(work)

    async def all_open(
        self, *, connection_id: str | None, excluding: Collection[str] = ()
    ) -> list[PositionView]:
        """Every open position (of one connection, or of all but the ``excluding``
        connections'), newest first, read a page at a time: open positions are live state, none
        may be left out of a snapshot."""
        found: list[PositionView] = []
        before: tuple[datetime, uuid.UUID] | None = None
        while True:
            page = await self.find(
                connection_id=connection_id,
                status=Status.OPEN,
                mode=None,
                limit=MAX_PAGE,
                before=before,
                excluding=excluding,
            )
            found.extend(page)
            if len(page) < MAX_PAGE:
                return found
            before = (page[-1].opened_at, page[-1].id)

    async def find(
        self,
        *,
        connection_id: str | None,
        status: Status | None,
        mode: Mode | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None = None,
        excluding: Collection[str] = (),
    ) -> list[PositionView]:
        """Positions newest first (by opening time, then id), after the ``before`` cursor, but
        none of the ``excluding`` connections'."""

        def work(session: Session) -> list[PositionView]:
            query = select(PositionRecord)
            if connection_id is not None:
                query = query.where(PositionRecord.connection_id == uuid.UUID(connection_id))
            if excluding:
                others = [uuid.UUID(cid) for cid in excluding]
                query = query.where(col(PositionRecord.connection_id).not_in(others))
            if status is not None:
                query = query.where(PositionRecord.status == status.value)
            if mode is not None:
                query = query.where(PositionRecord.mode == mode.value)
            if before is not None:
                at, last_id = before
                query = query.where(
                    (col(PositionRecord.opened_at) < at)
                    | ((col(PositionRecord.opened_at) == at) & (col(PositionRecord.id) < last_id))
                )
            query = query.order_by(
                col(PositionRecord.opened_at).desc(), col(PositionRecord.id).desc()
            ).limit(min(limit, MAX_PAGE + 1))  # a full page and one more: is there a next?
            return [view_of(r) for r in session.exec(query)]

        return await self._db.read(work)

    # -- live orders --------------------------------------------------------------------------

    async def add_order(self, order: OrderRecord) -> None:
        await self._db.write(lambda session: session.add(order))

    async def update_order(self, order_id: uuid.UUID, **changes: object) -> OrderRecord:
        def work(session: Session) -> OrderRecord:
            record = session.get(OrderRecord, order_id)
            if record is None:
                raise LookupError(f"order {order_id} is not stored")
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = datetime.now(UTC)
            session.add(record)
            return record

        return await self._db.write(work)

    async def pending_orders(self, connection_id: str) -> list[OrderRecord]:
        cid = uuid.UUID(connection_id)

        def work(session: Session) -> list[OrderRecord]:
            query = select(OrderRecord).where(
                OrderRecord.connection_id == cid, OrderRecord.status == "pending"
            )
            return list(session.exec(query.order_by(col(OrderRecord.created_at))))

        return await self._db.read(work)

    async def orders(self, position_id: uuid.UUID) -> list[OrderRecord]:
        def work(session: Session) -> list[OrderRecord]:
            query = select(OrderRecord).where(OrderRecord.position_id == position_id)
            return list(session.exec(query.order_by(col(OrderRecord.created_at))))

        return await self._db.read(work)
