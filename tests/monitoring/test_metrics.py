"""Prometheus metrics of a real server: scraped over HTTP from its /metrics endpoint, parsed with
prometheus_client's own parser, moving with real RPCs and real ccxt calls to the simulator."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from server.monitoring.loop_lag import LoopLag
from tests.conftest import auth, make_settings
from tests.connections.conftest import Desk, Stub
from tests.engine.test_positions_api import ENGINES, hold_prices
from tests.support.ports import free_port
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

NAMES = {  # every metric family the issue names (counters without their _total)
    "grpc_server_started",
    "grpc_server_handled",
    "grpc_server_handling_seconds",
    "grpc_server_msg_received",
    "grpc_server_msg_sent",
    "cts_exchange_requests",
    "cts_exchange_request_seconds",
    "cts_rate_limit_wait_seconds",
    "cts_circuit_open",
    "cts_engines",
    "cts_engine_cycle_seconds",
    "cts_positions_open",
    "cts_stream_subscribers",
    "cts_event_loop_lag_seconds",
    "cts_log_entries",
    "cts_log_entries_dropped",
}
SERVICE = "cts.connection.v1.ConnectionService"
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "cts-dashboard.json"
UNKNOWN_ID = "5b0c6a43-0000-4000-8000-000000000009"


class Scrape:
    """One scrape of /metrics, parsed by prometheus_client's parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: list[Sample] = [s for f in self.families.values() for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )


def scrape(server: ServerThread) -> Scrape:
    assert server.server is not None
    url = f"http://127.0.0.1:{server.server.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        return Scrape(response.read().decode())


async def until(
    server: ServerThread, wanted: Callable[[Scrape], bool], timeout: float = 20.0
) -> Scrape:
    """Scrape until ``wanted`` holds (what is counted at the end of a call may land a moment
    after the client has its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = await asyncio.to_thread(scrape, server)
        if wanted(seen):
            return seen
        assert time.monotonic() < deadline, f"metrics never matched; last scrape:\n{seen.text}"
        await asyncio.sleep(0.05)  # poll interval of the deadline loop


def rpc(method: str, **labels: str) -> dict[str, str]:
    return {"grpc_service": SERVICE, "grpc_method": method, **labels}


async def test_metrics_parse_and_rpc_counters_move(
    server: ServerThread, connections_stub: Stub
) -> None:
    stub = connections_stub
    before = await asyncio.to_thread(scrape, server)
    assert set(before.families) >= NAMES, NAMES - set(before.families)
    assert before.families["grpc_server_handling_seconds"].type == "histogram"
    assert before.families["cts_engines"].type == "gauge"
    # Every level is there from the start (the server has logged its start at info).
    for level in ("debug", "info", "warning", "error"):
        assert before.value("cts_log_entries_total", level=level) >= 0
    assert before.value("cts_log_entries_dropped_total") == 0

    for _ in range(3):
        await stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.ListConnections(pb.ListConnectionsRequest())  # no token
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetConnection(pb.GetConnectionRequest(id=UNKNOWN_ID), metadata=auth())
    stream = stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
    assert (await stream.read()).WhichOneof("event") == "snapshot"
    stream.cancel()

    def moved(s: Scrape) -> float:
        return s.value("grpc_server_handled_total", **rpc("WatchConnections")) - before.value(
            "grpc_server_handled_total", **rpc("WatchConnections")
        )

    after = await until(server, lambda s: moved(s) == 1)

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    listing = rpc("ListConnections", grpc_type="unary")
    assert delta("grpc_server_started_total", **listing) == 4
    assert delta("grpc_server_handled_total", **listing, grpc_code="OK") == 3
    assert delta("grpc_server_handled_total", **listing, grpc_code="Unauthenticated") == 1
    assert delta("grpc_server_msg_received_total", **listing) == 4
    assert delta("grpc_server_msg_sent_total", **listing) == 3
    assert delta("grpc_server_handling_seconds_count", **listing) == 4
    assert delta("grpc_server_handling_seconds_bucket", **listing, le="+Inf") == 4
    assert delta("grpc_server_handled_total", **rpc("GetConnection"), grpc_code="NotFound") == 1
    watching = rpc("WatchConnections", grpc_type="server_stream")
    assert delta("grpc_server_started_total", **watching) == 1
    assert delta("grpc_server_msg_sent_total", **watching) >= 1  # the snapshot, maybe more
    assert delta("grpc_server_handled_total", **watching, grpc_code="Canceled") == 1
    # The event loop's lag is sampled all along.
    await until(server, lambda s: s.value("cts_event_loop_lag_seconds_count") > 0)


async def test_the_grafana_dashboard_asks_for_metrics_the_server_has(server: ServerThread) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    asked = {m for e in exprs for m in re.findall(r"\b((?:cts|grpc_server|process)_\w+)\b", e)}
    scraped = await asyncio.to_thread(scrape, server)
    names = {s.name for s in scraped.samples} | {
        f"{f.name}{suffix}" for f in scraped.families.values() for suffix in ("_total", "_bucket")
    }
    assert asked and asked <= names, asked - names


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """The connections' desk (their conftest), with a circuit that opens at the first failure."""
    return {"circuit_failure_threshold": 1, "circuit_cooldown_seconds": 60}


async def test_exchange_calls_are_counted_and_no_key_or_secret_is_scraped(desk: Desk) -> None:
    server = desk.server
    account = desk.account("binance")
    before = await asyncio.to_thread(scrape, server)
    good = await desk.connect("binance", account)
    assert (await desk.test(good.id)).status == "success"
    wrong = await desk.connect("binance", account, secret="WRONG-SECRET-0123456789abcdef")
    assert (await desk.test(wrong.id)).error_reason == "authentication"

    def delta(s: Scrape, name: str, **labels: str) -> float:
        return s.value(name, **labels) - before.value(name, **labels)

    after = await until(server, lambda s: delta(s, "cts_exchange_requests_total") > 0)
    ok = delta(after, "cts_exchange_requests_total", exchange="binance", outcome="ok")
    assert ok >= 3  # the test's three steps at least (server time, balance, permissions)
    assert delta(after, "cts_exchange_requests_total", outcome="authentication") >= 1
    attempts = delta(after, "cts_exchange_requests_total", exchange="binance")
    assert delta(after, "cts_exchange_request_seconds_count", exchange="binance") == attempts
    # Every attempt sent at least one HTTP request, and each waited (if only 0 s) for its turn.
    assert delta(after, "cts_rate_limit_wait_seconds_count", exchange="binance") >= attempts
    assert after.value("cts_circuit_open", exchange="binance") == 0

    # The exchange goes down: the account's circuit opens (threshold 1), read at scrape time.
    desk.faults("binance", down=True)
    assert (await desk.test(good.id)).error_reason == "unavailable"
    assert (await desk.test(good.id)).error_reason == "circuit_open"
    opened = await asyncio.to_thread(scrape, server)
    assert opened.value("cts_circuit_open", exchange="binance") >= 1
    assert opened.value("cts_circuit_open", exchange="bybit") == 0
    assert delta(opened, "cts_exchange_requests_total", outcome="unavailable") >= 1
    assert delta(opened, "cts_exchange_requests_total", outcome="circuit_open") >= 1

    text = opened.text
    digest = hashlib.sha256(account.api_key.encode()).hexdigest()[:16]  # the account's id
    for secret in (account.api_key, account.secret, "WRONG-SECRET", digest, good.id, wrong.id):
        assert secret not in text
    labels = {k for s in opened.samples for k in s.labels}
    assert not labels & {"api_key", "key", "secret", "account", "connection_id"}


async def test_engines_positions_and_streams_are_read_at_scrape_time(tmp_path: Path) -> None:
    sim = SimulatorThread().start()
    hold_prices(sim, "100")
    settings = make_settings(tmp_path / "data", simulator_url=sim.base_url, **ENGINES)
    server = ServerThread(settings).start()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            desk = Desk(channel, server, sim)
            await desk.connect("binance", desk.account("binance"), is_enabled=True, is_active=True)
            running = await until(
                server,
                lambda s: (
                    s.value("cts_engines", state="running") == 1
                    and s.value("cts_engine_cycle_seconds_count") > 0
                ),
            )
            assert running.value("cts_positions_open", mode="pseudo") == 0
            # The server's own followers (the alerts' engine source) are subscribers too.
            followers = running.value("cts_stream_subscribers", topic="engines")
            assert followers == 1
            hold_prices(sim, "102")  # the trend entry opens a long on each symbol
            await until(server, lambda s: s.value("cts_positions_open", mode="pseudo") >= 1)

            stub = engine_pb2_grpc.EngineServiceStub(channel)
            stream = stub.WatchEngines(epb.WatchEnginesRequest(), metadata=auth())
            await stream.read()  # the snapshot: the subscription is there
            watched = await asyncio.to_thread(scrape, server)
            assert watched.value("cts_stream_subscribers", topic="engines") == followers + 1
            assert watched.value("cts_positions_open", mode="live") == 0
            stream.cancel()
            await until(
                server, lambda s: s.value("cts_stream_subscribers", topic="engines") == followers
            )
    finally:
        server.stop()
        sim.stop()


async def test_log_entries_are_counted_by_level(tmp_path: Path) -> None:
    server = ServerThread(make_settings(tmp_path / "data")).start()
    try:
        before = await asyncio.to_thread(scrape, server)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
            for level in ("error", "error", "warning"):
                request = mpb.WriteLogRequest(level=level, category="api", message="counted")
                await stub.WriteLog(request, metadata=auth())
        after = await asyncio.to_thread(scrape, server)
    finally:
        server.stop()
    for level, more in {"error": 2, "warning": 1, "debug": 0}.items():
        assert after.value("cts_log_entries_total", level=level) == (
            before.value("cts_log_entries_total", level=level) + more
        )
    assert after.value("cts_log_entries_dropped_total") == 0


async def test_metrics_off_serve_nothing_and_count_nothing(tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(tmp_path / "data", metrics=False, metrics_port=port)
    server = ServerThread(settings).start()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            await Stub(channel).ListConnections(pb.ListConnectionsRequest(), metadata=auth())
        assert server.server is not None and server.server.metrics_port == 0
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        server.stop()


async def test_loop_lag_sees_a_blocked_loop_and_forgets_it_after_the_window() -> None:
    observed: list[float] = []
    ordinary = asyncio.Event()

    def observe(seconds: float) -> None:
        observed.append(seconds)
        if len(observed) >= 20:
            ordinary.set()

    lag = LoopLag(interval_seconds=0.01, window_seconds=1.0, observe=observe)
    assert lag.percentiles() == (0.0, 0.0)
    lag.start()
    try:
        await asyncio.wait_for(ordinary.wait(), 5)  # some ordinary samples first
        time.sleep(0.3)  # noqa: ASYNC251 - the point: the loop is blocked for 300 ms
        deadline = time.monotonic() + 5
        while lag.percentiles()[1] < 0.25:
            assert time.monotonic() < deadline, observed
            await asyncio.sleep(0.01)
        p50, p99 = lag.percentiles()
        assert p50 < 0.1 and p99 >= 0.25
        assert max(observed) >= 0.25
        while lag.percentiles()[1] >= 0.25:  # a second later it is out of the window
            assert time.monotonic() < deadline + 5, lag.percentiles()
            await asyncio.sleep(0.05)
    finally:
        await lag.stop()
