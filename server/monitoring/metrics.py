"""CTS's Prometheus metrics, on one registry per server (never the process-wide default: a test
process runs many servers).

Counted as things happen (cheap: one counter or histogram step each): exchange calls by outcome
and their seconds, waits for the exchange limits, engine cycles, the event loop's lag. Read at
each scrape instead (:mod:`server.monitoring.collector`): engines by state, open positions,
stream subscribers, open circuits, log entries. The RPC metrics are the gRPC interceptor's
(:mod:`server.rpc.metrics_interceptor`), on the same registry. Labels carry bounded values only
(exchange names, outcomes, states), never an account, a key or an id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from server.access.limits import KINDS, Limits
from server.engine.coordinator import Coordinator
from server.exchange.access import ExchangeAccess
from server.monitoring.collector import LogCounts, LogsCollector, StateCollector
from server.streams.topic import Topic

EXCHANGE_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_SECONDS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CYCLE_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class CtsMetrics:
    """Every metric of one CTS server, on :attr:`registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process's CPU, memory and file descriptors, Python's version and collections.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.exchange_requests = Counter(
            "cts_exchange_requests",
            "Exchange calls (each attempt) by exchange and outcome: ok, or the kind of failure "
            "(circuit_open: refused without calling).",
            ["exchange", "outcome"],
            registry=self.registry,
        )
        self.exchange_request_seconds = self._histogram(
            "cts_exchange_request_seconds",
            "Duration of exchange calls (each attempt, its HTTP requests and their waits).",
            EXCHANGE_SECONDS,
            "exchange",
        )
        self.rate_limit_wait_seconds = self._histogram(
            "cts_rate_limit_wait_seconds",
            "How long each HTTP request to an exchange waited for its account's limits.",
            WAIT_SECONDS,
            "exchange",
        )
        self.engine_cycle_seconds = self._histogram(
            "cts_engine_cycle_seconds",
            "Duration of engines' realtime cycles (indications and strategies).",
            CYCLE_SECONDS,
        )
        self.event_loop_lag_seconds = self._histogram(
            "cts_event_loop_lag_seconds",
            "How late the server's event loop woke from a 100 ms sleep.",
            LAG_SECONDS,
        )

    def _histogram(
        self, name: str, documentation: str, buckets: Sequence[float], *labels: str
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def follow(
        self,
        access: ExchangeAccess,
        coordinator: Coordinator,
        topics: Sequence[Topic[Any]],
        *,
        log_counts: LogCounts | None = None,
    ) -> None:
        """Count what exchange access and the engines tell, and read the state of these parts
        (and the log pipeline's counts) at each scrape. Call on the server's event loop."""
        access.on_attempt.add(self.attempted)
        access.on_limit_wait.add(self.limit_waited)
        coordinator.on_cycle.add(self.engine_cycle_seconds.observe)
        loop = asyncio.get_running_loop()
        self.registry.register(StateCollector(loop, coordinator, access, topics))
        self.registry.register(LogsCollector(log_counts))

    def follow_limits(self, limits: Limits) -> None:
        """Count the API's refusals by limit (token_rate, address_rate, failed_auth, streams;
        never a token or an address) and read its open streams at each scrape."""
        refused = Counter(
            "cts_api_refused",
            "API requests refused by an abuse limit, by limit.",
            ["limit"],
            registry=self.registry,
        )
        counters = {kind: refused.labels(kind) for kind in KINDS}
        limits.on_refused.append(lambda kind: counters[kind].inc())
        Gauge(
            "cts_api_open_streams", "Open API streams (all tokens).", registry=self.registry
        ).set_function(lambda: limits.open_streams)

    def attempted(self, exchange: str, outcome: str, seconds: float | None) -> None:
        self.exchange_requests.labels(exchange, outcome).inc()
        if seconds is not None:
            self.exchange_request_seconds.labels(exchange).observe(seconds)

    def limit_waited(self, exchange: str, seconds: float) -> None:
        self.rate_limit_wait_seconds.labels(exchange).observe(seconds)
