"""What an engine's positions did, from its status (trading metrics, cycle breakdown): trades,
open and closed positions pseudo and live, PnL, live trading, optimal sets, the last live error.

Updated with every status the engine stream delivers. The server reports realised PnL for the
pseudo positions closed in this run only; the live figure is summed here, in Decimal, over the
closed live positions the position stream holds (the ones listed below the summary).
"""

from __future__ import annotations

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.components.engine_panel import Metric
from webui.components.status import moment, money

PNL_CLASSES = ("text-positive", "text-negative", "text-gray-900")


class PnlMetric(Metric):
    """A PnL figure, green above zero and red below."""

    def set(self, text: str) -> None:
        shown = money(text)
        super().set(shown)
        sign = shown[:1]
        color = {"+": "text-positive", "-": "text-negative"}.get(sign, "text-gray-900")
        self.value.classes(remove=" ".join(PNL_CLASSES), add=color)


def split_ms(p50: float, p99: float) -> str:
    """Sub-millisecond cycles need two places: ``0.04 / 0.31 ms``."""
    return f"{p50:.2f} / {p99:.2f} ms"


class TradingSummary:
    def __init__(self) -> None:
        with ui.card().classes("w-full gap-3").mark("trading-summary") as self.card:
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Trading").classes("text-lg font-semibold")
                self.live = ui.badge().mark("summary-live-trading")
                self.as_of = ui.label().classes("text-sm text-gray-500").mark("summary-as-of")
            with ui.row().classes("w-full items-start gap-6"):
                self.trades = Metric("Trades", "summary-trades")
                self.open_pseudo = Metric("Open pseudo", "summary-open-pseudo")
                self.closed_pseudo = Metric("Closed pseudo", "summary-closed-pseudo")
                self.open_live = Metric("Open live", "summary-open-live")
                self.closed_live = Metric("Closed live", "summary-closed-live")
                self.live_orders = Metric("Live orders", "summary-live-orders")
                self.failed_orders = Metric("Failed orders", "summary-failed-orders")
                self.skipped = Metric("Skipped by limits", "summary-skipped")
            with ui.row().classes("w-full items-start gap-6"):
                self.realized = PnlMetric("Realized pseudo · this run", "summary-realized")
                self.unrealized = PnlMetric("Unrealized pseudo", "summary-unrealized")
                self.live_realized = PnlMetric("Realized live · listed", "summary-live-realized")
                self.live_realized.value.tooltip(
                    "Summed over the closed live positions listed under Positions"
                )
                self.live_unrealized = PnlMetric("Unrealized live", "summary-live-unrealized")
            with ui.row().classes("w-full items-start gap-6"):
                self.indication = Metric("Indication cycle p50 / p99", "summary-indication")
                self.strategy = Metric("Strategy cycle p50 / p99", "summary-strategy")
                with ui.column().classes("gap-0"):
                    ui.label("Optimal sets").classes("text-xs uppercase text-gray-500")
                    self.optimal = ui.label().classes("text-lg font-medium").mark("summary-optimal")
            self.live_error = (
                ui.label().classes("w-full text-sm text-negative").mark("summary-live-error")
            )

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
        self.live.set_text("live trading on" if trading.live_trading else "live trading off")
        self.live.props(f"color={'negative' if trading.live_trading else 'grey'}")
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
