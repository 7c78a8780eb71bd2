"""The coordinator: one engine per connection, all in this process, kept where they should be.

Desired state per connection = the user's stored wish (``engines`` table; start, pause,
resume, stop) — by default *running* — and the connection being enabled and active. The
coordinator reconciles an engine with that whenever it changes: on every command, and on every
change of a connection (it follows the connection stream; no periodic scan). At server start
every enabled and active connection whose wish is not *stopped* gets its engine back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from sqlmodel import Session, select

from server.connections.ids import parse_connection_id
from server.connections.service import Connections
from server.connections.view import ConnectionView
from server.engine.blotter import Blotter, batch_size, wanted_connection
from server.engine.engine import Engine, EngineParts, Subscribe
from server.engine.feed import FeedStats
from server.engine.loading import LoadPlan
from server.engine.marks import PositionEvent, publish_position_event
from server.engine.model import EngineRecord
from server.engine.positions import Mode
from server.engine.status import Desired, EngineState, EngineStatus
from server.engine.store import PositionStore
from server.errors import FailedPrecondition, InvalidArgument
from server.exchange.access import ExchangeAccess, Target
from server.listeners import Listeners
from server.storage.database import Database
from server.streams.follow import follow
from server.streams.topic import Change, Topic
from server.streams.watch import StreamItem, watch

log = logging.getLogger("cts.engine")
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, slots=True)
class CoordinatorHealth:
    enabled: bool
    started_at: datetime | None
    engines: int  # one per connection (stopped where none runs): the sum of ``by_state``
    by_state: dict[str, int]
    errors: int
    reconciliations: int
    feeds: tuple[FeedStats, ...]


class Coordinator:
    def __init__(
        self,
        connections: Connections,
        access: ExchangeAccess,
        db: Database,
        topic: Topic[EngineStatus],
        connection_topic: Topic[ConnectionView],
        subscribe: Subscribe,
        plan: LoadPlan,
        *,
        position_topic: Topic[PositionEvent] | None = None,
        heartbeat_seconds: float = 15.0,
        batch_interval_seconds: float = 0.0,
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 60.0,
        mark_seconds: float = 5.0,
        live_retry_seconds: float = 0.5,
        stale_seconds: float = 3.0,
        stop_seconds: float = 5.0,
        status_cycles: int = 1,
        enabled: bool = True,
        feed_stats: Callable[[], list[FeedStats]] = list,
    ) -> None:
        self._connections = connections
        self._db = db
        self._topic = topic
        self.position_topic: Topic[PositionEvent] = position_topic or Topic("positions")
        self._connection_topic = connection_topic
        self._heartbeat_seconds = heartbeat_seconds
        self._batch_interval_seconds = batch_interval_seconds
        self.store = PositionStore(db)
        #: Told the seconds of every realtime cycle of every engine.
        self.on_cycle: Listeners[[float]] = Listeners("an engine's cycle")
        self._parts = EngineParts(
            access=access,
            plan=plan,
            subscribe=subscribe,
            store=self.store,
            publish_status=self._publish,
            publish_position=self._publish_position,
            retry_base_seconds=retry_base_seconds,
            retry_max_seconds=retry_max_seconds,
            mark_seconds=mark_seconds,
            live_retry_seconds=live_retry_seconds,
            stale_seconds=stale_seconds,
            stop_seconds=stop_seconds,
            status_cycles=status_cycles,
            on_cycle=self.on_cycle,
        )
        #: Told the connection id when an engine's prices turn stale or fresh again.
        self.on_stale_change: Listeners[[uuid.UUID]] = Listeners("an engine's stale prices")
        self.enabled = enabled
        self._feed_stats = feed_stats
        self._wishes: dict[uuid.UUID, Desired] = {}
        self._engines: dict[uuid.UUID, Engine] = {}
        self._statuses: dict[uuid.UUID, EngineStatus] = {}
        self._follower: asyncio.Task[None] | None = None
        # One reconciliation of a connection at a time; those of different connections go on
        # side by side (a stop waits for its engine's positions to be stored: one at a time,
        # 213 of a thousand engines stopped in 4 minutes). A lock lives while someone holds or
        # awaits it.
        self._turns: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._reconciling: set[asyncio.Task[None]] = set()
        #: Every engine's positions as clients see them: pages, the stream, a close.
        self.blotter = Blotter(
            connections,
            self.store,
            self._engines,
            self.position_topic,
            heartbeat_seconds=heartbeat_seconds,
            batch_interval_seconds=batch_interval_seconds,
        )
        self.started_at: datetime | None = None
        self.reconciliations = 0

    # -- running ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored wishes, bring engines back, then follow the connections."""

        def load(session: Session) -> dict[uuid.UUID, Desired]:
            records = session.exec(select(EngineRecord)).all()
            return {r.connection_id: Desired(r.desired) for r in records}

        self._wishes = await self._db.read(load)
        self.started_at = datetime.now(UTC)
        for view in await self._connections.all():
            await self._reconcile(view.id)
        self._follower = asyncio.ensure_future(self._follow())

    async def stop(self, deadline: float | None = None) -> None:
        """Stop every engine (server shutdown); live orders still in flight at ``deadline``
        (``loop.time()``) are abandoned and stay pending until the next start."""
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await asyncio.gather(*self._reconciling, return_exceptions=True)
        await asyncio.gather(
            *(
                engine.stop(engine.status.desired, deadline=deadline)
                for engine in self._engines.values()
            )
        )

    # -- commands -----------------------------------------------------------------------------

    async def command(
        self, connection_id: str, desired: Desired, *, close_positions: bool = False
    ) -> EngineStatus:
        """Start (running), pause, resume (running) or stop; idempotent. Stored, then applied.

        Stop with ``close_positions`` closes every open position (pseudo at the last prices,
        live by market orders) before the engine stops."""
        cid = parse_connection_id(connection_id, field="connection_id")
        view = await self._connections.get(str(cid))
        if not self.enabled:
            raise FailedPrecondition(
                "engines are switched off on this server (CTS_ENGINES=false)",
                reason="ENGINES_OFF",
            )
        current = self.status(str(cid))
        if desired is not Desired.STOPPED and not (view.is_enabled and view.is_active):
            raise FailedPrecondition(
                f"connection '{view.name}' must be enabled and active to run an engine",
                reason="CONNECTION_NOT_ACTIVE",
            )
        if desired is Desired.PAUSED and current.state is EngineState.STOPPED:
            raise FailedPrecondition(
                "the engine is stopped: start it first", reason="ENGINE_STOPPED"
            )
        if close_positions and desired is not Desired.STOPPED:
            raise InvalidArgument.field("close_positions", "only applies to stop")
        await self._store(cid, desired)
        await self._reconcile(cid, close_positions=close_positions)
        return self.status(str(cid))

    async def resume(self, connection_id: str) -> EngineStatus:
        cid = parse_connection_id(connection_id, field="connection_id")
        if self.status(str(cid)).state is EngineState.STOPPED:
            await self._connections.get(str(cid))  # NOT_FOUND first
            raise FailedPrecondition(
                "the engine is stopped: start it instead", reason="ENGINE_STOPPED"
            )
        return await self.command(str(cid), Desired.RUNNING)

    # -- what clients see ---------------------------------------------------------------------

    def status(self, connection_id: str) -> EngineStatus:
        """An engine's status with the figures of its last cycle."""
        cid = uuid.UUID(connection_id)
        engine = self._engines.get(cid)
        if engine is not None and cid in self._statuses:
            return engine.current()
        return self.published(cid)

    def published(self, cid: uuid.UUID) -> EngineStatus:
        """An engine's status as last published (its running figures at most
        ``status_cycles`` cycles old); costs nothing to read, for lists and snapshots."""
        return self._statuses.get(cid) or EngineStatus(
            str(cid), desired=self._wish(cid), updated_at=self.started_at
        )

    async def status_of(self, connection_id: str) -> EngineStatus:
        cid = parse_connection_id(connection_id, field="connection_id")
        await self._connections.get(str(cid))
        return self.status(str(cid))

    async def all(self) -> list[EngineStatus]:
        """Every connection's engine status as last published (see :meth:`published`)."""
        return [self.published(v.id) for v in await self._connections.all()]

    def watch(
        self, *, connection_id: str | None, resume_revision: int = 0, max_batch: int = 1
    ) -> AsyncIterator[StreamItem[EngineStatus]]:
        batch = batch_size(max_batch)
        wanted = wanted_connection(connection_id)

        async def load() -> list[EngineStatus]:
            return await self.all()

        return watch(
            self._topic,
            load=load,
            matches=lambda s: wanted is None or s.connection_id == wanted,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
            batch=batch,
            batch_interval_seconds=self._batch_interval_seconds,
            latest_wins=True,  # a watcher needs each engine's latest status, not every one
        )

    def health(self) -> CoordinatorHealth:
        """The coordinator itself: is it on, since when, its engines by state, its feeds."""
        by_state = self.engines_by_state()
        return CoordinatorHealth(
            enabled=self.enabled,
            started_at=self.started_at,
            engines=sum(by_state.values()),
            by_state=by_state,
            errors=by_state.get(EngineState.ERROR.value, 0),
            reconciliations=self.reconciliations,
            feeds=tuple(self._feed_stats()),
        )

    def failed_engines(self) -> list[tuple[str, str]]:
        """The engines in error (each retried with back-off): its connection's name (its id
        when unknown) and the error."""
        failed = []
        for cid, status in self._statuses.items():
            if status.state is EngineState.ERROR:
                view = self._connections.cached(cid)
                failed.append((view.name if view is not None else str(cid), status.error))
        return sorted(failed)

    def engines_by_state(self) -> dict[str, int]:
        """How many engines are in each state (connections without one count as stopped)."""
        counts = Counter(status.state.value for status in self._statuses.values())
        return dict(sorted(counts.items()))

    def open_positions(self) -> dict[str, int]:
        """Open positions of every engine by mode (pseudo, live), as their statuses last told."""
        statuses = tuple(self._statuses.values())
        return {
            Mode.PSEUDO.value: sum(s.trading.open_pseudo for s in statuses),
            Mode.LIVE.value: sum(s.trading.open_live for s in statuses),
        }

    def stale_since(self, connection_id: uuid.UUID) -> datetime | None:
        """Since when the connection's engine trades on stale prices (None: fresh or none)."""
        status = self._statuses.get(connection_id)
        return status.stale_since if status is not None else None

    def engine(self, connection_id: str) -> Engine | None:
        return self._engines.get(uuid.UUID(connection_id))

    # -- reconciling --------------------------------------------------------------------------

    def _wish(self, cid: uuid.UUID) -> Desired:
        return self._wishes.get(cid, Desired.RUNNING)

    def _turn(self, cid: uuid.UUID) -> asyncio.Lock:
        turn = self._turns.get(cid)
        if turn is None:
            turn = self._turns[cid] = asyncio.Lock()
        return turn

    async def _reconcile(self, cid: uuid.UUID, *, close_positions: bool = False) -> None:
        async with self._turn(cid):
            self.reconciliations += 1
            view = self._connections.cached(cid)
            wish = self._wish(cid)
            should_run = (
                view is not None and view.is_enabled and view.is_active
                and wish is not Desired.STOPPED
            )  # fmt: skip
            engine = self._engines.get(cid)
            if should_run:
                if engine is None:
                    engine = self._engines[cid] = self._new_engine(cid)
                engine.run(wish)
            elif engine is not None:
                await engine.stop(wish, close_positions=close_positions and view is not None)
                if view is None:
                    del self._engines[cid]
            elif close_positions and view is not None:
                engine = self._engines[cid] = self._new_engine(cid)
                await engine.stop(wish, close_positions=True)
            elif view is not None and cid not in self._statuses:
                # A connection without an engine is on the stream too (stopped, with its wish).
                self._publish(EngineStatus(str(cid), desired=wish, updated_at=datetime.now(UTC)))
            if view is None:
                self._forget(cid)

    def _new_engine(self, cid: uuid.UUID) -> Engine:
        connection_id = str(cid)

        async def target() -> Target:
            return await self._connections.target(connection_id)

        return Engine(
            connection_id,
            self._parts,
            target=target,
            connection=lambda: self._connections.cached(cid),
        )

    def _publish_position(self, event: PositionEvent) -> None:
        publish_position_event(self.position_topic, event)

    def _publish(self, status: EngineStatus) -> None:
        cid = uuid.UUID(status.connection_id)
        previous = self._statuses.get(cid)
        self._statuses[cid] = status
        self._topic.publish(cid, status, previous=previous)
        if (previous.stale_since if previous else None) != status.stale_since:
            self.on_stale_change.tell(cid)

    def _forget(self, cid: uuid.UUID) -> None:
        self._wishes.pop(cid, None)
        previous = self._statuses.pop(cid, None)
        if previous is not None:
            self._topic.publish(cid, previous, previous=previous, deleted=True)

    def _reconciled(self, task: asyncio.Task[None]) -> None:
        self._reconciling.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("reconciling an engine failed", exc_info=error)

    async def _store(self, cid: uuid.UUID, desired: Desired) -> None:
        def work(session: Session) -> None:
            record = session.get(EngineRecord, cid)
            if record is None:
                session.add(EngineRecord(connection_id=cid, desired=desired.value))
            else:
                record.desired = desired.value
                record.updated_at = datetime.now(UTC)
                session.add(record)

        await self._db.write(work)
        self._wishes[cid] = desired

    async def _follow(self) -> None:
        async def changed(change: Change[ConnectionView]) -> None:
            # In a task of its own: a connection switched off waits for its engine to stop
            # (live orders for up to stop_seconds), and the others' changes go on meanwhile.
            # Each reconciliation reads the connection's latest view, so their order is moot.
            if _matters(change):
                task = asyncio.ensure_future(self._reconcile(change.current.id))
                self._reconciling.add(task)
                task.add_done_callback(self._reconciled)

        async def resync() -> None:
            for view in await self._connections.all():
                await self._reconcile(view.id)

        await follow(self._connection_topic, changed, on_resync=resync)


def _matters(change: Change[ConnectionView]) -> bool:
    """Changes that can start, stop or rebuild an engine (not health or test results)."""
    if change.deleted or change.previous is None:
        return True
    before, after = change.previous, change.current
    return (before.is_enabled, before.is_active) != (after.is_enabled, after.is_active)
