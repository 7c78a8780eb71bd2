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
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from server.connections.ids import parse_connection_id
from server.connections.service import Connections
from server.connections.view import ConnectionView
from server.engine.engine import Engine, Subscribe
from server.engine.feed import FeedStats
from server.engine.loading import LoadPlan
from server.engine.model import EngineRecord
from server.engine.presets import Preset, preset_for
from server.engine.status import Desired, EngineState, EngineStatus
from server.errors import FailedPrecondition
from server.exchange.access import ExchangeAccess, Target
from server.storage.database import Database
from server.streams.follow import follow
from server.streams.topic import Change, Topic
from server.streams.watch import StreamItem, watch

log = logging.getLogger("cts.engine")


@dataclass(frozen=True, slots=True)
class CoordinatorHealth:
    enabled: bool
    started_at: datetime | None
    engines: int  # engines it holds (running, paused, in error, ...)
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
        heartbeat_seconds: float = 15.0,
        retry_base_seconds: float = 2.0,
        enabled: bool = True,
        feed_stats: Callable[[], list[FeedStats]] = list,
    ) -> None:
        self._connections = connections
        self._access = access
        self._db = db
        self._topic = topic
        self._connection_topic = connection_topic
        self._subscribe = subscribe
        self._plan = plan
        self._heartbeat_seconds = heartbeat_seconds
        self._retry_base = retry_base_seconds
        self.enabled = enabled
        self._feed_stats = feed_stats
        self._wishes: dict[uuid.UUID, Desired] = {}
        self._engines: dict[uuid.UUID, Engine] = {}
        self._statuses: dict[uuid.UUID, EngineStatus] = {}
        self._follower: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()  # one reconciliation at a time
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

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await asyncio.gather(*(engine.stop() for engine in self._engines.values()))

    # -- commands -----------------------------------------------------------------------------

    async def command(self, connection_id: str, desired: Desired) -> EngineStatus:
        """Start (running), pause, resume (running) or stop; idempotent. Stored, then applied."""
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
        await self._store(cid, desired)
        await self._reconcile(cid)
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
        cid = uuid.UUID(connection_id)
        return self._statuses.get(cid) or EngineStatus(
            connection_id, desired=self._wish(cid), updated_at=self.started_at
        )

    async def status_of(self, connection_id: str) -> EngineStatus:
        cid = parse_connection_id(connection_id, field="connection_id")
        await self._connections.get(str(cid))
        return self.status(str(cid))

    async def all(self) -> list[EngineStatus]:
        return [self.status(str(v.id)) for v in await self._connections.all()]

    def watch(
        self, *, connection_id: str | None, resume_revision: int = 0
    ) -> AsyncIterator[StreamItem[EngineStatus]]:
        wanted = (
            str(parse_connection_id(connection_id, field="connection_id"))
            if connection_id
            else None
        )

        async def load() -> list[EngineStatus]:
            return await self.all()

        return watch(
            self._topic,
            load=load,
            matches=lambda s: wanted is None or s.connection_id == wanted,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
        )

    def health(self) -> CoordinatorHealth:
        """The coordinator itself: is it on, since when, its engines by state, its feeds."""
        counts = Counter(status.state.value for status in self._statuses.values())
        return CoordinatorHealth(
            enabled=self.enabled,
            started_at=self.started_at,
            engines=len(self._engines),
            by_state=dict(sorted(counts.items())),
            errors=counts.get(EngineState.ERROR.value, 0),
            reconciliations=self.reconciliations,
            feeds=tuple(self._feed_stats()),
        )

    def engine(self, connection_id: str) -> Engine | None:
        return self._engines.get(uuid.UUID(connection_id))

    # -- reconciling --------------------------------------------------------------------------

    def _wish(self, cid: uuid.UUID) -> Desired:
        return self._wishes.get(cid, Desired.RUNNING)

    async def _reconcile(self, cid: uuid.UUID) -> None:
        async with self._turn:
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
                await engine.stop(wish)
                if view is None:
                    del self._engines[cid]
            elif view is not None and cid not in self._statuses:
                # A connection without an engine is on the stream too (stopped, with its wish).
                self._publish(EngineStatus(str(cid), desired=wish, updated_at=datetime.now(UTC)))
            if view is None:
                self._forget(cid)

    def _new_engine(self, cid: uuid.UUID) -> Engine:
        connection_id = str(cid)

        async def target() -> Target:
            return await self._connections.target(connection_id)

        def preset() -> Preset:
            view = self._connections.cached(cid)
            return preset_for(view.preset_type if view else "default")

        return Engine(
            connection_id,
            access=self._access,
            target=target,
            preset=preset,
            plan=self._plan,
            subscribe=self._subscribe,
            publish=self._publish,
            retry_base_seconds=self._retry_base,
        )

    def _publish(self, status: EngineStatus) -> None:
        cid = uuid.UUID(status.connection_id)
        previous = self._statuses.get(cid)
        self._statuses[cid] = status
        self._topic.publish(cid, status, previous=previous)

    def _forget(self, cid: uuid.UUID) -> None:
        self._wishes.pop(cid, None)
        previous = self._statuses.pop(cid, None)
        if previous is not None:
            self._topic.publish(cid, previous, previous=previous, deleted=True)

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
            if _matters(change):
                await self._reconcile(change.current.id)

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
