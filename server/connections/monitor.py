"""Health of connections: periodic checks, circuit changes, and what clients see of both.

Every ``interval`` the enabled connections are checked (server time, and the balance when
credentials are stored) through exchange access, so within each account's limits. A check, a
connection test, a change of any circuit on the connection's exchange, the exchange's public
calls turning to or from maintenance answers, or its engine's prices turning stale or fresh
again recomputes the connection's health and publishes it on the connection stream. Between
those, at most once a second per account (:mod:`server.connections.pushes`): after the
account's calls, its connections whose health score or band changed; and when its rate-limit
usage settles (a window runs empty, a 429 pause ends; every second while the limits are more
than half full), its connections' health with the usage as it is then. The monitor also follows
the connection stream: a deleted connection's exchange session is closed, and a connection that
is switched on is checked at once.

Recovery: when an account's circuit opens, and (while the monitor runs) after any check that
failed for reasons that say nothing against the key (an outage, a rate limit, clock skew), the
monitor checks the connection again every circuit cool-down — right after an opening, that
check is the circuit's probe — until a check passes or fails for the key's own reasons (bad
credentials, say). So an account recovers by itself after an outage even when nothing else
calls it; the exchange's public account (market data) is probed by the market feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from server.connections.health import CheckRecord, ConnectionHealth, assess
from server.connections.pushes import HealthPushes
from server.connections.rules import connection_filter
from server.connections.service import Connections
from server.connections.view import ConnectionFilter, ConnectionView
from server.exchange.access import AccountHealth, ExchangeAccess, Target, public_account_id
from server.exchange.breaker import CircuitState
from server.exchange.errors import EXCHANGE_SIDE, ExchangeError, ExchangeFailure
from server.exchange.model import ServerTime
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category
from server.monitoring.score import HALF_FULL
from server.streams.follow import follow
from server.streams.topic import Change, Topic

log = logging.getLogger("cts.health")

_MAINTENANCE = ExchangeFailure.MAINTENANCE.value

# Check results that say nothing against the key (the exchange, the way to it or the clocks
# failed): the connection is checked again by itself until a check passes.
_RECHECK = frozenset(
    f.value
    for f in (
        *EXCHANGE_SIDE,
        ExchangeFailure.CIRCUIT_OPEN,
        ExchangeFailure.RATE_LIMITED,
        ExchangeFailure.CLOCK_SKEW,
    )
)


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
        self._clock_offsets: dict[str, int] = {}  # exchange -> last measured offset (ms)
        self._tasks: set[asyncio.Task[None]] = set()
        self._rechecking: set[uuid.UUID] = set()  # connections to be checked again
        self._pushes = HealthPushes(self._push_account, self._spawn)
        self._maintenance: dict[str, bool] = {}  # exchange → its latest public call said so
        self._exchanges_due: set[str] = set()  # every connection on these is to be recomputed
        self._started = False
        self._stopped = False
        #: Since when a connection's engine trades on stale prices (None: fresh or no engine).
        self.stale_since: Callable[[uuid.UUID], datetime | None] = lambda _: None

    # -- what clients ask ---------------------------------------------------------------------

    def health_of(self, view: ConnectionView) -> ConnectionHealth:
        """The connection's health now (computed fresh from checks and account statistics)."""
        return self._assess(view, self._access.health_of_connection(str(view.id), view.exchange))

    def _assess(self, view: ConnectionView, account: AccountHealth) -> ConnectionHealth:
        return assess(
            self._checks.get(view.id, CheckRecord()),
            account,
            exchange=view.exchange,
            exchange_circuit=self._access.exchange_circuit(view.exchange),
            exchange_latest_failure=self._access.latest_failure(public_account_id(view.exchange)),
            stale_since=self.stale_since(view.id),
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

    def clock_offsets(self) -> Mapping[str, int | None]:
        """The last clock offset measured (ms, exchange minus CTS) of every exchange a check or a
        test reached since the server started; the simulator's dialects are named apart
        (``binance (simulator)``), since its clock is this machine's."""
        return dict(self._clock_offsets)

    def record_clock(self, target: Target, clock: ServerTime) -> None:
        """Keep the exchange's clock offset as a check or a test just measured it."""
        name = f"{target.exchange} (simulator)" if target.simulated else target.exchange
        self._clock_offsets[name] = round(clock.drift_ms)

    # -- checks -------------------------------------------------------------------------------

    async def record_check(self, connection_id: uuid.UUID, result: str) -> None:
        """Count a check (a health check or a test) and publish the new health."""
        self._checks.setdefault(connection_id, CheckRecord()).record(datetime.now(UTC), result)
        await self.publish(connection_id)
        if self._started and result in _RECHECK:
            self._check_again(connection_id)

    async def publish(self, connection_id: uuid.UUID, *, score_only: bool = False) -> None:
        """Recompute the connection's health and publish it if it changed (``score_only``: only
        if its score or band changed); either way, have it pushed again when its account's
        usage settles.

        Either way: a push may have published usage while a request was under way (whose end
        is an event, so no settling time was due then); the push after that request's call
        publishes nothing new when the score stayed, but its windows still run empty later,
        and the bars must show it."""
        view = await self._connections.get(str(connection_id))
        account = self._access.health_of_connection(str(view.id), view.exchange)
        health = self._assess(view, account)
        if not score_only or _score_of(view.health) != _score_of(health):
            await self._connections.record_health(connection_id, health)
        account_id = self._access.account_of(str(view.id))
        # Time, not an event, ends a pause and empties the windows; while the limits are more
        # than half full, every request leaving a window moves the score's headroom.
        settles = 1.0 if account.usage.fraction() > HALF_FULL else account.settles_in
        if account_id is not None and settles is not None:
            self._pushes.ask(account_id, score_only=False, in_seconds=settles)

    def calls_counted(self, account_id: str) -> None:
        """Told by exchange access after each call of an account: its connections' scores are
        recomputed (coalesced, at most once a second), and when the exchange's public calls
        turn to or from maintenance answers, every connection on it."""
        self._pushes.ask(account_id, score_only=True)
        exchange = account_id.split(":", 1)[0]
        if account_id == public_account_id(exchange):
            maintenance = self._access.latest_failure(account_id) == _MAINTENANCE
            if maintenance != self._maintenance.get(exchange, False):
                self._maintenance[exchange] = maintenance
                self._publish_exchange_soon(exchange)

    async def _push_account(self, account_id: str, score_only: bool) -> None:
        for connection_id in sorted(_connection_ids(set(self._access.users_of(account_id)))):
            with contextlib.suppress(Exception):  # deleted meanwhile
                await self.publish(connection_id, score_only=score_only)

    def _check_again(self, connection_id: uuid.UUID) -> None:
        if connection_id not in self._rechecking:
            self._rechecking.add(connection_id)
            self._spawn(self._recheck(connection_id))

    async def _recheck(self, connection_id: uuid.UUID) -> None:
        """Check the connection again every circuit cool-down (when an opened circuit lets its
        probe through) until a check passes or fails for the key's own reasons: back to
        healthy within a cool-down of the fault's end."""
        try:
            while True:
                await asyncio.sleep(self._access.config.breaker_cooldown_seconds)
                try:
                    result = await self.check(connection_id)
                except Exception:  # the connection is gone
                    return
                if result not in _RECHECK:
                    return
        finally:
            self._rechecking.discard(connection_id)

    async def check(self, connection_id: uuid.UUID) -> str:
        """One health check: "ok" or the kind of failure."""
        async with self._slots:
            try:
                target = await self._connections.target(str(connection_id))
                clock = await self._access.call(target, lambda a: a.server_time())
                self.record_clock(target, clock)
                if target.credentials is not None:
                    await self._access.call(target, lambda a: a.balances())
                result = "ok"
            except ExchangeError as error:
                result = error.failure.value
                log.warning(
                    "health check failed: %s",
                    error.message,
                    extra=about(str(connection_id), Category.HEALTH, failure=result),
                )
            else:
                log.debug("health check passed", extra=about(str(connection_id), Category.HEALTH))
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
        self, account_id: str, connection_ids: set[str], state: CircuitState
    ) -> None:
        """Told by exchange access (synchronously) when an account's circuit changes: the
        account's connections get their health recomputed (its circuit is part of it) — and
        every connection on the exchange when it is the exchange's public account, whose
        circuit is part of each one's health. An opened account is probed back to health
        through one of its connections (whether or not periodic checks run).

        Only the public account's change concerns the whole exchange: with a thousand
        connections, recomputing every one on the exchange for each account's change made a
        wave of engine timeouts (each opening its account's circuit) a storm of
        recomputations that kept the server too busy to answer, and so made more timeouts."""
        exchange = account_id.split(":", 1)[0]
        ids = sorted(_connection_ids(connection_ids))
        if account_id == public_account_id(exchange):
            self._publish_exchange_soon(exchange)
        else:
            for connection_id in ids:
                self._spawn(self._quiet_publish(connection_id))
        if state is CircuitState.OPEN and ids:
            self._check_again(ids[0])

    def stale_changed(self, connection_id: uuid.UUID) -> None:
        """The connection's engine prices turned stale or fresh again."""
        self._spawn(self._quiet_publish(connection_id))

    def _publish_exchange_soon(self, exchange: str) -> None:
        """Recompute every connection on the exchange, once for the changes told meanwhile."""
        if exchange not in self._exchanges_due:
            self._exchanges_due.add(exchange)
            self._spawn(self._publish_exchange(exchange))

    async def _publish_exchange(self, exchange: str) -> None:
        self._exchanges_due.discard(exchange)  # a change from now on is published again
        for view in await self._connections.all():
            if view.exchange == exchange:
                await self._quiet_publish(view.id)

    async def _quiet_publish(self, connection_id: uuid.UUID) -> None:
        with contextlib.suppress(Exception):  # deleted meanwhile
            await self.publish(connection_id)

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        self._started = True
        self._spawn(self._periodic())
        self._spawn(self._follow_connections())

    async def stop(self) -> None:
        self._stopped = True
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
        if self._stopped:  # shutting down: nothing new starts
            work.close()
            return
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _score_of(health: ConnectionHealth | None) -> tuple[int, str] | None:
    score = health.score if health is not None else None
    return (score.value, score.band.value) if score is not None else None


def _connection_ids(ids: set[str]) -> set[uuid.UUID]:
    """The connections among an account's users (a market feed's id is no connection's)."""
    found = set()
    for value in ids:
        try:
            found.add(uuid.UUID(value))
        except ValueError:
            continue
    return found
