"""Connections as an operator watches them: each one's state, health and engine in one row,
and the comprehensive report (everything at once, for a monitoring screen or a script)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from server.connections.view import ConnectionView
from server.engine.status import EngineStatus
from server.exchange.breaker import CircuitState
from server.monitoring.logs.entry import LogEntry
from server.monitoring.status import SystemStatus

RECENT_ERRORS = 50


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """One connection: switches, health, its engine's state and progress, open positions."""

    view: ConnectionView
    engine: EngineStatus

    @property
    def state(self) -> str:
        """disabled, inactive (enabled, not on the active list) or active."""
        if not self.view.is_enabled:
            return "disabled"
        return "active" if self.view.is_active else "inactive"

    @property
    def health_status(self) -> str:
        return self.view.health.status.value if self.view.health else "unknown"

    @property
    def last_error(self) -> str:
        """The engine's error, else its last live-order error, else the last failed check's."""
        if self.engine.error:
            return self.engine.error
        if self.engine.trading.last_live_error:
            return self.engine.trading.last_live_error
        health = self.view.health
        return health.last_error if health is not None and health.last_check_result != "ok" else ""


def connection_statuses(
    views: Sequence[ConnectionView],
    engine_of: Callable[[str], EngineStatus],
    *,
    active_only: bool,
) -> list[ConnectionStatus]:
    return [
        ConnectionStatus(view, engine_of(str(view.id)))
        for view in views
        if not active_only or (view.is_enabled and view.is_active)
    ]


@dataclass(frozen=True, slots=True)
class ExchangeInUse:
    exchange: str
    connection_ids: tuple[str, ...]
    circuit: str  # the exchange's public circuit: closed, open, half_open


@dataclass(frozen=True, slots=True)
class ComprehensiveReport:
    system: SystemStatus
    exchanges: tuple[ExchangeInUse, ...]
    open_pseudo: int
    open_live: int
    closed_pseudo: int
    closed_live: int
    trades: int
    live_orders: int
    failed_orders: int
    recent_errors: tuple[LogEntry, ...]
    connections: tuple[ConnectionStatus, ...]
    generated_at: datetime


def comprehensive(
    system: SystemStatus,
    statuses: Sequence[ConnectionStatus],
    recent_errors: Sequence[LogEntry],
    exchange_circuit: Callable[[str], CircuitState],
) -> ComprehensiveReport:
    """Everything at once. Exchanges in use: those of enabled connections."""
    by_exchange: dict[str, list[str]] = {}
    for status in statuses:
        if status.view.is_enabled:
            by_exchange.setdefault(status.view.exchange, []).append(str(status.view.id))
    totals: Counter[str] = Counter()
    for status in statuses:
        trading = status.engine.trading
        totals.update(
            open_pseudo=trading.open_pseudo,
            open_live=trading.open_live,
            closed_pseudo=trading.closed_pseudo,
            closed_live=trading.closed_live,
            trades=trading.trades,
            live_orders=trading.live_orders,
            failed_orders=trading.failed_orders,
        )
    return ComprehensiveReport(
        system=system,
        exchanges=tuple(
            ExchangeInUse(exchange, tuple(ids), exchange_circuit(exchange).value)
            for exchange, ids in sorted(by_exchange.items())
        ),
        open_pseudo=totals["open_pseudo"],
        open_live=totals["open_live"],
        closed_pseudo=totals["closed_pseudo"],
        closed_live=totals["closed_live"],
        trades=totals["trades"],
        live_orders=totals["live_orders"],
        failed_orders=totals["failed_orders"],
        recent_errors=tuple(recent_errors[:RECENT_ERRORS]),
        connections=tuple(statuses),
        generated_at=datetime.now(UTC),
    )
