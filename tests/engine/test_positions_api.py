"""Positions through the server: the position stream, ListPositions and the progression over
gRPC and REST (real Envoy), stop with close positions, bad queries, and a server restart that
keeps every open position. Engines run against the exchange simulator with every asset held at
100 (flat history), then moved to 102: the trend entry opens a long on each symbol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1.connection_pb2_grpc import ConnectionServiceStub as ConnectionStub
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc
from cts.stream.v1 import stream_pb2

from server.engine.store import MAX_PAGE
from server.simulator.instruments import ASSETS
from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.connections.conftest import Desk
from tests.support.envoy_process import EnvoyProcess
from tests.support.rpc import engine_until
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.support.stored_positions import store_open_positions

ENGINES = {
    "engines": True,
    "engine_cycle_seconds": 0.1,
    "engine_symbols": 2,
    "engine_timeframe": "1h",
    "engine_history_bars": 40,
    "engine_sets": "trend/trailing",
    "engine_mark_seconds": 0.2,
    "demo": False,
}
UNKNOWN = "5b0c6a43-0000-4000-8000-000000000009"


def hold_prices(sim: SimulatorThread, price: str) -> None:
    def hold() -> None:
        for asset in ASSETS:
            sim.simulator.prices.set_price(asset.code, price)

    sim.call(hold)


class Trading:
    def __init__(self, channel: grpc.aio.Channel, sim: SimulatorThread) -> None:
        self.stub = engine_pb2_grpc.EngineServiceStub(channel)
        self.connections = ConnectionStub(channel)
        self.sim = sim

    async def positions(self, connection_id: str, **query: Any) -> pb.ListPositionsResponse:
        request = pb.ListPositionsRequest(connection_id=connection_id, **query)
        return await self.stub.ListPositions(request, metadata=auth())  # type: ignore[no-any-return]

    async def engine_until(
        self, connection_id: str, wanted: Callable[[pb.EngineStatus], bool]
    ) -> pb.EngineStatus:
        return await engine_until(self.stub, connection_id, wanted)


def connect(http: httpx.Client, sim: SimulatorThread) -> str:
    account = sim.call(lambda: sim.simulator.open_account("binance", balances={"USDT": 1000}))
    body = {
        "name": f"positions {account.api_key[-6:]}",
        "exchange": "binance",
        "api_type": "spot",
        "api_key": account.api_key,
        "api_secret": account.secret,
        "is_simulated": True,
        "is_enabled": True,
        "is_active": True,
    }
    response = http.post("/api/settings/connections", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


class Stack:
    def __init__(self, sim: SimulatorThread, server: ServerThread, envoy: EnvoyProcess) -> None:
        self.sim, self.server = sim, server
        self.http = httpx.Client(
            base_url=envoy.base_url,
            headers={"authorization": f"Bearer {TEST_TOKEN}"},
            timeout=20,
        )


def running_stack(data: Path, settings: dict[str, Any]) -> Iterator[Stack]:
    """A simulator (every asset at 100), a server on it with ``settings``, Envoy in front."""
    sim = SimulatorThread().start()
    hold_prices(sim, "100")
    server = ServerThread(make_settings(data, simulator_url=sim.base_url, **settings)).start()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    stack = Stack(sim, server, envoy)
    yield stack
    stack.http.close()
    envoy.stop()
    server.stop()
    sim.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory.mktemp("positions") / "data", ENGINES)


@pytest.fixture
async def trading(stack: Stack) -> AsyncIterator[Trading]:
    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        yield Trading(channel, stack.sim)


async def opened_positions(stream: Any, count: int, timeout: float = 30) -> list[pb.Position]:
    """Read the position stream until ``count`` positions were added as open."""
    opened: list[pb.Position] = []
    async with asyncio.timeout(timeout):
        while len(opened) < count:
            message = await stream.read()
            assert message is not grpc.aio.EOF, "the position stream ended"
            position = message.change.position
            fresh = position.id not in {p.id for p in opened}
            if message.WhichOneof("event") == "change" and position.status == "open" and fresh:
                opened.append(position)
    return opened


async def remarked(stream: Any, price: str, timeout: float = 30) -> pb.PositionMarks:
    """Read a connection's position stream until an engine's marks event puts every position
    it re-marks at ``price``; that event. A re-mark is never a change of a position: changes
    are fills only, and none comes meanwhile."""
    async with asyncio.timeout(timeout):
        while True:
            message = await stream.read()
            assert message is not grpc.aio.EOF, "the position stream ended"
            event = message.WhichOneof("event")
            assert event != "change", message
            if event == "marks" and {m.mark_price for m in message.marks.marks} == {price}:
                return message.marks  # type: ignore[no-any-return]


async def opened_on_stream(
    stack: Stack, trading: Trading
) -> tuple[str, Any, pb.EngineStatus, list[pb.Position]]:
    """A new connection's engine running at 100, its position stream, then the two longs its
    trend entry opens when prices move to 102 (as the stream told them)."""
    hold_prices(stack.sim, "100")
    connection_id = connect(stack.http, stack.sim)
    stream = trading.stub.WatchPositions(
        pb.WatchPositionsRequest(connection_id=connection_id), metadata=auth()
    )
    first = await stream.read()
    assert first.WhichOneof("event") == "snapshot" and list(first.snapshot.positions) == []
    running = await trading.engine_until(connection_id, lambda s: s.state == "running")
    assert len(running.symbols) == 2
    hold_prices(stack.sim, "102")
    return connection_id, stream, running, await opened_positions(stream, 2)


async def test_positions_stream_list_progression_and_stop_with_close(
    stack: Stack, trading: Trading
) -> None:
    connection_id, stream, running, opened = await opened_on_stream(stack, trading)
    stream.cancel()

    assert {p.symbol for p in opened} == set(running.symbols)
    assert all(
        (p.mode, p.set_id, p.side, p.entry_price) == ("pseudo", "trend/trailing", "long", "102.051")
        for p in opened
    )
    listed = stack.http.get("/api/trading/positions", params={"connectionId": connection_id})
    assert listed.status_code == 200, listed.text
    rows = listed.json()["positions"]
    assert {r["id"] for r in rows} == {p.id for p in opened}
    assert all(isinstance(r["quantity"], str) and r["status"] == "open" for r in rows)
    progression = stack.http.get("/api/trade-engine/progression")
    assert progression.status_code == 200, progression.text
    mine = next(e for e in progression.json()["engines"] if e["connection_id"] == connection_id)
    assert mine["trading"]["open_pseudo_positions"] == 2 and mine["trading"]["trades"] == 2
    assert isinstance(mine["metrics"]["strategy_cycles"], int)  # counts are JSON numbers
    assert mine["metrics"]["strategy_cycles"] >= 1

    stopped = stack.http.post(
        "/api/trade-engine/stop", json={"connectionId": connection_id, "closePositions": True}
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["state"] == "stopped"
    closed = await trading.positions(connection_id, status="closed")
    assert {p.id for p in closed.positions} == {p.id for p in opened}
    assert all(
        (p.close_reason, p.exit_price) == ("engine_stop", "101.949") for p in closed.positions
    )
    assert (await trading.positions(connection_id, status="open")).positions == []


async def test_open_positions_are_remarked_in_one_compact_event_per_engine(
    stack: Stack, trading: Trading
) -> None:
    connection_id, stream, _, positions = await opened_on_stream(stack, trading)
    opened = {p.id: p for p in positions}

    hold_prices(stack.sim, "103")  # a new best price too: the trailing stop's running state
    marks = await remarked(stream, "103")
    await trading.stub.StopEngine(pb.EngineCommand(connection_id=connection_id), metadata=auth())
    stream.cancel()

    assert marks.connection_id == connection_id
    assert {m.position_id for m in marks.marks} == set(opened)
    for mark in marks.marks:
        held = opened[mark.position_id]
        pnl = (D("103") - D(held.average_price)) * D(held.quantity)
        assert D(mark.unrealized_pnl) == pnl.quantize(D("1e-12"), rounding=ROUND_HALF_EVEN)
        assert (mark.best_price, mark.trailing_armed) == ("103", False)


async def test_a_snapshot_takes_running_engines_positions_as_held_and_the_others_stored(
    stack: Stack, trading: Trading
) -> None:
    connection_id, stream, _, opened = await opened_on_stream(stack, trading)
    idle = await trading.connections.CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(name="No engine", exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    stored = await store_open_positions(stack.server.settings.resolved_database_url, idle.id, 3)
    hold_prices(stack.sim, "102.5")
    await remarked(stream, "102.5")
    stream.cancel()

    everything = trading.stub.WatchPositions(pb.WatchPositionsRequest(), metadata=auth())
    snapshot = (await everything.read()).snapshot
    everything.cancel()
    ids = [p.id for p in snapshot.positions if p.status == "open"]
    assert len(ids) == len(set(ids))  # each once
    assert {p.id for p in opened} | {str(v.id) for v in stored} <= set(ids)
    mine = {p.id: p for p in snapshot.positions if p.connection_id == connection_id}
    assert set(mine) == {p.id for p in opened}
    assert all(p.mark_price == "102.5" for p in mine.values())  # as held: the last mark
    await trading.stub.StopEngine(pb.EngineCommand(connection_id=connection_id), metadata=auth())


async def test_pages_of_positions(stack: Stack, trading: Trading) -> None:
    hold_prices(stack.sim, "100")
    connection_id = connect(stack.http, stack.sim)
    stream = trading.stub.WatchPositions(
        pb.WatchPositionsRequest(connection_id=connection_id), metadata=auth()
    )
    await trading.engine_until(connection_id, lambda s: s.state == "running")
    hold_prices(stack.sim, "102")
    await opened_positions(stream, 2)
    stream.cancel()

    first = await trading.positions(connection_id, page_size=1)
    second = await trading.positions(connection_id, page_size=1, page_token=first.next_page_token)

    assert len(first.positions) == len(second.positions) == 1 and first.next_page_token
    assert first.positions[0].id != second.positions[0].id
    assert second.next_page_token == ""  # the last page
    await trading.stub.StopEngine(pb.EngineCommand(connection_id=connection_id), metadata=auth())


async def test_bad_position_queries_and_commands_are_refused(
    stack: Stack, trading: Trading
) -> None:
    connection_id = connect(stack.http, stack.sim)
    path = "/api/trading/positions"
    for query, status, named in (
        ({"connectionId": connection_id, "status": "half"}, 400, "status"),
        ({"connectionId": connection_id, "mode": "paper"}, 400, "mode"),
        ({"connectionId": connection_id, "pageSize": "-1"}, 400, "page_size"),
        ({"connectionId": connection_id, "pageToken": "abc"}, 400, "page_token"),
        ({"connectionId": UNKNOWN}, 404, UNKNOWN),
        ({"connectionId": "not-an-id"}, 404, "not-an-id"),
    ):
        response = stack.http.get(path, params=query)
        assert response.status_code == status, (query, response.text)
        assert named in response.json()["message"], (query, response.json())
    start = stack.http.post(
        "/api/trade-engine/start", json={"connectionId": connection_id, "closePositions": True}
    )
    assert start.status_code == 400 and "close_positions" in start.json()["message"]
    progression = stack.http.get("/api/trade-engine/progression", headers={"authorization": ""})
    assert progression.status_code == 401
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        stream = trading.stub.WatchPositions(
            pb.WatchPositionsRequest(connection_id=UNKNOWN), metadata=auth()
        )
        await stream.read()
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_bad_max_batch_on_the_watch_routes_is_a_400_naming_it(stack: Stack) -> None:
    for path in ("/v1/positions:watch", "/v1/engines:watch"):
        for value in ("-1", "many"):
            response = stack.http.get(path, params={"maxBatch": value})
            assert response.status_code == 400, (path, value, response.text)
            body = response.json()
            assert "max_batch" in body["message"] or "maxBatch" in body["message"], body


async def test_a_server_restart_keeps_every_open_position(tmp_path: Path) -> None:
    sim = SimulatorThread().start()
    hold_prices(sim, "100")
    settings = make_settings(tmp_path / "data", simulator_url=sim.base_url, **ENGINES)
    try:
        first = ServerThread(settings).start()
        try:
            async with grpc.aio.insecure_channel(first.target) as channel:
                desk = Desk(channel, first, sim)
                made = await desk.connect(
                    "binance", desk.account("binance"), is_enabled=True, is_active=True
                )
                connection_id = made.id
                trading = Trading(channel, sim)
                stream = trading.stub.WatchPositions(
                    pb.WatchPositionsRequest(connection_id=connection_id), metadata=auth()
                )
                await trading.engine_until(connection_id, lambda s: s.state == "running")
                hold_prices(sim, "102")
                before = {p.id: p for p in await opened_positions(stream, 2)}
                stream.cancel()
        finally:
            first.stop()

        second = ServerThread(settings).start()
        try:
            async with grpc.aio.insecure_channel(second.target) as channel:
                trading = Trading(channel, sim)
                # Back, running, several cycles on: the entry still fires, yet nothing new opens.
                again = await trading.engine_until(
                    connection_id, lambda s: s.state == "running" and s.metrics.cycles >= 5
                )
                assert again.trading.open_pseudo_positions == 2
                after = await trading.positions(connection_id)
        finally:
            second.stop()
    finally:
        sim.stop()
    assert {p.id: (p.status, p.quantity, p.entry_price) for p in after.positions} == {
        p.id: (p.status, p.quantity, p.entry_price) for p in before.values()
    }


async def test_every_open_position_is_in_a_snapshot_and_in_pages_of_the_largest_size(
    stack: Stack, trading: Trading
) -> None:
    """Open positions are live state: a watcher's snapshot holds all of them, not one page
    (in parts of at most 1,000 positions, each its own message, ``more`` on all but the last)."""
    made = await trading.connections.CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(name="Many open", exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    stored = await store_open_positions(
        stack.server.settings.resolved_database_url, made.id, MAX_PAGE + 5
    )
    stream = trading.stub.WatchPositions(
        pb.WatchPositionsRequest(connection_id=made.id), metadata=auth()
    )
    parts = [await stream.read()]
    while parts[-1].snapshot.more:
        parts.append(await stream.read())
    stream.cancel()
    assert {p.WhichOneof("event") for p in parts} == {"snapshot"} and len(parts) >= 2
    assert all(0 < len(p.snapshot.positions) <= MAX_PAGE for p in parts)
    assert len({p.revision for p in parts}) == 1
    assert {p.snapshot.reason for p in parts} == {stream_pb2.SNAPSHOT_REASON_INITIAL}
    held = [q for p in parts for q in p.snapshot.positions]
    assert {q.id for q in held} == {str(v.id) for v in stored} and len(held) == len(stored)

    # Listed at the largest page size, they take two pages.
    page = await trading.positions(made.id, page_size=MAX_PAGE)
    assert len(page.positions) == MAX_PAGE and page.next_page_token
    rest = await trading.positions(made.id, page_size=MAX_PAGE, page_token=page.next_page_token)
    assert len(rest.positions) == 5 and not rest.next_page_token
    listed = {p.id for p in page.positions} | {p.id for p in rest.positions}
    assert listed == {str(v.id) for v in stored}
