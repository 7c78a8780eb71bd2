"""How test results and health read on the dashboard: colours, words, numbers and times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as engine_pb
from google.protobuf import timestamp_pb2

from webui import theme


def test_color(status: str) -> str:
    """The tone of a test result (a Quasar colour name of :mod:`webui.theme`)."""
    return theme.tone(theme.TESTS, status)


def health_color(status: str) -> str:
    return theme.tone(theme.HEALTH, status)


def moment(stamp: timestamp_pb2.Timestamp) -> str:
    """A server time as people read it (UTC: the dashboard does not know the viewer's zone)."""
    when: datetime = stamp.ToDatetime(tzinfo=UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def signed_ms(value: int) -> str:
    return f"{value:+d} ms"


def capabilities_words(capabilities: pb.ApiCapabilities) -> list[tuple[str, bool | None]]:
    """``[("read", True), ("spot trading", None), ...]``; None: the exchange does not say."""

    def optional(name: str) -> bool | None:
        return getattr(capabilities, name) if capabilities.HasField(name) else None

    return [
        ("read", capabilities.read),
        ("spot trading", optional("spot_trading")),
        ("derivatives trading", optional("derivatives_trading")),
        ("withdrawals", optional("withdrawals")),
    ]


def may_withdraw(capabilities: pb.ApiCapabilities) -> bool:
    return capabilities.HasField("withdrawals") and bool(capabilities.withdrawals)


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def rate_text(rate: pb.RateLimitUsage) -> str:
    """``3/10 per s · 14/120 per min``."""
    return (
        f"{rate.requests_last_second}/{rate.per_second_limit} per s · "
        f"{rate.requests_last_minute}/{rate.per_minute_limit} per min"
    )


def fraction(used: int, limit: int) -> float:
    return min(1.0, used / limit) if limit > 0 else 0.0


def number(value: float) -> str:
    """``12.5`` → ``12.5``, ``100.0`` → ``100``."""
    return f"{value:.1f}".removesuffix(".0")


HALTED = ("stopping", "stopped")


def halted(status: engine_pb.EngineStatus) -> bool:
    """The engine is stopping or stopped: what its status still carries of its last run (stages,
    signals, counts) is no longer live."""
    return status.state in HALTED


def stopped_since(status: engine_pb.EngineStatus) -> str:
    """``since 2026-01-02 03:04:05 UTC``: when a stopped engine stopped (its status's last
    change: the server sends no other time for it); empty while it is not stopped."""
    if status.state != "stopped" or not status.HasField("updated_at"):
        return ""
    return f"since {moment(status.updated_at)}"


def engine_color(state: str) -> str:
    return theme.tone(theme.ENGINE_STATES, state)


def stage_color(state: str) -> str:
    return theme.tone(theme.STAGES, state)


def words(name: str) -> str:
    """``loading_history`` → ``Loading history``."""
    return name.replace("_", " ").capitalize()


def duration(ms: float) -> str:
    """``340`` → ``340 ms``, ``2500`` → ``2.5 s``."""
    return f"{number(ms / 1000)} s" if ms >= 1000 else f"{number(ms)} ms"


MONEY_PLACES = Decimal("0.0001")


def money(text: str) -> str:
    """A decimal string of the server (PnL, quote currency) as shown: rounded half-even to four
    places, with its sign: ``"-0.071412345"`` → ``-0.0714``, ``"2.5"`` → ``+2.5000``; ``""``
    (unknown) → ``—``. Decimal all the way: no float touches money."""
    if not text:
        return "—"
    try:
        value = Decimal(text).quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return text
    return f"{value:+f}" if value else f"{abs(value):f}"


def percent(fraction: float) -> str:
    """A signal strength (a fraction) as a percentage: ``0.00294`` → ``0.29 %``."""
    return f"{fraction * 100:.2f} %"


SIDES = {1: "long", -1: "short"}


def side_word(side: int) -> str:
    """A signal's side: +1 long, -1 short, 0 none."""
    return SIDES.get(side, "none")
