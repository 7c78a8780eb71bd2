"""The whole system at a glance: what runs, how much of it, and how well.

:class:`SystemStatus` is computed from the in-memory state of the parts (the connections' read
model, the coordinator, exchange access, the tester, the topics, the log's hourly counts) plus a
storage probe every few seconds, so computing it costs no exchange call and no storage read.
:class:`StatusBoard` publishes it on a topic when it changed — checked once a second while
anyone watches, so changes are coalesced to at most one message a second.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import text

from server.connections.view import ConnectionView
from server.engine.status import EngineStatus
from server.exchange.throttle import Usage
from server.storage.database import Database
from server.streams.topic import Closed, Overflow, Topic
from server.tasks import cancel_and_wait

STORAGE_PROBE_SECONDS = 5.0
STORAGE_PROBE_TIMEOUT = 2.0


def cts_version() -> str:
    try:
        return version("cts")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class ExchangeUsage:
    """How full the rate limits of one exchange's accounts are."""

    exchange: str
    accounts: int
    busiest: float  # the fullest limit of the fullest account, 0..1
    paused_accounts: int  # accounts in a back-off after a 429
    in_flight: int  # calls under way over all accounts


@dataclass(frozen=True, slots=True)
class StorageState:
    kind: str  # sqlite or postgresql
    reachable: bool
    latency_ms: float
    checked_at: datetime | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class SystemStatus:
    version: str
    started_at: datetime
    storage: StorageState
    connections: int
    connections_by_exchange: Mapping[str, int]
    connections_by_api_type: Mapping[str, int]
    enabled: int
    active: int
    live_trading: int
    engines_by_state: Mapping[str, int]
    health_by_band: Mapping[str, int]
    rate_usage: tuple[ExchangeUsage, ...]
    batch_tests_running: int
    subscribers: Mapping[str, int]
    log_entries_last_hour: Mapping[str, int]
    computed_at: datetime

    @property
    def uptime_seconds(self) -> float:
        return (self.computed_at - self.started_at).total_seconds()

    def same_as(self, other: SystemStatus | None) -> bool:
        """Equal but for when it was computed (and so its uptime)."""
        return other is not None and replace(self, computed_at=other.computed_at) == other


@dataclass(frozen=True)
class StatusSources:
    """Where the board reads each part (the server wires these)."""

    connections: Callable[[], Sequence[ConnectionView]]
    engines: Callable[[], Sequence[EngineStatus]]
    usage: Callable[[], Mapping[str, Sequence[Usage]]]
    batch_tests_running: Callable[[], int]
    topics: Callable[[], Sequence[Topic[object]]]
    log_counts: Callable[[], Mapping[str, int]]


def summarise_usage(usage: Mapping[str, Sequence[Usage]]) -> tuple[ExchangeUsage, ...]:
    return tuple(
        ExchangeUsage(
            exchange=exchange,
            accounts=len(accounts),
            busiest=round(max((u.fraction() for u in accounts), default=0.0), 4),
            paused_accounts=sum(1 for u in accounts if u.paused_for > 0),
            in_flight=sum(u.in_flight for u in accounts),
        )
        for exchange, accounts in sorted(usage.items())
    )


def band_of(view: ConnectionView) -> str:
    """The band of the connection's health score, "unknown" without one."""
    score = view.health.score if view.health is not None else None
    return score.band.value if score is not None else "unknown"


def _counted(values: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


class StatusBoard:
    def __init__(
        self,
        sources: StatusSources,
        db: Database,
        topic: Topic[SystemStatus],
        *,
        heartbeat_seconds: float,
        interval_seconds: float = 1.0,
    ) -> None:
        self._sources = sources
        self._db = db
        self.topic = topic
        self._heartbeat = heartbeat_seconds
        self._interval = interval_seconds
        self.started_at = datetime.now(UTC)
        self._version = cts_version()
        self._storage = StorageState(db.dialect, True, 0.0, None)
        self._last: SystemStatus | None = None
        self._watchers = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._probe_storage(), name="status-storage"),
            asyncio.create_task(self._publish_changes(), name="status-publish"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)

    def current(self) -> SystemStatus:
        s = self._sources
        views = s.connections()
        engines = s.engines()
        return SystemStatus(
            version=self._version,
            started_at=self.started_at,
            storage=self._storage,
            connections=len(views),
            connections_by_exchange=_counted([v.exchange for v in views]),
            connections_by_api_type=_counted([v.api_type for v in views]),
            enabled=sum(1 for v in views if v.is_enabled),
            active=sum(1 for v in views if v.is_enabled and v.is_active),
            live_trading=sum(1 for v in views if v.is_live_trade),
            engines_by_state=_counted([e.state.value for e in engines]),
            health_by_band=_counted([band_of(v) for v in views if v.is_enabled]),
            rate_usage=summarise_usage(s.usage()),
            batch_tests_running=s.batch_tests_running(),
            subscribers={t.name: t.subscriber_count for t in s.topics()},
            log_entries_last_hour=dict(s.log_counts()),
            computed_at=datetime.now(UTC),
        )

    async def watch(self) -> AsyncIterator[SystemStatus | None]:
        """The status now, then each change (at most one a second); None as a heartbeat."""
        subscription, _ = self.topic.subscribe()
        self._watchers.set()
        try:
            last = self.current()
            yield last
            while True:
                item = await subscription.next(timeout=self._heartbeat)
                if item is None:
                    yield None
                elif isinstance(item, Closed):
                    return
                elif isinstance(item, Overflow):
                    subscription.restart(self.topic.revision)
                    last = self.current()
                    yield last
                elif not item.current.same_as(last):
                    last = item.current
                    yield last
        finally:
            subscription.close()

    async def _publish_changes(self) -> None:
        while True:
            if not self.topic.subscriber_count:
                self._watchers.clear()
                await self._watchers.wait()
            status = self.current()
            if not status.same_as(self._last):
                self._last = status
                self.topic.publish("system", status)
            await asyncio.sleep(self._interval)  # the coalescing window itself

    async def _probe_storage(self) -> None:
        while True:
            self._storage = await self.probe_storage()
            await asyncio.sleep(STORAGE_PROBE_SECONDS)

    async def probe_storage(self) -> StorageState:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(STORAGE_PROBE_TIMEOUT):
                await self._db.read(lambda s: s.execute(text("select 1")).scalar())
        except Exception as exc:
            error = "timed out" if isinstance(exc, TimeoutError) else "not reachable"
            return StorageState(self._db.dialect, False, 0.0, datetime.now(UTC), error)
        latency = round((time.perf_counter() - started) * 1000, 2)
        return StorageState(self._db.dialect, True, latency, datetime.now(UTC))
