"""The health score computed by hand for scripted inputs: every gate, each component, the
window, the bands' edges and the rounding (the formula: ``server/monitoring/score.py``)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from server.exchange.access import CallOutcome
from server.exchange.breaker import CircuitState
from server.exchange.throttle import RateLimits, Usage
from server.monitoring.score import HealthScore, ScoreBand, ScoreInputs, health_score

BINANCE = RateLimits(per_second=10, per_minute=1200, concurrent=10)
IDLE = Usage(0, 0, 0, BINANCE, 0.0)


def calls(
    fast: int = 0, tolerable: int = 0, slow: int = 0, failed: tuple[str, ...] = ()
) -> tuple[CallOutcome, ...]:
    """Failed calls first, then successful ones of 0.1 s, 1 s and 3 s (binance's T is 0.5 s)."""
    return (
        *(CallOutcome(0.0, 0.2, failure) for failure in failed),
        *(CallOutcome(0.0, 0.1) for _ in range(fast)),
        *(CallOutcome(0.0, 1.0) for _ in range(tolerable)),
        *(CallOutcome(0.0, 3.0) for _ in range(slow)),
    )


def checks(passed: int, failed: int = 0, failure: str = "unavailable") -> tuple[str, ...]:
    return (failure,) * failed + ("ok",) * passed


GOOD = ScoreInputs("binance", IDLE, calls(fast=50), checks(12))


def score(inputs: ScoreInputs) -> HealthScore:
    result = health_score(inputs)
    assert result is not None
    return result


def by_hand(errors: Fraction, latency: Fraction, headroom: Fraction, uptime: Fraction) -> Fraction:
    weighted = (
        Fraction("0.35") * errors
        + Fraction("0.25") * latency
        + Fraction("0.20") * headroom
        + Fraction("0.20") * uptime
    )
    return 100 * weighted


def terms(result: HealthScore) -> dict[str, float]:
    return {c.name: c.value for c in result.components}


def reasons(result: HealthScore) -> dict[str, str]:
    return {c.name: c.reason for c in result.components}


# -- no data and all good ---------------------------------------------------------------------


def test_no_checks_and_no_calls_is_no_score() -> None:
    assert health_score(ScoreInputs("binance", IDLE)) is None


def test_all_good_is_100_operational_with_every_reason() -> None:
    result = score(GOOD)
    assert (result.value, result.band, result.gate, result.gate_reason) == (
        100,
        ScoreBand.OPERATIONAL,
        1.0,
        "",
    )
    assert [(c.name, c.value, c.weight) for c in result.components] == [
        ("errors", 1.0, 0.35),
        ("latency", 1.0, 0.25),
        ("headroom", 1.0, 0.2),
        ("uptime", 1.0, 0.2),
    ]
    assert reasons(result) == {
        "errors": "no errors in the last 50 calls (error budget 10 %)",
        "latency": "50 satisfied, 0 tolerating, 0 frustrated of 50 successful calls, "
        "T = 500 ms (binance)",
        "headroom": "limits unused",
        "uptime": "12 of the last 12 checks passed",
    }


def test_a_first_check_alone_gives_a_score() -> None:
    result = score(ScoreInputs("okx", IDLE, checks=checks(0, failed=1)))
    # errors 1 (no calls), latency 1 (none), headroom 1, uptime 0: 35 + 25 + 20 + 0.
    assert result.value == by_hand(Fraction(1), Fraction(1), Fraction(1), Fraction(0)) == 80
    assert reasons(result)["errors"] == "no calls yet (error budget 10 %)"
    assert reasons(result)["latency"] == "no successful calls yet, T = 500 ms (okx)"
    assert reasons(result)["uptime"] == "the last check failed"


# -- the gate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"circuit": CircuitState.OPEN},
            "calls paused after repeated failures (circuit open)",
        ),
        (
            {"exchange_circuit": CircuitState.OPEN},
            "binance's market data fails (exchange circuit open)",
        ),
        (
            {"checks": (*checks(11), "authentication")},
            "the exchange rejected the API key at the last check",
        ),
        ({"checks": (*checks(11), "maintenance")}, "binance is under maintenance"),
        ({"calls": calls(fast=49, failed=("maintenance",))[::-1]}, "binance is under maintenance"),
        ({"exchange_latest_failure": "maintenance"}, "binance is under maintenance"),
    ],
)
def test_each_closed_gate_makes_the_score_0(change: dict[str, object], reason: str) -> None:
    result = score(replace(GOOD, **change))  # type: ignore[arg-type]
    assert (result.value, result.band, result.gate) == (0, ScoreBand.MAJOR_OUTAGE, 0.0)
    assert result.gate_reason == reason


def test_gates_say_every_reason_and_need_no_other_data() -> None:
    result = score(
        ScoreInputs(
            "bybit",
            IDLE,
            circuit=CircuitState.OPEN,
            exchange_circuit=CircuitState.HALF_OPEN,
            exchange_latest_failure="maintenance",
        )
    )
    assert result.value == 0
    assert result.gate_reason == (
        "calls paused after repeated failures (circuit open); bybit is under maintenance"
    )


def test_a_half_open_circuit_halves_the_score_rounding_half_up() -> None:
    probing = replace(GOOD, circuit=CircuitState.HALF_OPEN)
    assert (score(probing).value, score(probing).gate) == (50, 0.5)
    assert score(probing).gate_reason == "calls probing after repeated failures (circuit half-open)"
    # latency (44 + 6/2) / 50 = 0.94: 100 * 0.5 * (0.35 + 0.25 * 0.94 + 0.4) = 49.25 → 49.
    slowish = replace(probing, calls=calls(fast=44, tolerable=6))
    assert score(slowish).value == 49
    # latency 0.88: 97 → halved 48.5, rounded half up → 49.
    slower = replace(probing, calls=calls(fast=40, tolerable=8, slow=2))
    assert Fraction(1, 2) * by_hand(Fraction(1), Fraction(44, 50), Fraction(1), Fraction(1)) == (
        Fraction(97, 2)
    )
    assert score(slower).value == 49


def test_a_rejected_key_earlier_does_not_gate_once_a_check_passes() -> None:
    result = score(replace(GOOD, checks=checks(11, failed=1, failure="authentication")))
    assert result.gate == 1.0
    # uptime 11/12: 80 + 20 * 11/12 = 98.33 → 98.
    assert result.value == 98


# -- the components ---------------------------------------------------------------------------


def test_errors_against_the_budget_in_the_window_of_50_calls() -> None:
    # 10 old failures fall out of the window; 3 errors and one refusal of the request remain.
    window = calls(
        fast=46,
        failed=("rate_limited", "timeout", "rate_limited", "insufficient_funds"),
    )
    inputs = replace(GOOD, calls=calls(failed=("unavailable",) * 10) + window)
    result = score(inputs)
    # errors 1 - (3/50) / 10 % = 0.4: 100 * (0.35 * 0.4 + 0.25 + 0.2 + 0.2) = 79.
    assert terms(result)["errors"] == pytest.approx(0.4)
    assert result.value == by_hand(Fraction(2, 5), Fraction(1), Fraction(1), Fraction(1)) == 79
    assert result.band is ScoreBand.DEGRADED
    assert reasons(result)["errors"] == (
        "3 errors (2 rate_limited, 1 timeout) in the last 50 calls (6 %), error budget 10 %"
    )


def test_errors_at_the_budget_leave_no_error_term() -> None:
    result = score(replace(GOOD, calls=calls(fast=45, failed=("unavailable",) * 5)))
    assert terms(result)["errors"] == 0.0 and result.value == 65
    beyond = score(replace(GOOD, calls=calls(fast=1, failed=("authentication", "permission"))))
    assert terms(beyond)["errors"] == 0.0
    assert reasons(beyond)["errors"] == (
        "2 errors (1 authentication, 1 permission) in the last 3 calls (66.7 %), error budget 10 %"
    )


def test_latency_is_apdex_at_the_exchanges_threshold() -> None:
    result = score(replace(GOOD, calls=calls(fast=40, tolerable=8, slow=2)))
    # (40 + 8/2) / 50 = 0.88: 100 * (0.35 + 0.25 * 0.88 + 0.4) = 97.
    assert terms(result)["latency"] == pytest.approx(0.88) and result.value == 97
    assert reasons(result)["latency"] == (
        "40 satisfied, 8 tolerating, 2 frustrated of 50 successful calls, T = 500 ms (binance)"
    )
    # Exactly T is satisfied and exactly 4T tolerating; failed calls are not timed.
    edges = (
        CallOutcome(0, 0.5),
        CallOutcome(0, 2.0),
        CallOutcome(0, 2.01),
        CallOutcome(0, 9, "timeout"),
    )
    assert terms(score(replace(GOOD, calls=edges)))["latency"] == pytest.approx(1.5 / 3)
    # Other exchanges: T = 1 s, so 1 s is satisfied and 3 s tolerating.
    kraken = score(ScoreInputs("kraken", IDLE, calls(tolerable=1, slow=1)))
    assert terms(kraken)["latency"] == pytest.approx(0.75)
    assert reasons(kraken)["latency"].endswith("T = 1000 ms (kraken)")


@pytest.mark.parametrize(
    ("usage", "headroom", "value", "reason"),
    [
        (
            Usage(5, 5, 0, BINANCE, 0.0),
            1.0,
            100,
            "fullest limit: requests in the last second, 5 of 10 (50 %)",
        ),
        (
            Usage(9, 9, 0, BINANCE, 0.0),
            0.2,
            84,
            "fullest limit: requests in the last second, 9 of 10 (90 %)",
        ),
        (
            Usage(2, 900, 0, BINANCE, 0.0),
            0.5,
            90,
            "fullest limit: requests in the last minute, 900 of 1200 (75 %)",
        ),
        (
            Usage(1, 1, 10, BINANCE, 0.0),
            0.0,
            80,
            "fullest limit: calls in flight, 10 of 10 (100 %)",
        ),
        (Usage(0, 3, 0, BINANCE, 1.25), 0.0, 80, "paused 1.2 s after a rate-limit answer (429)"),
    ],
)
def test_headroom_from_the_fullest_limit_or_a_429_pause(
    usage: Usage, headroom: float, value: int, reason: str
) -> None:
    result = score(replace(GOOD, usage=usage))
    assert terms(result)["headroom"] == pytest.approx(headroom)
    assert result.value == value and reasons(result)["headroom"] == reason


def test_uptime_is_the_share_of_the_last_12_checks_passed() -> None:
    # 13 checks: the oldest (failed) is out of the window.
    assert score(replace(GOOD, checks=checks(12, failed=1))).value == 100
    result = score(replace(GOOD, checks=checks(9, failed=3)))
    assert terms(result)["uptime"] == pytest.approx(0.75) and result.value == 95
    assert reasons(result)["uptime"] == "9 of the last 12 checks passed"


# -- the bands' edges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "value", "band"),
    [
        # uptime 6/12: 100 - 10 = 90.
        (replace(GOOD, checks=checks(6, failed=6)), 90, ScoreBand.OPERATIONAL),
        # headroom 0.8 (6 of 10 a second), uptime 8/12: 35 + 25 + 16 + 13.33 = 89.33.
        (
            replace(GOOD, usage=Usage(6, 6, 0, BINANCE, 0.0), checks=checks(8, failed=4)),
            89,
            ScoreBand.DEGRADED,
        ),
        # headroom 0.4 (8 of 10), uptime 1/12: 35 + 25 + 8 + 1.67 = 69.67, rounded up to 70.
        (
            replace(GOOD, usage=Usage(8, 8, 0, BINANCE, 0.0), checks=checks(1, failed=11)),
            70,
            ScoreBand.DEGRADED,
        ),
        # headroom 0.2 (9 of 10), uptime 3/12: 35 + 25 + 4 + 5 = 69.
        (
            replace(GOOD, usage=Usage(9, 9, 0, BINANCE, 0.0), checks=checks(3, failed=9)),
            69,
            ScoreBand.PARTIAL_OUTAGE,
        ),
        # half-open, uptime 0: 80 / 2 = 40.
        (
            replace(GOOD, circuit=CircuitState.HALF_OPEN, checks=checks(0, failed=12)),
            40,
            ScoreBand.PARTIAL_OUTAGE,
        ),
        # half-open, headroom 0.9 (660 of 1200 a minute), uptime 0: (35 + 25 + 18) / 2 = 39.
        (
            replace(
                GOOD,
                exchange_circuit=CircuitState.HALF_OPEN,
                usage=Usage(1, 660, 0, BINANCE, 0.0),
                checks=checks(0, failed=12),
            ),
            39,
            ScoreBand.MAJOR_OUTAGE,
        ),
    ],
)
def test_band_edges(inputs: ScoreInputs, value: int, band: ScoreBand) -> None:
    result = score(inputs)
    assert (result.value, result.band) == (value, band)
