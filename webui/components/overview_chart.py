"""Cumulative realised PnL across accounts over time, from ``AccountService.GetPnlHistory``:
pseudo and live as two series, one chart per quote currency (money of different currencies is
never added), the time axis and tooltip in UTC like every table of the dashboard.

The page asks for the history when it opens and again after positions close (a close arrives
on the position stream), never on a timer. The sums are the server's decimal strings; only the
chart's y values are floats.
"""

from __future__ import annotations

from typing import Any

from cts.connection.v1 import account_pb2 as pb
from nicegui import ui

from webui.components import pnl_chart
from webui.components.overview_money import decimal_or_none
from webui.components.positions_panel import MODES as SERIES


def points(series: pb.PnlSeries, mode: str) -> list[list[Any]]:
    """``[[bucket end in ms, cumulative PnL], ...]`` of one mode; unknown values left out."""
    made: list[list[Any]] = []
    for point in series.points:
        value = decimal_or_none(getattr(point, mode))
        if value is not None:
            made.append([point.time.ToMilliseconds(), float(value)])
    return made


def options(currency: str, series: pb.PnlSeries | None = None) -> dict[str, Any]:
    """The options of the Live trading page's PnL chart (UTC axis and tooltip), for the sums of
    one quote currency."""
    made = pnl_chart.options()
    made["grid"]["left"] = 64
    made["yAxis"]["name"] = f"Realized PnL ({currency})"
    for (mode, _), line in zip(SERIES, made["series"], strict=True):
        line["showSymbol"] = False
        line["data"] = points(series, mode) if series is not None else []
    return made


class OverviewChart:
    def __init__(self) -> None:
        self.charts: dict[str, ui.echart] = {}
        with ui.card().classes("w-full gap-2").mark("overview-chart-card"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Realized PnL across accounts").classes("text-lg font-semibold")
                self.range = ui.label().classes("text-sm text-neutral")
                self.range.mark("overview-chart-range")
            self.error = (
                ui.label()
                .classes("text-sm text-negative")
                .props('role="status"')
                .mark("overview-chart-error")
            )
            self.error.set_visibility(False)
            self.empty = ui.label("No closed positions in the range yet").classes(
                "text-sm text-neutral"
            )
            self.box = ui.column().classes("w-full gap-2 p-0")

    def series(self, currency: str) -> dict[str, list[list[Any]]]:
        """Each mode's points as shown for ``currency``."""
        chart = self.charts[currency]
        return {
            mode: list(s["data"])
            for (mode, _), s in zip(SERIES, chart.options["series"], strict=True)
        }

    def show_error(self, text: str) -> None:
        self.error.set_text(text)
        self.error.set_visibility(bool(text))

    def show(self, history: pb.PnlHistory) -> None:
        self.show_error("")
        seconds = history.bucket_seconds
        bucket = f"{seconds / 3600:.3g} h" if seconds >= 3600 else f"{seconds / 60:.3g} min"
        since = history.since.ToDatetime()
        self.range.set_text(f"since {since:%Y-%m-%d %H:%M} UTC · cumulative, buckets of {bucket}")
        wanted = {s.quote_currency: s for s in history.series}
        for currency in [c for c in self.charts if c not in wanted]:
            self.charts.pop(currency).delete()
        for currency, series in sorted(wanted.items()):
            chart = self.charts.get(currency)
            if chart is None:
                with self.box:
                    self.charts[currency] = (
                        ui.echart(options(currency, series))
                        .classes("w-full h-64")
                        .props(f'aria-label="Realized PnL in {currency} across accounts, UTC"')
                        .mark(f"overview-chart overview-chart-{currency}")
                    )
                continue
            fresh = options(currency, series)["series"]
            if [s["data"] for s in fresh] != [s["data"] for s in chart.options["series"]]:
                for old, new in zip(chart.options["series"], fresh, strict=True):
                    old["data"] = new["data"]
                chart.update()
        self.empty.set_visibility(
            not any(p for s in history.series for m, _ in SERIES for p in points(s, m))
        )
