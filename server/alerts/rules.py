"""Alert rules: the kinds of event that can raise an alert, their default severities, the
builtin rules every database starts with, quiet hours, and what a rule may be set to.

A rule matches an event by kind and connection. Rules naming the event's connection take
precedence over rules for every connection of the same kind: a connection can be silenced or
routed elsewhere without touching the general rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from server.alerts.delivery.contract import Severity
from server.errors import FieldViolation, InvalidArgument

ID_MAX = 64
CHANNELS_MAX = 20


class AlertKind(StrEnum):
    ENGINE_ERROR = "engine_error"
    ENGINE_RECOVERED = "engine_recovered"
    CIRCUIT_OPEN = "circuit_open"
    CIRCUIT_CLOSED = "circuit_closed"
    HEALTH_BELOW = "health_below"
    CONNECTION_TEST_FAILED = "connection_test_failed"
    LIVE_ORDER_FAILED = "live_order_failed"
    LIVE_ORDER_UNRESOLVED = "live_order_unresolved"
    LIVE_POSITION_OPENED = "live_position_opened"
    LIVE_POSITION_CLOSED = "live_position_closed"
    STOP_LOSS_HIT = "stop_loss_hit"
    STARTUP_CHECK_FAILED = "startup_check_failed"
    RATE_LIMIT_PAUSE = "rate_limit_pause"


class HealthBand(StrEnum):
    """Bands of the health score (``server.monitoring.score``) as alert rules name them:
    good is 90-100 (operational), degraded 70-89, poor below 70 (partial or major outage)."""

    GOOD = "good"
    DEGRADED = "degraded"
    POOR = "poor"


BAND_RANK = {HealthBand.GOOD: 0, HealthBand.DEGRADED: 1, HealthBand.POOR: 2}


def band_of_score(score: int) -> HealthBand:
    if score >= 90:
        return HealthBand.GOOD
    return HealthBand.DEGRADED if score >= 70 else HealthBand.POOR


DEFAULT_SEVERITY: Mapping[AlertKind, Severity] = {
    AlertKind.ENGINE_ERROR: Severity.CRITICAL,
    AlertKind.ENGINE_RECOVERED: Severity.INFO,
    AlertKind.CIRCUIT_OPEN: Severity.WARNING,
    AlertKind.CIRCUIT_CLOSED: Severity.INFO,
    AlertKind.HEALTH_BELOW: Severity.WARNING,
    AlertKind.CONNECTION_TEST_FAILED: Severity.WARNING,
    AlertKind.LIVE_ORDER_FAILED: Severity.CRITICAL,
    AlertKind.LIVE_ORDER_UNRESOLVED: Severity.CRITICAL,
    AlertKind.LIVE_POSITION_OPENED: Severity.INFO,
    AlertKind.LIVE_POSITION_CLOSED: Severity.INFO,
    AlertKind.STOP_LOSS_HIT: Severity.WARNING,
    AlertKind.STARTUP_CHECK_FAILED: Severity.CRITICAL,
    AlertKind.RATE_LIMIT_PAUSE: Severity.WARNING,
}

# The builtin rules (one per kind, every connection): on for what needs the operator, off for
# what is good news or routine (recoveries, closed circuits, opened and closed live positions,
# rate-limit pauses, which the throttle handles by itself).
BUILTIN_ENABLED: Mapping[AlertKind, bool] = {
    AlertKind.ENGINE_ERROR: True,
    AlertKind.ENGINE_RECOVERED: False,
    AlertKind.CIRCUIT_OPEN: True,
    AlertKind.CIRCUIT_CLOSED: False,
    AlertKind.HEALTH_BELOW: True,
    AlertKind.CONNECTION_TEST_FAILED: True,
    AlertKind.LIVE_ORDER_FAILED: True,
    AlertKind.LIVE_ORDER_UNRESOLVED: True,
    AlertKind.LIVE_POSITION_OPENED: False,
    AlertKind.LIVE_POSITION_CLOSED: False,
    AlertKind.STOP_LOSS_HIT: True,
    AlertKind.STARTUP_CHECK_FAILED: True,
    AlertKind.RATE_LIMIT_PAUSE: False,
}
BUILTIN_HEALTH_BAND = HealthBand.POOR
DEFAULT_HEALTH_BAND = HealthBand.DEGRADED


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in UTC; ``start`` after ``end`` wraps midnight (22:00-06:00)."""

    start: time
    end: time

    def covers(self, at: datetime) -> bool:
        now = at.time().replace(second=0, microsecond=0, tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


@dataclass(frozen=True, slots=True)
class RuleView:
    id: str
    kind: AlertKind
    enabled: bool
    connection_id: str | None
    health_band: HealthBand | None
    quiet_from: str | None
    quiet_until: str | None
    channel_ids: tuple[str, ...]
    severity: Severity | None
    builtin: bool
    created_at: datetime
    updated_at: datetime

    @property
    def effective_severity(self) -> Severity:
        return self.severity or DEFAULT_SEVERITY[self.kind]

    @property
    def effective_band(self) -> HealthBand:
        return self.health_band or DEFAULT_HEALTH_BAND

    @property
    def quiet(self) -> QuietHours | None:
        if not self.quiet_from or not self.quiet_until:
            return None
        return QuietHours(_clock(self.quiet_from), _clock(self.quiet_until))

    def is_quiet(self, at: datetime) -> bool:
        quiet = self.quiet
        return quiet is not None and quiet.covers(at)


def matching(rules: Sequence[RuleView], kind: AlertKind, connection_id: str) -> list[RuleView]:
    """The enabled rules an event of ``kind`` about ``connection_id`` raises an alert for."""
    of_kind = [r for r in rules if r.kind is kind]
    specific = [r for r in of_kind if connection_id and r.connection_id == connection_id]
    chosen = specific or [r for r in of_kind if r.connection_id is None]
    return [r for r in chosen if r.enabled]


# -- input --------------------------------------------------------------------------------------

RULE_FIELDS = frozenset(
    {
        "kind",
        "enabled",
        "connection_id",
        "health_band",
        "quiet_from",
        "quiet_until",
        "channel_ids",
        "severity",
    }
)
RULE_OUTPUT_ONLY = frozenset({"id", "builtin", "created_at", "updated_at"})


def _clock(text: str) -> time:
    return time(int(text[:2]), int(text[3:]))


def _quiet_time(field: str, value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    hours, colon, minutes = text.partition(":")
    if (
        not colon
        or len(hours) != 2
        or len(minutes) != 2
        or not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit())
        or int(hours) > 23
        or int(minutes) > 59
    ):
        raise InvalidArgument.field(field, "must be a UTC time HH:MM from 00:00 to 23:59")
    return text


def parse_kind(value: str, field: str = "kind") -> AlertKind:
    try:
        return AlertKind(value)
    except ValueError:
        known = ", ".join(k.value for k in AlertKind)
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InvalidArgument.field(field, f"unknown kind '{shown}'; one of: {known}") from None


def parse_rule_id(text: str, field: str = "id") -> uuid.UUID:
    return parse_uuid(text, field, "an alert rule id")


def parse_uuid(text: str, field: str, what: str) -> uuid.UUID:
    if not text:
        raise InvalidArgument.field(field, "required")
    if len(text) > ID_MAX:
        raise InvalidArgument.field(field, f"is not {what} (at most {ID_MAX} characters)")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidArgument.field(field, f"is not {what} (a UUID)") from None


def checked_fields(
    values: Mapping[str, Any],
    check: Callable[[str, Any], Any],
    required: Sequence[str] = (),
) -> dict[str, Any]:
    """Every field of ``values`` through ``check`` (which raises InvalidArgument): the checked
    values, or one InvalidArgument with every field's violation (and each ``required`` field
    that is missing or empty)."""
    changes: dict[str, Any] = {}
    violations: list[FieldViolation] = []
    for name, value in values.items():
        try:
            changes[name] = check(name, value)
        except InvalidArgument as exc:
            violations.extend(exc.violations)
    violations.extend(FieldViolation(n, "required") for n in required if not values.get(n))
    if violations:
        raise InvalidArgument(violations)
    return changes


def rule_changes(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The stored form of a rule's fields sent by a client (``None``: reset to the default),
    checked one by one; channel ids and the connection are checked against storage later."""
    return checked_fields(
        {k: v for k, v in values.items() if not (creating and k == "kind" and not v)},
        lambda name, value: _rule_field(name, value, creating=creating),
        ("kind",) if creating else (),
    )


def _rule_field(name: str, value: Any, *, creating: bool) -> Any:
    if name == "kind":
        if not creating:
            raise InvalidArgument.field("kind", "cannot change; create a rule of the other kind")
        if not value:
            raise InvalidArgument.field("kind", "required")
        return parse_kind(value).value
    if value is None:
        return [] if name == "channel_ids" else None
    if name == "enabled":
        return bool(value)
    if name == "connection_id":
        return value or None
    if name == "health_band":
        try:
            return HealthBand(value).value if value else None
        except ValueError:
            raise InvalidArgument.field("health_band", "must be good, degraded or poor") from None
    if name in ("quiet_from", "quiet_until"):
        return _quiet_time(name, value)
    if name == "severity":
        try:
            return Severity(value).value if value else None
        except ValueError:
            raise InvalidArgument.field("severity", "must be info, warning or critical") from None
    if name == "channel_ids":
        ids = list(value)
        if len(ids) > CHANNELS_MAX:
            raise InvalidArgument.field("channel_ids", f"at most {CHANNELS_MAX} channels")
        return [str(parse_uuid(i, "channel_ids", "a channel id")) for i in dict.fromkeys(ids)]
    raise InvalidArgument.field(name, "unknown field")


def check_rule(
    kind: str, health_band: str | None, quiet_from: str | None, quiet_until: str | None
) -> None:
    """A rule's fields together: a band only for health_below; quiet hours both or neither."""
    violations = []
    if health_band and kind != AlertKind.HEALTH_BELOW:
        violations.append(FieldViolation("health_band", "only applies to health_below rules"))
    if bool(quiet_from) != bool(quiet_until):
        missing = "quiet_until" if quiet_from else "quiet_from"
        violations.append(FieldViolation(missing, "required with the other end of quiet hours"))
    elif quiet_from and quiet_from == quiet_until:
        violations.append(FieldViolation("quiet_until", "must differ from quiet_from"))
    if violations:
        raise InvalidArgument(violations)
