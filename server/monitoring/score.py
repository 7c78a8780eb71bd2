"""The health score of a connection: a whole number 0-100, its band, and its components.

    score = round_half_up(100 * gate * (0.35*errors + 0.25*latency + 0.20*headroom + 0.20*uptime))

Every term is in [0, 1] and comes with a reason in words. The arithmetic is exact (fractions)
and the result is rounded half up to a whole number. The inputs (:class:`ScoreInputs`) are the
connection's: its account's recent calls, rate-limit usage and circuit, its exchange's circuit
and latest public call, and its checks (health checks and connection tests).

**gate** — 0 when the account's circuit or the exchange's (that of its public account: market
data) is open; when the key was rejected (the connection's last check failed with
``authentication``); or when the exchange is under maintenance (the last check, the account's
latest call or the exchange's latest public call was answered ``maintenance``). 0.5 when a
circuit is half-open (probing: still failing as far as anyone knows) and no 0 applies. Else 1.

**errors** — over the *window*: the account's last 50 calls (every caller's: checks, tests,
engines; a call refused by an open circuit never reached the exchange and is not one). An error
is a call that failed for the exchange's or the connection's sake: unavailable, maintenance,
timeout, bad_response, rate_limited (every 429 answer, retried or not), clock_skew,
authentication, permission. A refusal of the request itself (unknown symbol, insufficient funds,
an invalid, duplicate or unknown order, unsupported, other) is an answer, not an error. With
``e`` errors among ``n`` calls: errors = max(0, 1 - (e / n) / 10 %) — 1 without errors, 0 once
they reach the error budget of 10 % of the calls. No calls: 1.

**latency** — Apdex of the window's successful calls at the exchange's threshold T: a call is
satisfied within T, tolerating within 4T, frustrated beyond; latency = (satisfied + tolerating /
2) / successful calls. A call's time runs from its in-flight place to its end, so waits for the
request windows and after a 429 count. T = 0.5 s for binance, bybit and okx; 1 s for every other
exchange. No successful call: 1.

**headroom** — 0 while the account is paused after a 429; otherwise min(1, 2 * (1 - f)), where f
is the fullest of the account's limits (requests in the last second / per-second limit, in the
last minute / per-minute limit, calls in flight / concurrent limit): full headroom up to half
full, none when full.

**uptime** — the share of the connection's last 12 checks that passed (result ``ok``). No check
yet: 1.

**No data** — a connection that was never checked and whose account made no call has no score
(unknown), unless the gate is below 1.

**Bands**, on the whole number: operational ≥ 90, degraded 70-89, partial_outage 40-69,
major_outage < 40.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from server.exchange.access import CallOutcome
from server.exchange.breaker import CircuitState
from server.exchange.errors import ExchangeFailure
from server.exchange.throttle import Usage

CALL_WINDOW = 50  # the account's last calls that count
CHECK_WINDOW = 12  # the connection's last checks that count
ERROR_BUDGET = Fraction(1, 10)  # errors this share of the calls leave no error term
HALF_FULL = Fraction(1, 2)  # limits up to this full leave the whole headroom
WEIGHTS = {
    "errors": Fraction(35, 100),
    "latency": Fraction(25, 100),
    "headroom": Fraction(20, 100),
    "uptime": Fraction(20, 100),
}
# Apdex threshold T per exchange, in seconds (4T: the end of tolerating).
LATENCY_THRESHOLDS = {"binance": Fraction(1, 2), "bybit": Fraction(1, 2), "okx": Fraction(1, 2)}
DEFAULT_LATENCY_THRESHOLD = Fraction(1)
# Failures that count as errors: the exchange's or the connection's, not the request's.
ERROR_KINDS = frozenset(
    f.value
    for f in (
        ExchangeFailure.UNAVAILABLE,
        ExchangeFailure.MAINTENANCE,
        ExchangeFailure.TIMEOUT,
        ExchangeFailure.BAD_RESPONSE,
        ExchangeFailure.RATE_LIMITED,
        ExchangeFailure.CLOCK_SKEW,
        ExchangeFailure.AUTHENTICATION,
        ExchangeFailure.PERMISSION,
    )
)
_MAINTENANCE = ExchangeFailure.MAINTENANCE.value


class ScoreBand(StrEnum):
    OPERATIONAL = "operational"  # 90-100
    DEGRADED = "degraded"  # 70-89
    PARTIAL_OUTAGE = "partial_outage"  # 40-69
    MAJOR_OUTAGE = "major_outage"  # 0-39


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """What a connection's score is computed from (see the module's docstring)."""

    exchange: str
    usage: Usage
    calls: tuple[CallOutcome, ...] = ()  # the account's recent calls, oldest first
    checks: tuple[str, ...] = ()  # the connection's recent check results, oldest first
    circuit: CircuitState = CircuitState.CLOSED  # the account's
    exchange_circuit: CircuitState = CircuitState.CLOSED  # the exchange's public account's
    exchange_latest_failure: str = ""  # of the public account's latest call ("" succeeded)


@dataclass(frozen=True, slots=True)
class ScoreComponent:
    name: str  # errors, latency, headroom or uptime
    value: float  # 0..1
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class HealthScore:
    value: int  # 0..100
    band: ScoreBand
    gate: float  # 0, 0.5 or 1: multiplies the weighted sum
    gate_reason: str  # why the gate is below 1 ("" when it is 1)
    components: tuple[ScoreComponent, ...]


def health_score(inputs: ScoreInputs) -> HealthScore | None:
    """The connection's score (None: no data yet). The formula is the module's docstring."""
    calls = inputs.calls[-CALL_WINDOW:]
    checks = inputs.checks[-CHECK_WINDOW:]
    gate, gate_reason = _gate(inputs, calls, checks)
    if gate == 1 and not calls and not checks:
        return None
    terms = {
        "errors": _errors(calls),
        "latency": _latency(calls, inputs.exchange),
        "headroom": _headroom(inputs.usage),
        "uptime": _uptime(checks),
    }
    total = 100 * gate * sum(WEIGHTS[name] * value for name, (value, _) in terms.items())
    value = math.floor(total + Fraction(1, 2))
    return HealthScore(
        value=value,
        band=band_of(value),
        gate=float(gate),
        gate_reason=gate_reason,
        components=tuple(
            ScoreComponent(name, float(term), float(WEIGHTS[name]), reason)
            for name, (term, reason) in terms.items()
        ),
    )


def band_of(score: int) -> ScoreBand:
    if score >= 90:
        return ScoreBand.OPERATIONAL
    if score >= 70:
        return ScoreBand.DEGRADED
    if score >= 40:
        return ScoreBand.PARTIAL_OUTAGE
    return ScoreBand.MAJOR_OUTAGE


def latency_threshold(exchange: str) -> Fraction:
    """The exchange's Apdex threshold T, in seconds."""
    return LATENCY_THRESHOLDS.get(exchange, DEFAULT_LATENCY_THRESHOLD)


def _gate(
    inputs: ScoreInputs, calls: tuple[CallOutcome, ...], checks: tuple[str, ...]
) -> tuple[Fraction, str]:
    closed: list[str] = []
    probing: list[str] = []
    exchange = inputs.exchange or "the exchange"
    for state, opened, half_open in (
        (
            inputs.circuit,
            "calls paused after repeated failures (circuit open)",
            "calls probing after repeated failures (circuit half-open)",
        ),
        (
            inputs.exchange_circuit,
            f"{exchange}'s market data fails (exchange circuit open)",
            f"{exchange}'s market data probing after failures (exchange circuit half-open)",
        ),
    ):
        if state is CircuitState.OPEN:
            closed.append(opened)
        elif state is CircuitState.HALF_OPEN:
            probing.append(half_open)
    last_check = checks[-1] if checks else ""
    if last_check == ExchangeFailure.AUTHENTICATION.value:
        closed.append("the exchange rejected the API key at the last check")
    latest = calls[-1].failure if calls else ""
    if _MAINTENANCE in (last_check, latest, inputs.exchange_latest_failure):
        closed.append(f"{exchange} is under maintenance")
    if closed:
        return Fraction(0), "; ".join(closed)
    if probing:
        return Fraction(1, 2), "; ".join(probing)
    return Fraction(1), ""


def _errors(calls: tuple[CallOutcome, ...]) -> tuple[Fraction, str]:
    budget = f"error budget {_percent(ERROR_BUDGET)}"
    if not calls:
        return Fraction(1), f"no calls yet ({budget})"
    kinds = Counter(c.failure for c in calls if c.failure in ERROR_KINDS)
    errors = sum(kinds.values())
    rate = Fraction(errors, len(calls))
    last = f"the last {len(calls)} calls" if len(calls) > 1 else "the last call"
    if not errors:
        return Fraction(1), f"no errors in {last} ({budget})"
    which = ", ".join(
        f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda k: (-k[1], k[0]))
    )
    noun = "error" if errors == 1 else "errors"
    reason = f"{errors} {noun} ({which}) in {last} ({_percent(rate)}), {budget}"
    return max(Fraction(0), 1 - rate / ERROR_BUDGET), reason


def _latency(calls: tuple[CallOutcome, ...], exchange: str) -> tuple[Fraction, str]:
    t = latency_threshold(exchange)
    at = f"T = {_ms(t)} ({exchange or 'any exchange'})"
    times = [c.seconds for c in calls if c.ok]
    if not times:
        return Fraction(1), f"no successful calls yet, {at}"
    satisfied = sum(1 for s in times if s <= t)
    tolerating = sum(1 for s in times if t < s <= 4 * t)
    frustrated = len(times) - satisfied - tolerating
    reason = (
        f"{satisfied} satisfied, {tolerating} tolerating, {frustrated} frustrated "
        f"of {len(times)} successful calls, {at}"
    )
    return (satisfied + Fraction(tolerating, 2)) / len(times), reason


def _headroom(usage: Usage) -> tuple[Fraction, str]:
    if usage.paused_for > 0:
        return Fraction(0), f"paused {usage.paused_for:.1f} s after a rate-limit answer (429)"
    limits = usage.limits
    name, used, limit = max(
        (
            ("requests in the last second", usage.last_second, limits.per_second),
            ("requests in the last minute", usage.last_minute, limits.per_minute),
            ("calls in flight", usage.in_flight, limits.concurrent),
        ),
        key=lambda u: Fraction(u[1], u[2]),
    )
    full = Fraction(used, limit)
    if not used:
        return Fraction(1), "limits unused"
    reason = f"fullest limit: {name}, {used} of {limit} ({_percent(full)})"
    return min(Fraction(1), (1 - full) / (1 - HALF_FULL)), reason


def _uptime(checks: tuple[str, ...]) -> tuple[Fraction, str]:
    if not checks:
        return Fraction(1), "no checks yet"
    passed = sum(1 for result in checks if result == "ok")
    if len(checks) == 1:
        return Fraction(passed), "the last check passed" if passed else "the last check failed"
    return Fraction(passed, len(checks)), f"{passed} of the last {len(checks)} checks passed"


def _percent(share: Fraction) -> str:
    return f"{float(100 * share):.1f}".removesuffix(".0") + " %"


def _ms(seconds: Fraction) -> str:
    return f"{float(1000 * seconds):g} ms"
