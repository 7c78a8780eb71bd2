"""Cumulative realised PnL of one connection's closed positions over their closing time, pseudo
and live as two series.

The sums are Decimal; only the chart's y values are floats. The curve covers the closed
positions the position stream holds (its snapshot's recent ones, then every close since).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui import theme
from webui.components.accessible import image
from webui.components.positions_panel import MODES
from webui.feeds import PositionFeed


def cumulative(closed: list[pb.Position]) -> list[list[Any]]:
    """``[[closing time in ms, running total of realised PnL], ...]``, oldest close first."""
    points: list[list[Any]] = []
    total = Decimal(0)
    for position in sorted(closed, key=lambda p: (p.closed_at.ToNanoseconds(), p.id)):
        try:
            total += Decimal(position.realized_pnl or 0)
        except InvalidOperation:
            continue
        points.append([position.closed_at.ToMilliseconds(), float(total)])
    return points


def options() -> dict[str, Any]:
    """The chart in UTC, like every table of the dashboard (ECharts' time axis and tooltip
    would otherwise use the browser's zone)."""
    return {
        "useUTC": True,
        "color": [theme.TONES[theme.CHART_SERIES[mode]] for mode, _ in MODES],
        "animation": False,
        "grid": {"left": 56, "right": 24, "top": 48, "bottom": 32},
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [label for _, label in MODES], "top": 0, "right": 0},
        "xAxis": {"type": "time", "name": "UTC", "nameLocation": "end"},
        "yAxis": {"type": "value", "name": "Realized PnL", "scale": True},
        "series": [
            {"name": label, "type": "line", "step": "end", "showSymbol": True, "data": []}
            for _, label in MODES
        ],
    }


class PnlChart:
    def __init__(self) -> None:
        with ui.card().classes("w-full gap-2").mark("pnl-card") as self.card:
            ui.label("Realized PnL over time").classes("text-lg font-semibold")
            self.chart = ui.echart(options()).classes("w-full h-64").mark("pnl-chart")
            self.connection_name = ""
            self._describe({mode: [] for mode, _ in MODES})
            self.empty = ui.label("No closed positions yet").classes("text-sm text-gray-500")

    def name(self, connection_name: str) -> None:
        """Say whose PnL the chart shows (the picked connection's)."""
        if connection_name != self.connection_name:
            self.connection_name = connection_name
            self._describe(self.series())

    def _describe(self, points: dict[str, list[list[Any]]]) -> None:
        """The chart, to a screen reader: one image, named after what it plots."""
        whose = f" of {self.connection_name}" if self.connection_name else ""
        counts = " and ".join(f"{len(points[mode])} {mode}" for mode, _ in MODES)
        image(self.chart, f"Realized PnL over time{whose}: {counts} closed positions, UTC")

    def series(self) -> dict[str, list[list[Any]]]:
        """Each mode's points as shown."""
        return {
            mode: list(series["data"])
            for (mode, _), series in zip(MODES, self.chart.options["series"], strict=True)
        }

    def show(self, feed: PositionFeed | None) -> None:
        wanted = {
            mode: cumulative(feed.select(mode, "closed")) if feed else [] for mode, _ in MODES
        }
        if wanted == self.series():
            return
        for (mode, _), series in zip(MODES, self.chart.options["series"], strict=True):
            series["data"] = wanted[mode]
        self.chart.update()
        self._describe(wanted)
        self.empty.set_visibility(not any(wanted.values()))
