"""The whole system at a glance, from the system status stream: the server and its storage,
connections counted, engines by state, enabled connections by health score band, how full each
exchange's rate limits are, and what is going on (batch tests, open streams, log entries).

:meth:`SystemStatusPanel.show` is called with each status the stream delivers (at most one a
second, and at least every few seconds while the server probes its storage, so the uptime
shown stays current without a timer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import ui

from webui import theme
from webui.choices import API_TYPES, EXCHANGES
from webui.components.accessible import named
from webui.components.status import moment, number

BUSY = 0.8  # a limit this full is nearly full (as the server's "degraded" threshold)
BANDS = ("operational", "degraded", "partial_outage", "major_outage", "unknown")
ENGINE_STATES = ("running", "starting", "paused", "stopping", "error", "stopped")
LEVELS = ("error", "warning", "info", "debug")


def band_word(band: str) -> str:
    """``partial_outage`` → ``partial outage``; ``unknown`` → ``no score yet``."""
    return "no score yet" if band == "unknown" else band.replace("_", " ")


def counted(
    counts: Mapping[str, int], order: Iterable[str] = (), labels: Mapping[str, str] | None = None
) -> str:
    """``running 2 · error 1``: the non-zero counts, those named in ``order`` first; ``none``
    when all are zero."""
    names = [*order, *sorted(set(counts) - set(order))]
    shown = [
        f"{(labels or {}).get(name, name)} {counts[name]}" for name in names if counts.get(name)
    ]
    return " · ".join(shown) or "none"


def uptime(seconds: float) -> str:
    """``2 d 3 h``, ``3 h 12 min``, ``12 min 5 s``, ``45 s``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def storage_text(storage: pb.StorageStatus) -> str:
    """``sqlite · reachable · 1.2 ms`` or ``postgresql · not reachable: timed out``."""
    if storage.reachable:
        return f"{storage.kind} · reachable · {number(storage.latency_ms)} ms"
    return f"{storage.kind} · not reachable: {storage.error or 'no answer'}"


def usage_text(usage: pb.ExchangeUsage) -> str:
    """``35% of the fullest limit · 2 accounts · 1 paused after a 429 · 3 calls in flight``."""
    parts = [
        f"{number(100 * usage.busiest)}% of the fullest limit",
        f"{usage.accounts} account{'s' if usage.accounts != 1 else ''}",
    ]
    if usage.paused_accounts:
        parts.append(f"{usage.paused_accounts} paused after a 429")
    parts.append(f"{usage.in_flight} calls in flight")
    return " · ".join(parts)


def tile(title: str) -> ui.card:
    card = ui.card().classes("min-w-[16rem] flex-1 gap-1")
    with card:
        ui.label(title).classes("text-xs uppercase text-gray-500")
    return card


class RateGauge:
    """One exchange's rate-limit usage: a bar of its fullest limit and the figures."""

    def __init__(self, exchange: str) -> None:
        with ui.row().classes("w-full items-center gap-3 no-wrap").mark(f"rate-{exchange}"):
            name = EXCHANGES.get(exchange, exchange)
            ui.label(name).classes("w-20 font-medium")
            self.bar = named(
                ui.linear_progress(show_value=False, size="8px").classes("w-32"),
                f"{name} rate limits: the fullest one's usage",
            )
            self.text = ui.label().classes("text-sm text-gray-700").mark("rate-text")

    def show(self, usage: pb.ExchangeUsage) -> None:
        self.bar.set_value(min(1.0, usage.busiest))
        self.bar.props(f"color={theme.BUSY_BAR if usage.busiest >= BUSY else theme.CALM_BAR}")
        self.text.set_text(usage_text(usage))


class SystemStatusPanel:
    def __init__(self) -> None:
        self._gauges: dict[str, RateGauge] = {}
        with ui.column().classes("w-full gap-3").mark("system-status"):
            self.waiting = ui.label("Waiting for the system status…").classes("text-gray-500")
            with ui.row().classes("w-full gap-3 items-stretch") as self.tiles:
                with tile("Server"):
                    self.version = ui.label().classes("font-medium").mark("status-version")
                    self.started = ui.label().classes("text-sm").mark("status-started")
                    self.storage = ui.label().classes("text-sm").mark("status-storage")
                with tile("Connections"):
                    self.connections = ui.label().classes("font-medium").mark("status-connections")
                    self.by_exchange = ui.label().classes("text-sm").mark("status-by-exchange")
                    self.by_api_type = ui.label().classes("text-sm").mark("status-by-api-type")
                with tile("Engines"):
                    self.engines = ui.label().mark("status-engines")
                with tile("Health of enabled connections"):
                    self.bands = ui.row().classes("gap-1").mark("status-health")
                with tile("Activity"):
                    self.batches = ui.label().classes("text-sm").mark("status-batch-tests")
                    self.streams = ui.label().classes("text-sm").mark("status-streams")
                    self.log_entries = ui.label().classes("text-sm").mark("status-log-entries")
            with ui.card().classes("w-full gap-1") as self.rates:
                ui.label("Rate limits by exchange").classes("text-xs uppercase text-gray-500")
                self.gauges = ui.column().classes("w-full gap-1").mark("status-rate-usage")
                self.no_usage = ui.label("No exchange called yet").classes("text-sm text-gray-500")
        self._visible(False)

    def _visible(self, shown: bool) -> None:
        self.waiting.set_visibility(not shown)
        self.tiles.set_visibility(shown)
        self.rates.set_visibility(shown)

    def show(self, status: pb.SystemStatus | None) -> None:
        self._visible(status is not None)
        if status is None:
            return
        self.version.set_text(f"CTS {status.version}")
        self.started.set_text(
            f"started {moment(status.started_at)} · up {uptime(status.uptime_seconds)}"
        )
        storage = status.storage
        self.storage.set_text(f"storage: {storage_text(storage)}")
        self.storage.classes(replace="text-sm" if storage.reachable else "text-sm text-negative")
        self.connections.set_text(
            f"{status.connections} connections · {status.enabled} enabled · "
            f"{status.active} active · {status.live_trading} live trading"
        )
        self.by_exchange.set_text(
            f"by exchange: {counted(status.connections_by_exchange, labels=EXCHANGES)}"
        )
        self.by_api_type.set_text(
            f"by API type: {counted(status.connections_by_api_type, labels=API_TYPES)}"
        )
        self.engines.set_text(counted(status.engines_by_state, ENGINE_STATES))
        self._bands(status.health_by_band)
        self.batches.set_text(f"batch tests running: {status.batch_tests_running}")
        self.streams.set_text(f"streams open: {counted(status.stream_subscribers)}")
        self.log_entries.set_text(
            f"log entries, last hour: {counted(status.log_entries_last_hour, LEVELS)}"
        )
        self._rates(status.rate_usage)

    def _bands(self, counts: Mapping[str, int]) -> None:
        self.bands.clear()
        with self.bands:
            for band in [*BANDS, *sorted(set(counts) - set(BANDS))]:
                if counts.get(band):
                    ui.badge(
                        f"{band_word(band)} {counts[band]}", color=theme.tone(theme.BANDS, band)
                    ).mark(f"band-{band}")
            if not any(counts.values()):
                ui.label("no enabled connections").classes("text-sm text-gray-500")

    def _rates(self, usages: Iterable[pb.ExchangeUsage]) -> None:
        by_exchange = {u.exchange: u for u in usages}
        if list(by_exchange) != list(self._gauges):
            self.gauges.clear()
            with self.gauges:
                self._gauges = {exchange: RateGauge(exchange) for exchange in by_exchange}
        for exchange, usage in by_exchange.items():
            self._gauges[exchange].show(usage)
        self.no_usage.set_visibility(not by_exchange)
