"""Where alerts come from: the server's own topics and callbacks, followed as they happen (no
polling). Each source turns what it sees into :class:`AlertEvent` for the alerts domain, and
says when a lasting condition (an engine in error, an open circuit, a poor health band, failing
tests, a failing start-up check, a rate-limit pause) ends, so that it may alert again later.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal

from server.alerts.rules import AlertKind, band_of_score
from server.alerts.service import Alerts
from server.alerts.views import AlertEvent
from server.connections.testing import TestRun, TestStatus
from server.connections.view import ConnectionView
from server.engine.marks import PositionEvent, PositionMarks
from server.engine.positions import Mode, PositionView, Reason, Status
from server.engine.status import EngineState, EngineStatus
from server.exchange.breaker import CircuitState
from server.monitoring.check import CheckStatus
from server.monitoring.startup import StartupReport
from server.streams.follow import follow
from server.streams.topic import Change, Topic

ENGINE, CIRCUIT, HEALTH, TEST, RATE_LIMIT = "engine", "circuit", "health", "test", "rate_limit"
# After a rate-limit pause, this long without another ends the condition.
RATE_LIMIT_CALM_SECONDS = 60.0


def _money(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) or "0"


class AlertSources:
    """Follows the server's topics and callbacks for ``alerts``; ``name_of`` gives a
    connection's name for the alert's words."""

    def __init__(self, alerts: Alerts, name_of: Callable[[str], str]) -> None:
        self._alerts = alerts
        self._name_of = name_of
        self._in_error: set[str] = set()
        self._open_circuits: set[str] = set()
        self._bands: dict[str, str] = {}
        self._order_counts: dict[str, tuple[int, int]] = {}
        self._failing_checks: set[str] = set()
        self._calm: dict[str, asyncio.TimerHandle] = {}
        self._seen = SeenPositions()
        self._tasks: list[asyncio.Task[None]] = []

    def follow(
        self,
        *,
        engines: Topic[EngineStatus],
        connections: Topic[ConnectionView],
        tests: Topic[TestRun],
        positions: Topic[PositionEvent],
    ) -> None:
        """Start following the topics (ends when they close)."""
        self._tasks += [
            asyncio.ensure_future(follow(engines, self._engine)),
            asyncio.ensure_future(follow(connections, self._connection)),
            asyncio.ensure_future(follow(tests, self._test)),
            asyncio.ensure_future(follow(positions, self._position)),
        ]

    async def stop(self) -> None:
        for handle in self._calm.values():
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _name(self, connection_id: str) -> str:
        return self._name_of(connection_id) or connection_id

    # -- engines --------------------------------------------------------------------------------

    async def _engine(self, change: Change[EngineStatus]) -> None:
        status = change.current
        cid = status.connection_id
        if status.state is EngineState.ERROR:
            if cid not in self._in_error:
                self._in_error.add(cid)
            await self._alerts.raise_event(
                AlertEvent(
                    AlertKind.ENGINE_ERROR,
                    f"Engine error: {self._name(cid)}",
                    status.error or "the engine stopped with an error",
                    cid,
                    ENGINE,
                    {"attempts": str(status.attempts)},
                )
            )
        elif cid in self._in_error and status.state in (EngineState.RUNNING, EngineState.STOPPED):
            self._in_error.discard(cid)
            self._alerts.clear(AlertKind.ENGINE_ERROR, cid, ENGINE)
            if status.state is EngineState.RUNNING:
                await self._alerts.raise_event(
                    AlertEvent(
                        AlertKind.ENGINE_RECOVERED,
                        f"Engine recovered: {self._name(cid)}",
                        "the engine is running again",
                        cid,
                    )
                )
        await self._orders(cid, status)

    async def _orders(self, cid: str, status: EngineStatus) -> None:
        """Failed and unresolved live orders: their counts grow (a restart resets them)."""
        trading = status.trading
        now = (trading.failed_orders, trading.unresolved_orders)
        failed_before, unresolved_before = self._order_counts.get(cid, (0, 0))
        self._order_counts[cid] = now
        reason = trading.last_live_error or "unknown"
        for kind, count, before, words in (
            (AlertKind.LIVE_ORDER_FAILED, now[0], failed_before, "failed"),
            (AlertKind.LIVE_ORDER_UNRESOLVED, now[1], unresolved_before, "unresolved"),
        ):
            for _ in range(max(0, count - before)):
                await self._alerts.raise_event(
                    AlertEvent(
                        kind,
                        f"Live order {words}: {self._name(cid)}",
                        reason
                        if kind is AlertKind.LIVE_ORDER_FAILED
                        else f"its outcome is unknown; check the exchange ({reason})",
                        cid,
                        details={"reason": reason},
                    )
                )

    # -- circuits and rate limits (told synchronously by exchange access) ----------------------

    def circuit_changed(
        self, account_id: str, connection_ids: set[str], state: CircuitState
    ) -> None:
        exchange = account_id.split(":", 1)[0]
        subjects = sorted(_connections(connection_ids)) or [""]
        for cid in subjects:
            key = f"{account_id}|{cid}"
            if state is CircuitState.OPEN and key not in self._open_circuits:
                self._open_circuits.add(key)
                about = self._name(cid) if cid else f"{exchange} (market data)"
                self._alerts.spawn(
                    self._alerts.raise_event(
                        AlertEvent(
                            AlertKind.CIRCUIT_OPEN,
                            f"Circuit open: {about}",
                            f"calls to {exchange} are paused after repeated failures",
                            cid,
                            f"{CIRCUIT}:{account_id}",
                            {"exchange": exchange},
                        )
                    )
                )
            elif state is CircuitState.CLOSED and key in self._open_circuits:
                self._open_circuits.discard(key)
                self._alerts.clear(AlertKind.CIRCUIT_OPEN, cid, f"{CIRCUIT}:{account_id}")
                about = self._name(cid) if cid else f"{exchange} (market data)"
                self._alerts.spawn(
                    self._alerts.raise_event(
                        AlertEvent(
                            AlertKind.CIRCUIT_CLOSED,
                            f"Circuit closed: {about}",
                            f"calls to {exchange} go out again",
                            cid,
                            details={"exchange": exchange},
                        )
                    )
                )

    def rate_limit_paused(self, exchange: str, connection_id: str, seconds: float) -> None:
        """One alert per stretch of pauses: the condition ends once the account has gone
        ``RATE_LIMIT_CALM_SECONDS`` past its last pause without another."""
        cid = connection_id if _is_connection(connection_id) else ""
        loop = asyncio.get_running_loop()
        pending = self._calm.pop(cid, None)
        if pending is not None:
            pending.cancel()
        self._calm[cid] = loop.call_later(
            max(seconds, 0.0) + RATE_LIMIT_CALM_SECONDS, self._calm_again, cid
        )
        if self._alerts.active(AlertKind.RATE_LIMIT_PAUSE, cid, RATE_LIMIT):
            return
        self._alerts.spawn(
            self._alerts.raise_event(
                AlertEvent(
                    AlertKind.RATE_LIMIT_PAUSE,
                    f"Rate limited: {self._name(cid) if cid else exchange}",
                    f"{exchange} answered 429: calls paused for {seconds:.1f} s",
                    cid,
                    RATE_LIMIT,
                    {"exchange": exchange, "pause_seconds": f"{seconds:.3f}"},
                )
            )
        )

    def _calm_again(self, connection_id: str) -> None:
        self._calm.pop(connection_id, None)
        self._alerts.clear(AlertKind.RATE_LIMIT_PAUSE, connection_id, RATE_LIMIT)

    # -- health and tests ----------------------------------------------------------------------

    async def _connection(self, change: Change[ConnectionView]) -> None:
        view = change.current
        cid = str(view.id)
        if change.deleted:
            self._bands.pop(cid, None)
            await self._alerts.forget_connection(cid)
            return
        score = view.health.score if view.health is not None else None
        if score is None:
            return
        band = band_of_score(score.value)
        if self._bands.get(cid) == band:
            return
        self._bands[cid] = band
        await self._alerts.raise_event(
            AlertEvent(
                AlertKind.HEALTH_BELOW,
                f"Health {band.value}: {view.name}",
                f"health score {score.value} ({score.band.value})"
                + (f": {score.gate_reason}" if score.gate_reason else ""),
                cid,
                HEALTH,
                {"score": str(score.value), "band": band.value},
                band=band.value,
            )
        )

    async def _test(self, change: Change[TestRun]) -> None:
        result = change.current.result
        if result is None:
            return
        cid = result.connection_id
        if result.status is not TestStatus.FAILED:
            self._alerts.clear(AlertKind.CONNECTION_TEST_FAILED, cid, TEST)
            return
        await self._alerts.raise_event(
            AlertEvent(
                AlertKind.CONNECTION_TEST_FAILED,
                f"Connection test failed: {self._name(cid)}",
                result.error_message or result.error_reason or "the test failed",
                cid,
                TEST,
                {"reason": result.error_reason, "test_id": result.test_id},
            )
        )

    # -- live positions ------------------------------------------------------------------------

    async def _position(self, change: Change[PositionEvent]) -> None:
        """Live positions only (pseudo ones are the engine's paper trades; re-marks are no
        news). Positions are published without their previous state, so which were seen open is
        kept here."""
        position = change.current
        if isinstance(position, PositionMarks) or position.mode is not Mode.LIVE:
            return
        cid = position.connection_id
        side = "long" if position.side > 0 else "short"
        details = {"symbol": position.symbol, "side": side, "position_id": str(position.id)}
        if position.status is Status.OPEN:
            if position.state.quantity and self._seen.add(position.id, "open"):
                await self._opened(position, side, details)
            return
        if position.close_reason == Reason.ORDER_FAILED.value:
            return  # it never opened: the failed order is the alert
        if not self._seen.add(position.id, "closed"):
            return
        pnl = _money(position.realized_pnl)
        details |= {
            "realized_pnl": pnl,
            "exit_price": _money(position.exit_price),
            "close_reason": position.close_reason or "",
        }
        await self._alerts.raise_event(
            AlertEvent(
                AlertKind.LIVE_POSITION_CLOSED,
                f"Live position closed: {position.symbol} {side}",
                f"{self._name(cid)}: realized PnL {pnl} ({position.close_reason})",
                cid,
                details=details,
            )
        )
        if position.close_reason == Reason.STOP_LOSS.value:
            await self._alerts.raise_event(
                AlertEvent(
                    AlertKind.STOP_LOSS_HIT,
                    f"Stop loss hit: {position.symbol} {side}",
                    f"{self._name(cid)}: closed at {details['exit_price']}, realized PnL {pnl}",
                    cid,
                    details=details,
                )
            )

    async def _opened(self, position: PositionView, side: str, details: dict[str, str]) -> None:
        details |= {
            "quantity": _money(position.state.quantity),
            "entry_price": _money(position.state.average_price),
            "notional": _money(position.notional),
        }
        await self._alerts.raise_event(
            AlertEvent(
                AlertKind.LIVE_POSITION_OPENED,
                f"Live position opened: {position.symbol} {side}",
                f"{self._name(position.connection_id)}: {details['quantity']} {position.symbol} "
                f"at {details['entry_price']}",
                position.connection_id,
                details=details,
            )
        )

    # -- start-up checks -----------------------------------------------------------------------

    def startup_report(self, report: StartupReport) -> None:
        """A check that fails and was not failing raises an alert; one that passes again may
        raise one later."""
        for check in report.checks:
            if check.status is CheckStatus.FAIL:
                if check.name in self._failing_checks:
                    continue
                self._failing_checks.add(check.name)
                self._alerts.spawn(
                    self._alerts.raise_event(
                        AlertEvent(
                            AlertKind.STARTUP_CHECK_FAILED,
                            f"Start-up check failed: {check.name}",
                            check.detail,
                            condition=f"check:{check.name}",
                            details={"check": check.name},
                        )
                    )
                )
            elif check.name in self._failing_checks:
                self._failing_checks.discard(check.name)
                self._alerts.clear(AlertKind.STARTUP_CHECK_FAILED, "", f"check:{check.name}")


class SeenPositions:
    """Which live positions were alerted as open or closed (the most recent 10,000)."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[uuid.UUID, str], None] = OrderedDict()

    def add(self, position_id: uuid.UUID, what: str) -> bool:
        """True the first time (``position_id``, ``what``) is added."""
        key = (position_id, what)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.LIMIT:
            self._seen.popitem(last=False)
        return True


def _is_connection(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _connections(ids: set[str]) -> set[str]:
    return {i for i in ids if _is_connection(i)}
