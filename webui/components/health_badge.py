"""A connection's health, rate-limit usage and last test, as one row of its card, with the
reasons the server gives under it when the connection is not healthy.

Everything comes from the ``Connection`` message the connection stream delivers: the server
publishes a new one after each health check, test and circuit change, when the rate-limit
windows empty or a 429 pause ends, and when the health score moves (at most once a second per
account), and :meth:`update` is called with it.

The health score (0-100) and its band show as a badge next to the status; its tooltip lists the
gate and the components with their reasons.

Two circuits show as badges when they are not closed: the account's own ("circuit open": its
calls are paused after repeated failures) and the exchange's ("exchange circuit open": the
exchange's public market data fails, so it is down for every connection on it).
"""

from __future__ import annotations

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui import theme
from webui.components.accessible import named
from webui.components.status import (
    fraction,
    health_color,
    moment,
    number,
    rate_text,
    test_color,
)

BUSY = 0.8  # as the server's "degraded" threshold
REASON_CLASSES = {"down": "text-negative", "degraded": "text-caution"}


def circuit_text(state: str, whose: str = "") -> str:
    """A circuit as its badge says it, ``""`` when closed or not reported:
    ``("half_open", "exchange")`` → ``exchange circuit half-open``."""
    if state in ("", "closed"):
        return ""
    return " ".join(filter(None, (whose, "circuit", state.replace("_", "-"))))


def health_reasons(health: pb.ConnectionHealth) -> str:
    """Why a connection is not healthy, as the caption under its badge: the server's reasons,
    ``" · "`` between them; ``""`` when it is healthy (or says no reason)."""
    if health.status == "healthy":
        return ""
    return " · ".join(health.reasons)


def score_text(health: pb.ConnectionHealth) -> str:
    """The score as its badge says it: ``score 87 · degraded``; ``""`` while there is none."""
    if not health.HasField("score"):
        return ""
    return f"score {health.score.value} · {health.score.band.replace('_', ' ')}"


def score_details(health: pb.ConnectionHealth) -> str:
    """The score's tooltip: the gate when it is below 1, then each component with its value,
    weight and reason, one a line."""
    score = health.score
    lines = [f"gate {number(score.gate)}: {score.gate_reason}"] if score.gate < 1 else []
    lines += [
        f"{c.name} {c.value:.2f} × {number(100 * c.weight)}%: {c.reason}" for c in score.components
    ]
    return "\n".join(lines)


class HealthRow:
    def __init__(self) -> None:
        with ui.column().classes("w-full gap-0"):
            with ui.row().classes("w-full items-center gap-3 text-sm").mark("card-health"):
                self.badge = ui.badge().mark("health-badge")
                self.score = ui.badge().props("outline").mark("health-score")
                with self.score:
                    self.score_tooltip = ui.tooltip("").classes("whitespace-pre-line")
                self.circuit = ui.badge().props("color=negative outline").mark("health-circuit")
                self.circuit.tooltip("This account's calls are paused after repeated failures")
                self.exchange_circuit = ui.badge().props("outline").mark("health-exchange-circuit")
                self.exchange_circuit.tooltip(
                    "The exchange's market data fails: it is down for every connection on it, "
                    "whatever key they use"
                )
                self.figures = ui.label().classes("text-gray-700").mark("health-figures")
                with ui.column().classes("gap-0 w-28") as self.bars:
                    self.second_bar = ui.linear_progress(show_value=False, size="4px").mark(
                        "health-second-bar"
                    )
                    self.minute_bar = ui.linear_progress(show_value=False, size="4px").mark(
                        "health-minute-bar"
                    )
                self.rate = ui.label().classes("text-gray-700").mark("health-rate")
                self.paused = ui.label().classes("text-negative font-medium").mark("health-paused")
                self.checked = ui.label().classes("text-gray-500").mark("health-checked")
                ui.space()
                self.last_test = ui.label().classes("font-medium").mark("card-last-test")
            self.reasons = ui.label().classes("text-sm").mark("health-reasons")

    def update(self, connection: pb.Connection) -> None:
        self._health(connection)
        self._last_test(connection)

    def _health(self, connection: pb.Connection) -> None:
        health = connection.health
        # The server sends status "unknown" (and no figures) until the first check.
        known = connection.HasField("health") and health.status not in ("", "unknown")
        status = health.status if known and health.status else "unknown"
        self.badge.set_text(status)
        self.badge.props(f"color={health_color(status)}")
        score = score_text(health)
        self.score.set_visibility(bool(score))
        self.score.set_text(score)
        self.score.props(f"color={theme.tone(theme.BANDS, health.score.band)}")
        self.score_tooltip.set_text(score_details(health))
        circuit = circuit_text(health.circuit_state) if known else ""
        self.circuit.set_visibility(bool(circuit))
        self.circuit.set_text(circuit)
        exchange_circuit = circuit_text(health.exchange_circuit_state, "exchange")
        self.exchange_circuit.set_visibility(bool(exchange_circuit))
        self.exchange_circuit.set_text(exchange_circuit)
        self.exchange_circuit.props(
            f"color={'negative' if health.exchange_circuit_state == 'open' else 'caution'}"
        )
        reasons = health_reasons(health)
        self.reasons.set_visibility(bool(reasons))
        self.reasons.set_text(reasons)
        self.reasons.classes(replace=f"text-sm {REASON_CLASSES.get(status, 'text-gray-700')}")
        for element in (self.figures, self.bars, self.rate, self.checked):
            element.set_visibility(known)
        for bar, per in ((self.second_bar, "second"), (self.minute_bar, "minute")):
            named(bar, f"{connection.name} requests per {per}")
        if not known:
            self.paused.set_visibility(False)
            return
        self.figures.set_text(
            f"uptime {number(health.uptime_percent)}% · "
            f"avg {number(health.average_response_ms)} ms · "
            f"{health.success_count} ok / {health.error_count} errors"
        )
        rate = health.rate_limit
        self.rate.set_text(rate_text(rate))
        for bar, used, limit in (
            (self.second_bar, rate.requests_last_second, rate.per_second_limit),
            (self.minute_bar, rate.requests_last_minute, rate.per_minute_limit),
        ):
            share = fraction(used, limit)
            bar.set_value(share)
            bar.props(f"color={theme.BUSY_BAR if share >= BUSY else theme.CALM_BAR}")
        self.paused.set_visibility(rate.paused_seconds > 0)
        self.paused.set_text(f"paused {number(rate.paused_seconds)} s after a 429")
        checked = ""
        if health.HasField("last_check_at"):
            checked = f"checked {moment(health.last_check_at)}"
        if health.last_error:
            checked += f" · last error {health.last_error}"
        self.checked.set_text(checked)

    def _last_test(self, connection: pb.Connection) -> None:
        status = connection.last_test_status
        if not status:
            self.last_test.set_text("never tested")
            self.last_test.classes(replace="font-medium text-gray-500")
            return
        text = f"last test {status}"
        if connection.HasField("last_test_at"):
            text += f" · {moment(connection.last_test_at)}"
        if connection.last_test_balance:
            text += f" · {connection.last_test_balance} USDT"
        self.last_test.set_text(text)
        self.last_test.classes(replace=f"font-medium text-{test_color(status)}")
