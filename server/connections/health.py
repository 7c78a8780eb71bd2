"""Connection health: what checks and exchange calls say about each connection's account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from server.exchange.access import AccountHealth
from server.exchange.breaker import CircuitState

# Limits this full (0..1) make a connection "degraded".
BUSY_FRACTION = 0.8


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RateUsage:
    last_second: int
    per_second: int
    last_minute: int
    per_minute: int
    in_flight: int
    concurrent: int
    paused_seconds: float


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    status: HealthStatus
    last_check_at: datetime | None
    last_check_result: str
    average_response_ms: float
    success_count: int
    error_count: int
    uptime_percent: float
    rate: RateUsage
    circuit_state: str
    check_count: int
    last_error: str


@dataclass
class CheckRecord:
    """The checks (health checks and tests) of one connection since the server started."""

    count: int = 0
    passed: int = 0
    consecutive_failures: int = 0
    last_at: datetime | None = None
    last_result: str = ""

    def record(self, at: datetime, result: str) -> None:
        self.count += 1
        self.last_at = at
        self.last_result = result
        if result == "ok":
            self.passed += 1
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1


def assess(checks: CheckRecord, account: AccountHealth) -> ConnectionHealth:
    """One connection's health from its checks and its account's call statistics."""
    usage = account.usage
    if checks.count == 0 and account.successes + account.errors == 0:
        status = HealthStatus.UNKNOWN
    elif account.circuit is CircuitState.OPEN or checks.consecutive_failures >= 3:
        status = HealthStatus.DOWN
    elif (
        checks.consecutive_failures > 0
        or account.circuit is CircuitState.HALF_OPEN
        or usage.fraction() >= BUSY_FRACTION
        or usage.paused_for > 0
    ):
        status = HealthStatus.DEGRADED
    else:
        status = HealthStatus.HEALTHY
    return ConnectionHealth(
        status=status,
        last_check_at=checks.last_at,
        last_check_result=checks.last_result,
        average_response_ms=round(account.average_ms, 3),
        success_count=account.successes,
        error_count=account.errors,
        uptime_percent=round(100.0 * checks.passed / checks.count, 2) if checks.count else 0.0,
        rate=RateUsage(
            last_second=usage.last_second,
            per_second=usage.limits.per_second,
            last_minute=usage.last_minute,
            per_minute=usage.limits.per_minute,
            in_flight=usage.in_flight,
            concurrent=usage.limits.concurrent,
            paused_seconds=round(usage.paused_for, 3),
        ),
        circuit_state=account.circuit.value,
        check_count=checks.count,
        last_error=account.last_error,
    )
