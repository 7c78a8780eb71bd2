"""Engines and their coordinator over gRPC, against the exchange simulator: lifecycle,
stages, cycles, commands, reconciliation with connection changes, restarts, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from tests.conftest import auth, make_settings
from tests.connections.conftest import Desk
from tests.support.rpc import details
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

ENGINE_SETTINGS = {
    "engines": True,
    "engine_cycle_seconds": 0.1,
    "engine_symbols": 3,
    "engine_history_bars": 60,
    "engine_retry_seconds": 0.2,
}


@pytest.fixture(autouse=True)
def engines_on(server_settings: dict[str, Any]) -> None:
    server_settings.update(ENGINE_SETTINGS)


class Engines:
    def __init__(self, desk: Desk) -> None:
        self.stub = engine_pb2_grpc.EngineServiceStub(desk.channel)

    async def command(self, name: str, connection_id: str) -> pb.EngineStatus:
        method = getattr(self.stub, name)
        return await method(pb.EngineCommand(connection_id=connection_id), metadata=auth())  # type: ignore[no-any-return]

    async def status(self, connection_id: str) -> pb.EngineStatus:
        request = pb.GetEngineStatusRequest(connection_id=connection_id)
        return await self.stub.GetEngineStatus(request, metadata=auth())  # type: ignore[no-any-return]


class Feed:
    """WatchEngines for one connection, read until a status is what the test waits for."""

    def __init__(self, engines: Engines, connection_id: str) -> None:
        self.stream = engines.stub.WatchEngines(
            pb.WatchEnginesRequest(connection_id=connection_id), metadata=auth()
        )
        self.seen: list[pb.EngineStatus] = []

    async def until(
        self, wanted: Callable[[pb.EngineStatus], bool], timeout: float = 20.0
    ) -> pb.EngineStatus:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.stream.read()
                event = message.WhichOneof("event")
                if event == "snapshot":
                    statuses = list(message.snapshot.engines)
                elif event == "change":
                    statuses = [message.change.engine]
                else:
                    continue
                for status in statuses:
                    self.seen.append(status)
                    if wanted(status):
                        return status


@pytest.fixture
async def engines(desk: Desk) -> AsyncIterator[Engines]:
    yield Engines(desk)


async def active_connection(desk: Desk, exchange: str = "bybit", **fields: Any) -> cpb.Connection:
    return await desk.connect(
        exchange, desk.account(exchange), is_enabled=True, is_active=True, **fields
    )


async def test_an_engine_walks_its_stages_then_runs_cycles(desk: Desk, engines: Engines) -> None:
    connection = await active_connection(desk)
    feed = Feed(engines, connection.id)
    # Enabled and active: the coordinator starts it on its own (the default wish is running).
    running = await feed.until(lambda s: s.state == "running")
    assert running.desired == "running" and len(running.symbols) == 3
    assert [s.stage for s in running.stages][-1] == "ready"
    assert all(s.state == "done" for s in running.stages)
    states = [s.state for s in feed.seen]
    assert states.index("starting") < states.index("running")
    # Progress was streamed as it went: the history stage counted its symbols one by one.
    history = [
        next(st.done for st in s.stages if st.stage == "loading_history")
        for s in feed.seen
        if any(st.stage == "loading_history" for st in s.stages)
    ]
    assert {1, 2, 3} <= set(history)
    cycling = await feed.until(lambda s: s.metrics.cycles >= 3)
    assert cycling.metrics.symbols == 3 and cycling.metrics.cycle_p99_ms > 0
    assert cycling.metrics.HasField("last_cycle_at")
    feed.stream.cancel()


async def test_commands_are_idempotent(desk: Desk, engines: Engines) -> None:
    connection = await active_connection(desk)
    feed = Feed(engines, connection.id)
    await feed.until(lambda s: s.state == "running")

    assert (await engines.command("StartEngine", connection.id)).state == "running"
    paused = await engines.command("PauseEngine", connection.id)
    assert (paused.state, paused.desired) == ("paused", "paused")
    assert (await engines.command("PauseEngine", connection.id)).state == "paused"
    # Paused engines keep cycling (they manage what is open).
    cycles = paused.metrics.cycles
    await feed.until(lambda s: s.state == "paused" and s.metrics.cycles > cycles + 1)
    resumed = await engines.command("ResumeEngine", connection.id)
    assert (resumed.state, resumed.desired) == ("running", "running")
    stopped = await engines.command("StopEngine", connection.id)
    assert (stopped.state, stopped.desired) == ("stopped", "stopped")
    assert (await engines.command("StopEngine", connection.id)).state == "stopped"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await engines.command("ResumeEngine", connection.id)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(refused.value)[0] == "ENGINE_STOPPED"
    restarted = await engines.command("StartEngine", connection.id)
    assert restarted.desired == "running" and restarted.state in ("starting", "running")
    feed.stream.cancel()


async def test_engines_follow_their_connection(desk: Desk, engines: Engines) -> None:
    connection = await active_connection(desk)
    feed = Feed(engines, connection.id)
    await feed.until(lambda s: s.state == "running")

    await desk.stub.ToggleConnection(
        cpb.ToggleConnectionRequest(id=connection.id, is_enabled=False), metadata=auth()
    )
    stopped = await feed.until(lambda s: s.state == "stopped")
    assert stopped.desired == "running"  # the wish stays; the connection is off
    await desk.stub.ToggleConnection(
        cpb.ToggleConnectionRequest(id=connection.id, is_enabled=True), metadata=auth()
    )
    await feed.until(lambda s: s.state == "running")
    await desk.stub.DeleteConnection(cpb.DeleteConnectionRequest(id=connection.id), metadata=auth())
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await engines.status(connection.id)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    feed.stream.cancel()


async def test_bad_commands_are_refused(desk: Desk, engines: Engines) -> None:
    idle = await desk.connect("bybit", desk.account("bybit"))  # disabled, inactive
    with pytest.raises(grpc.aio.AioRpcError) as inactive:
        await engines.command("StartEngine", idle.id)
    assert inactive.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(inactive.value)[0] == "CONNECTION_NOT_ACTIVE"
    assert (await engines.status(idle.id)).state == "stopped"
    with pytest.raises(grpc.aio.AioRpcError) as paused:
        await engines.command("PauseEngine", idle.id)
    assert paused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    for connection_id, code in (
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("5b0c6a43-0000-4000-8000-00000000000a", grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await engines.command("StartEngine", connection_id)
        assert bad.value.code() == code


async def test_one_failing_engine_never_stops_the_others(desk: Desk, engines: Engines) -> None:
    healthy = await active_connection(desk, "binance")
    failing = await active_connection(desk, "okx")
    healthy_feed, failing_feed = Feed(engines, healthy.id), Feed(engines, failing.id)
    await healthy_feed.until(lambda s: s.state == "running")
    await failing_feed.until(lambda s: s.state == "running")

    desk.faults(exchange="okx", down=True)
    # The okx feed fails: its cycles go stale; a restart of that engine fails to load.
    await failing_feed.until(lambda s: s.metrics.stale_cycles >= 2)
    await engines.command("StopEngine", failing.id)
    await engines.command("StartEngine", failing.id)
    errored = await failing_feed.until(lambda s: s.state == "error")
    assert "okx" in errored.error and errored.attempts >= 1 and errored.HasField("retry_at")
    before = (await engines.status(healthy.id)).metrics.cycles
    await healthy_feed.until(lambda s: s.state == "running" and s.metrics.cycles > before + 2)

    desk.clear_faults()  # it retries with back-off and comes back
    await failing_feed.until(lambda s: s.state == "running")
    healthy_feed.stream.cancel()
    failing_feed.stream.cancel()


async def test_engines_come_back_after_a_restart(tmp_path: Path, sim: SimulatorThread) -> None:
    settings = make_settings(
        tmp_path / "data", simulator_url=sim.base_url, demo=False, **ENGINE_SETTINGS
    )
    first = ServerThread(settings).start()
    try:
        async with grpc.aio.insecure_channel(first.target) as channel:
            desk = Desk(channel, first, sim)
            engines = Engines(desk)
            keep = await active_connection(desk, "bybit")
            halt = await active_connection(desk, "binance")
            await Feed(engines, keep.id).until(lambda s: s.state == "running")
            await engines.command("StopEngine", halt.id)
    finally:
        first.stop()
    second = ServerThread(settings).start()
    try:
        async with grpc.aio.insecure_channel(second.target) as channel:
            engines = Engines(Desk(channel, second, sim))
            back = await Feed(engines, keep.id).until(lambda s: s.state == "running")
            assert back.desired == "running"
            halted = await engines.status(halt.id)
            assert (halted.state, halted.desired) == ("stopped", "stopped")
    finally:
        second.stop()


async def test_coordinator_health_counts_engines_and_feeds(desk: Desk, engines: Engines) -> None:
    bybit = await active_connection(desk, "bybit")
    also_bybit = await active_connection(desk, "bybit")
    okx = await active_connection(desk, "okx")
    for connection in (bybit, also_bybit, okx):
        await Feed(engines, connection.id).until(lambda s: s.metrics.cycles >= 1)

    health = await engines.stub.GetCoordinatorHealth(
        pb.GetCoordinatorHealthRequest(), metadata=auth()
    )

    assert health.enabled and health.HasField("started_at")
    assert health.engines_by_state["running"] == 3
    # One engine per connection, stopped where none runs: the count is the sum of the states
    # (it once said 2 while its states summed to 12). This desk holds stopped ones too.
    assert health.engines_by_state["stopped"] >= 1
    assert health.engines == sum(health.engines_by_state.values())
    assert health.engines_in_error == 0 and health.reconciliations >= 3
    feeds = {(f.exchange, f.api_type): f for f in health.feeds}
    # Two engines on Bybit perpetuals share one feed; OKX has its own.
    assert feeds[("bybit", "perpetual_futures")].subscribers == 2
    assert feeds[("okx", "perpetual_futures")].subscribers == 1
    assert all(f.running and f.rounds >= 1 and f.simulated for f in feeds.values())
    assert feeds[("bybit", "perpetual_futures")].symbols == 3  # the same three symbols


async def test_a_new_connection_appears_on_the_engine_stream(desk: Desk, engines: Engines) -> None:
    stream = engines.stub.WatchEngines(pb.WatchEnginesRequest(), metadata=auth())
    assert (await stream.read()).WhichOneof("event") == "snapshot"
    idle = await desk.connect("okx", desk.account("okx"))  # disabled: no engine
    async with asyncio.timeout(10):
        while True:
            message = await stream.read()
            if message.WhichOneof("event") == "change":
                break
    assert message.change.engine.connection_id == idle.id
    assert (message.change.engine.state, message.change.engine.desired) == ("stopped", "running")
    stream.cancel()


async def test_status_and_watch_of_bad_ids_are_refused(engines: Engines) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await engines.status("")
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "connection_id" in details(empty.value)[1]
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await engines.status("5b0c6a43-0000-4000-8000-00000000000b")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    stream = engines.stub.WatchEngines(
        pb.WatchEnginesRequest(connection_id="not-a-connection"), metadata=auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as unwatchable:
        await stream.read()
    assert unwatchable.value.code() == grpc.StatusCode.NOT_FOUND
