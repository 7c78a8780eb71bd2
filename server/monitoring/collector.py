"""Metrics read at scrape time, not updated on every change: the hot paths stay as they are.

:class:`StateCollector` reads engines by state, open positions, stream subscribers and open
circuits. The scrape runs on the exporter's thread while these belong to the server's event
loop, so they are read there (one hop per scrape) and never from another thread.
:class:`LogsCollector` reports the log pipeline's counts through a callable it is given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.connections.vocabulary import Exchange
from server.engine.coordinator import Coordinator
from server.engine.positions import Mode
from server.engine.status import EngineState
from server.exchange.access import ExchangeAccess
from server.streams.topic import Topic

log = logging.getLogger("cts.monitoring")

T = TypeVar("T")
READ_TIMEOUT_SECONDS = 5.0
LOG_LEVELS = ("debug", "info", "warning", "error")

#: Returns (log entries written per level, entries dropped in total) since the server started.
LogCounts = Callable[[], tuple[Mapping[str, int], int]]


@dataclass(frozen=True, slots=True)
class State:
    engines: Mapping[str, int]
    positions: Mapping[str, int]
    subscribers: Mapping[str, int]
    open_circuits: Mapping[str, int]


class StateCollector(Collector):
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        coordinator: Coordinator,
        access: ExchangeAccess,
        topics: Sequence[Topic[Any]],
    ) -> None:
        self._loop = loop
        self._coordinator = coordinator
        self._access = access
        self._topics = tuple(topics)

    def collect(self) -> Iterable[Metric]:
        try:
            state = on_loop(self._loop, self._read)
        except (RuntimeError, TimeoutError):  # the loop is closed, or too busy to answer
            log.warning("metrics: the server's state could not be read for this scrape")
            return []
        return [
            _gauge(
                "cts_engines",
                "Engines by state (a connection without an engine counts as stopped).",
                "state",
                {s.value: state.engines.get(s.value, 0) for s in EngineState},
            ),
            _gauge(
                "cts_positions_open",
                "Open positions of all engines by mode (pseudo: paper, live: on the exchange).",
                "mode",
                {m.value: state.positions.get(m.value, 0) for m in Mode},
            ),
            _gauge(
                "cts_stream_subscribers",
                "Open Watch* streams by topic.",
                "topic",
                state.subscribers,
            ),
            _gauge(
                "cts_circuit_open",
                "Exchange accounts whose circuit is open or half-open (probing), by exchange.",
                "exchange",
                {**{e.value: 0 for e in Exchange}, **state.open_circuits},
            ),
        ]

    def _read(self) -> State:
        return State(
            engines=self._coordinator.engines_by_state(),
            positions=self._coordinator.open_positions(),
            subscribers={t.name: t.subscriber_count for t in self._topics},
            open_circuits=self._access.open_circuits(),
        )


class LogsCollector(Collector):
    """``cts_log_entries_total{level}`` and ``cts_log_entries_dropped_total`` from ``log_counts``
    (zeros without one). It is called on the exporter's thread: it must return a snapshot, not
    a dict that another thread is changing."""

    def __init__(self, log_counts: LogCounts | None = None) -> None:
        self._log_counts = log_counts

    def collect(self) -> Iterable[Metric]:
        counts: dict[str, int] = dict.fromkeys(LOG_LEVELS, 0)
        dropped = 0
        if self._log_counts is not None:
            per_level, dropped = self._log_counts()
            for level, count in dict(per_level).items():
                counts[level.lower()] = counts.get(level.lower(), 0) + count
        entries = CounterMetricFamily(
            "cts_log_entries", "Log entries written, by level.", labels=["level"]
        )
        for level, count in counts.items():
            entries.add_metric([level], count)
        return [
            entries,
            CounterMetricFamily(
                "cts_log_entries_dropped",
                "Log entries dropped (the log pipeline could not keep up).",
                value=dropped,
            ),
        ]


def on_loop(loop: asyncio.AbstractEventLoop, read: Callable[[], T]) -> T:
    """``read()`` run on ``loop`` (at once when called there), its result handed back."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        return read()
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(read())
            except BaseException as exc:
                future.set_exception(exc)

    loop.call_soon_threadsafe(run)
    try:
        return future.result(READ_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise


def _gauge(name: str, documentation: str, label: str, values: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in values.items():
        family.add_metric([value], count)
    return family
