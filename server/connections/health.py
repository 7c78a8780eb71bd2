"""Connection health: what checks, exchange calls and the engine's market data say about each
connection."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from server.exchange.access import AccountHealth
from server.exchange.breaker import CircuitState
from server.monitoring.score import CHECK_WINDOW, HealthScore, ScoreInputs, health_score

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
    exchange_circuit_state: str = CircuitState.CLOSED.value
    stale_since: datetime | None = None  # the connection's engine trades on prices this old
    reasons: tuple[str, ...] = ()  # why it is not healthy, in words
    score: HealthScore | None = None  # None: no data yet (see server.monitoring.score)


@dataclass
class CheckRecord:
    """The checks (health checks and tests) of one connection since the server started."""

    count: int = 0
    passed: int = 0
    consecutive_failures: int = 0
    last_at: datetime | None = None
    last_result: str = ""
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=CHECK_WINDOW))

    def record(self, at: datetime, result: str) -> None:
        self.count += 1
        self.last_at = at
        self.last_result = result
        self.recent.append(result)
        if result == "ok":
            self.passed += 1
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1


def assess(
    checks: CheckRecord,
    account: AccountHealth,
    *,
    exchange: str = "",
    exchange_circuit: CircuitState = CircuitState.CLOSED,
    exchange_latest_failure: str = "",
    stale_since: datetime | None = None,
) -> ConnectionHealth:
    """One connection's health (a pure function of its inputs).

    Inputs: the connection's checks (health checks and tests), its account's call statistics
    and circuit, the circuit of its exchange's public account (market data; open means the
    exchange is down for everyone on it, whoever's key they use) and how that account's latest
    call failed, and since when its engine's prices are stale (None: fresh, or no engine).
    Its health score is :func:`server.monitoring.score.health_score` of the same inputs.

    - ``down``: its account's circuit or the exchange's is open or half-open (a half-open
      circuit is still failing as far as anyone knows: it is probing, and only a successful
      probe closes it — so health does not flap at every cool-down), or its last three checks
      failed;
    - ``degraded``: its last check failed, a limit is at least 80 % full, the account is paused
      after a 429, or its engine's prices are stale;
    - ``unknown``: never checked or called, and nothing above applies;
    - ``healthy``: otherwise.
    """
    usage = account.usage
    down: list[str] = []
    degraded: list[str] = []
    name = exchange or "the exchange"
    if account.circuit is not CircuitState.CLOSED:
        down.append(f"calls paused after repeated failures (circuit {_words(account.circuit)})")
    if exchange_circuit is not CircuitState.CLOSED:
        down.append(
            f"{name} is unreachable: its market data fails (circuit {_words(exchange_circuit)})"
        )
    if checks.consecutive_failures >= 3:
        down.append(f"the last {checks.consecutive_failures} checks failed")
    elif checks.consecutive_failures > 0:
        degraded.append(f"the last check failed ({checks.last_result})")
    if usage.fraction() >= BUSY_FRACTION:
        degraded.append("rate limits nearly full")
    if usage.paused_for > 0:
        degraded.append("paused after a rate-limit answer")
    if stale_since is not None:
        degraded.append(f"engine prices stale since {stale_since:%Y-%m-%d %H:%M:%S} UTC")
    if down:
        status = HealthStatus.DOWN
    elif degraded:
        status = HealthStatus.DEGRADED
    elif checks.count == 0 and account.successes + account.errors == 0:
        status = HealthStatus.UNKNOWN
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
        exchange_circuit_state=exchange_circuit.value,
        stale_since=stale_since,
        reasons=tuple(down + degraded),
        score=health_score(
            ScoreInputs(
                exchange,
                usage,
                calls=account.recent,
                checks=tuple(checks.recent),
                circuit=account.circuit,
                exchange_circuit=exchange_circuit,
                exchange_latest_failure=exchange_latest_failure,
            )
        ),
    )


def _words(state: CircuitState) -> str:
    return "open" if state is CircuitState.OPEN else "half-open, probing"
