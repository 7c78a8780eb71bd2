"""Health of connections: periodic checks, circuit changes, and what clients see of both.

Every ``interval`` the enabled connections are checked (server time, and the balance when
credentials are stored) through exchange access, so within each account's limits. A check, a
connection test, or a change of an account's circuit state recomputes the connection's health
and publishes it on the connection stream. The monitor also follows the connection stream: a
deleted connection's exchange session is closed, and a connection that is switched on is
checked at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from server.connections.health import CheckRecord, ConnectionHealth, assess
from server.connections.service import Connections, connection_filter
from server.connections.view import ConnectionFilter, ConnectionView
from server.exchange.access import ExchangeAccess
from server.exchange.breaker import CircuitState
from server.exchange.errors import ExchangeError
from server.streams.follow import follow
from server.streams.topic import Change, Topic

log = logging.getLogger("cts.health")


class HealthMonitor:
    def __init__(
        self,
        connections: Connections,
        access: ExchangeAccess,
        connection_topic: Topic[ConnectionView],
        *,
        interval_seconds: float = 300.0,
        concurrency: int = 10,
    ) -> None:
        self._connections = connections
        self._access = access
        self._topic = connection_topic
        self._interval = interval_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._checks: dict[uuid.UUID, CheckRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what clients ask ---------------------------------------------------------------------

    def health_of(self, view: ConnectionView) -> ConnectionHealth:
        """The connection's health now (computed fresh from checks and account statistics)."""
        return assess(
            self._checks.get(view.id, CheckRecord()),
            self._access.health_of_connection(str(view.id), view.exchange),
        )

    async def report(
        self, *, connection_id: str | None, exchange: str | None, api_type: str | None
    ) -> list[tuple[ConnectionView, ConnectionHealth]]:
        if connection_id is not None:
            views = [await self._connections.get(connection_id)]
        else:
            where = connection_filter(exchange=exchange, api_type=api_type)
            views = [v for v in await self._connections.all() if where.matches(v)]
        return [(view, self.health_of(view)) for view in views]

    # -- checks -------------------------------------------------------------------------------

    async def record_check(self, connection_id: uuid.UUID, result: str) -> None:
        """Count a check (a health check or a test) and publish the new health."""
        self._checks.setdefault(connection_id, CheckRecord()).record(datetime.now(UTC), result)
        await self.publish(connection_id)

    async def publish(self, connection_id: uuid.UUID) -> None:
        view = await self._connections.get(str(connection_id))
        await self._connections.record_health(connection_id, self.health_of(view))

    async def check(self, connection_id: uuid.UUID) -> str:
        """One health check: "ok" or the kind of failure."""
        async with self._slots:
            try:
                target = await self._connections.target(str(connection_id))
                await self._access.call(target, lambda a: a.server_time())
                if target.credentials is not None:
                    await self._access.call(target, lambda a: a.balances())
                result = "ok"
            except ExchangeError as error:
                result = error.failure.value
        await self.record_check(connection_id, result)
        return result

    async def check_all(self) -> dict[uuid.UUID, str]:
        enabled = [
            v for v in await self._connections.all() if ConnectionFilter(enabled=True).matches(v)
        ]
        results = await asyncio.gather(*(self.check(v.id) for v in enabled), return_exceptions=True)
        return {
            v.id: r if isinstance(r, str) else "error"
            for v, r in zip(enabled, results, strict=True)
        }

    def circuit_changed(
        self, _account_id: str, connection_ids: set[str], state: CircuitState
    ) -> None:
        """Called by exchange access (synchronously) when an account's circuit changes."""
        for connection_id in connection_ids:
            self._spawn(self.publish(uuid.UUID(connection_id)))

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        self._spawn(self._periodic())
        self._spawn(self._follow_connections())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _periodic(self) -> None:
        while True:
            try:
                results = await self.check_all()
                failed = sum(1 for r in results.values() if r != "ok")
                log.info("health checks: %d connections, %d failed", len(results), failed)
            except Exception:
                log.exception("health check round failed")
            await asyncio.sleep(self._interval)  # the check period itself

    async def _follow_connections(self) -> None:
        await follow(self._topic, self._on_change)

    async def _on_change(self, change: Change[ConnectionView]) -> None:
        view, previous = change.current, change.previous
        if change.deleted:
            self._checks.pop(view.id, None)
            await self._access.release(str(view.id))
        elif view.is_enabled and (previous is None or not previous.is_enabled):
            self._spawn(self._quiet_check(view.id))

    async def _quiet_check(self, connection_id: uuid.UUID) -> None:
        with contextlib.suppress(Exception):
            await self.check(connection_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
