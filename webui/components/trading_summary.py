"""What an engine's positions did, from its status (trading metrics, cycle breakdown): trades,
open and closed positions pseudo and live, PnL, live trading, optimal sets, the last live error.

Updated with every status the engine stream delivers. The figures have different scopes, and
each caption names its own, in rows by scope:

- this run (since the engine started; "last run" once it is stopped): pseudo trades, realised
  pseudo PnL, live orders, failed orders, live opens skipped by the notional limits;
- now ("at the stop" once it is stopped): open positions and unrealised PnL, pseudo and live;
- all time: closed positions, pseudo and live; the realised live PnL is summed here, in Decimal,
  over the closed live positions the position stream holds (the ones listed below the summary).
"""

from __future__ import annotations

from typing import TypeVar

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.components.engine_panel import Metric
from webui.components.status import halted, moment, money

M = TypeVar("M", bound=Metric)
PNL_CLASSES = ("text-positive", "text-negative")


class PnlMetric(Metric):
    """A PnL figure, green above zero and red below."""

    def set(self, text: str) -> None:
        shown = money(text)
        super().set(shown)
        sign = shown[:1]
        color = {"+": "text-positive", "-": "text-negative"}.get(sign, "")
        self.value.classes(remove=" ".join(PNL_CLASSES), add=color)


def split_ms(p50: float, p99: float) -> str:
    """Sub-millisecond cycles need two places: ``0.04 / 0.31 ms``."""
    return f"{p50:.2f} / {p99:.2f} ms"


RUN, NOW = "run", "now"  # the scopes that change words when the engine stops


def scope_words(status: pb.EngineStatus) -> dict[str, str]:
    """What "this run" and "now" are for an engine in this state."""
    if halted(status):
        return {RUN: "last run", NOW: "at the stop"}
    return {RUN: "this run", NOW: "now"}


def run_span(status: pb.EngineStatus) -> str:
    """The run the "this run" figures count: ``this run: since …``, ``last run: … to …``."""
    if not status.HasField("started_at"):
        return "no run yet"
    started = moment(status.started_at)
    if status.state == "stopped" and status.HasField("updated_at"):
        return f"last run: {started} to {moment(status.updated_at)}"
    return f"{scope_words(status)[RUN]}: since {started}"


class TradingSummary:
    def __init__(self) -> None:
        self._scoped: list[tuple[Metric, str, str]] = []  # figure, what it counts, scope
        with ui.card().classes("w-full gap-3").mark("trading-summary") as self.card:
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Trading").classes("text-lg font-semibold")
                self.live = ui.badge().mark("summary-live-trading")
                self.as_of = ui.label().classes("text-sm text-gray-500").mark("summary-as-of")
            self.run = ui.label().classes("text-sm text-gray-600").mark("summary-run")
            with ui.row().classes("w-full items-start gap-6").mark("summary-run-figures"):
                self.trades = self._figure(Metric, "Pseudo trades", "summary-trades", RUN)
                self.realized = self._figure(PnlMetric, "Realized pseudo", "summary-realized", RUN)
                self.live_orders = self._figure(Metric, "Live orders", "summary-live-orders", RUN)
                self.failed_orders = self._figure(
                    Metric, "Failed live orders", "summary-failed-orders", RUN
                )
                self.skipped = self._figure(
                    Metric, "Live opens skipped by limits", "summary-skipped", RUN
                )
            with ui.row().classes("w-full items-start gap-6").mark("summary-now-figures"):
                self.open_pseudo = self._figure(Metric, "Open pseudo", "summary-open-pseudo", NOW)
                self.unrealized = self._figure(
                    PnlMetric, "Unrealized pseudo", "summary-unrealized", NOW
                )
                self.open_live = self._figure(Metric, "Open live", "summary-open-live", NOW)
                self.live_unrealized = self._figure(
                    PnlMetric, "Unrealized live", "summary-live-unrealized", NOW
                )
            with ui.row().classes("w-full items-start gap-6").mark("summary-all-time-figures"):
                self.closed_pseudo = Metric("Closed pseudo · all time", "summary-closed-pseudo")
                self.closed_live = Metric("Closed live · all time", "summary-closed-live")
                self.live_realized = PnlMetric(
                    "Realized live · closed ones listed below", "summary-live-realized"
                )
                self.live_realized.value.tooltip(
                    "Summed over the closed live positions listed under Positions"
                )
            with ui.row().classes("w-full items-start gap-6"):
                self.indication = Metric(
                    "Indication cycle p50 / p99 · last 1,000 cycles", "summary-indication"
                )
                self.strategy = Metric(
                    "Strategy cycle p50 / p99 · last 1,000 cycles", "summary-strategy"
                )
                with ui.column().classes("gap-0"):
                    ui.label("Optimal sets · last cycle").classes("text-xs uppercase text-gray-500")
                    self.optimal = ui.label().classes("text-lg font-medium").mark("summary-optimal")
            self.live_error = (
                ui.label().classes("w-full text-sm text-negative").mark("summary-live-error")
            )

    def _figure(self, kind: type[M], counts: str, marker: str, scope: str) -> M:
        """A figure whose scope's words follow the engine's state (see :func:`scope_words`)."""
        figure = kind(f"{counts} · {scope_words(pb.EngineStatus())[scope]}", marker)
        self._scoped.append((figure, counts, scope))
        return figure

    def update(self, status: pb.EngineStatus, live_realized: str) -> None:
        trading = status.trading
        metrics = status.metrics
        # The engine counts with each cycle: what happens after its last one (a stop that
        # closed positions) is in the position tables, not here, until it cycles again.
        self.as_of.set_text(
            f"as of the cycle at {moment(metrics.last_cycle_at)}"
            if metrics.HasField("last_cycle_at")
            else "no cycle yet"
        )
        self.run.set_text(run_span(status))
        words = scope_words(status)
        for figure, counts, scope in self._scoped:
            figure.caption.set_text(f"{counts} · {words[scope]}")
        self.live.set_text("live trading on" if trading.live_trading else "live trading off")
        self.live.props(f"color={'negative' if trading.live_trading else 'neutral'}")
        self.trades.set(str(trading.trades))
        self.open_pseudo.set(str(trading.open_pseudo_positions))
        self.closed_pseudo.set(str(trading.closed_pseudo_positions))
        self.open_live.set(str(trading.open_live_positions))
        self.closed_live.set(str(trading.closed_live_positions))
        self.live_orders.set(str(trading.live_orders))
        self.failed_orders.set(str(trading.failed_orders))
        self.skipped.set(str(trading.skipped_by_limits))
        self.realized.set(trading.realized_pnl)
        self.unrealized.set(trading.unrealized_pnl)
        self.live_realized.set(live_realized)
        self.live_unrealized.set(trading.live_unrealized_pnl)
        self.indication.set(split_ms(metrics.indication_p50_ms, metrics.indication_p99_ms))
        self.strategy.set(split_ms(metrics.strategy_p50_ms, metrics.strategy_p99_ms))
        self.optimal.set_text(", ".join(trading.optimal_sets) or "none yet")
        self.live_error.set_visibility(bool(trading.last_live_error))
        self.live_error.set_text(f"Last live error: {trading.last_live_error}")
