"""How the dashboard words stale prices and unhealthy connections. No server: plain messages."""

from __future__ import annotations

from datetime import UTC, datetime

from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as pb
from google.protobuf import timestamp_pb2

from webui.components.engine_panel import stale_warning
from webui.components.health_badge import circuit_text, health_reasons, score_details, score_text


def stamp(hour: int, minute: int, second: int) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(datetime(2026, 1, 2, hour, minute, second, tzinfo=UTC))
    return value


def test_a_fresh_engine_has_no_warning_whatever_its_times() -> None:
    fresh = pb.EngineStatus(state="running", prices_at=stamp(3, 4, 5))
    assert stale_warning(fresh) == ""
    # Only `stale` decides: a leftover stale_since on a fresh status shows nothing.
    assert stale_warning(pb.EngineStatus(state="running", stale_since=stamp(3, 4, 6))) == ""


def test_a_stale_engine_says_since_when_in_the_pages_time_format() -> None:
    stale = pb.EngineStatus(
        state="paused", stale=True, prices_at=stamp(3, 4, 5), stale_since=stamp(3, 4, 6)
    )
    assert stale_warning(stale) == (
        "No fresh prices since 2026-01-02 03:04:05 UTC (stale since 2026-01-02 03:04:06 UTC): "
        "nothing opens, and exits wait for fresh prices."
    )


def test_a_stale_engine_that_never_had_prices_says_so() -> None:
    never = pb.EngineStatus(state="running", stale=True, stale_since=stamp(3, 4, 6))
    assert stale_warning(never) == (
        "No fresh prices yet (stale since 2026-01-02 03:04:06 UTC): "
        "nothing opens, and exits wait for fresh prices."
    )


def test_circuits_show_only_when_not_closed() -> None:
    assert circuit_text("closed") == circuit_text("") == ""
    assert circuit_text("closed", "exchange") == ""
    assert circuit_text("open") == "circuit open"
    assert circuit_text("half_open", "exchange") == "exchange circuit half-open"


def test_reasons_are_shown_unless_the_connection_is_healthy() -> None:
    reasons = [
        "bybit is unreachable: its market data fails (circuit open)",
        "the last 3 checks failed",
    ]
    down = cpb.ConnectionHealth(status="down", reasons=reasons)
    assert health_reasons(down) == (
        "bybit is unreachable: its market data fails (circuit open) · the last 3 checks failed"
    )
    assert health_reasons(
        cpb.ConnectionHealth(status="degraded", reasons=["rate limits nearly full"])
    ) == ("rate limits nearly full")
    assert health_reasons(cpb.ConnectionHealth(status="healthy", reasons=reasons)) == ""
    assert health_reasons(cpb.ConnectionHealth(status="unknown")) == ""
    assert health_reasons(cpb.ConnectionHealth()) == ""


def test_the_score_badge_says_value_and_band_and_its_tooltip_every_reason() -> None:
    assert score_text(cpb.ConnectionHealth(status="unknown")) == ""  # no score yet
    score = cpb.HealthScore(
        value=35,
        band="major_outage",
        gate=0.5,
        gate_reason="calls probing after repeated failures (circuit half-open)",
        components=[
            cpb.ScoreComponent(name="errors", value=0.4, weight=0.35, reason="3 errors (...)"),
            cpb.ScoreComponent(name="uptime", value=1, weight=0.2, reason="no checks yet"),
        ],
    )
    health = cpb.ConnectionHealth(status="down", score=score)
    assert score_text(health) == "score 35 · major outage"
    assert score_details(health) == (
        "gate 0.5: calls probing after repeated failures (circuit half-open)\n"
        "errors 0.40 × 35%: 3 errors (...)\n"
        "uptime 1.00 × 20%: no checks yet"
    )
    score.gate = 1
    assert score_details(cpb.ConnectionHealth(score=score)).startswith("errors 0.40")
