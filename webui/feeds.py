"""Live copies of server state, each kept current by one server stream.

A :class:`ConnectionFeed` holds the connections one token may see. It runs one
``WatchConnections`` stream for all the browser tabs of that token, resumes after the last
revision when the stream breaks, and re-emits every update on a NiceGUI :class:`Event` that
pages subscribe to. Connection health and rate-limit usage arrive on it too (the ``health`` field).
An :class:`EngineFeed` does the same for the engines, with ``WatchEngines``, and a
:class:`PositionFeed` for one connection's positions, with ``WatchPositions`` (the server filters
by the connection, so each connection gets its own snapshot of recent closed positions).

A :class:`SystemStatusFeed` holds the system status, from ``WatchSystemStatus`` (the status,
then each change, at most one a second).

A :class:`PriceFeed` holds one market's prices, from ``WatchPrices`` (the prices, then each
round's changes), for the price ticker of the page frame.

A :class:`TestRunWatch` follows the connection tests that one action (a test, a batch test)
starts, for as long as that action runs. Nothing here polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import grpc
from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as engine_pb
from cts.monitoring.v1 import market_pb2 as market_pb
from cts.monitoring.v1 import monitoring_pb2 as monitoring_pb
from cts.stream.v1 import stream_pb2
from nicegui import Event, background_tasks

from webui.backend import Backend, BackendError, auth_metadata

log = logging.getLogger("cts.webui")

RECONNECT_MIN_SECONDS = 0.2
# The engine streams' max_batch (the server's most): changes that wait together come in one
# message. At 1,000 engines a burst of fills reached watchers asking 100 in 1-8 s (p99); asking
# 1,000, in 0.2-0.4 s: each message costs the server a hop through gRPC, whatever its size.
BATCH = 1000
RECONNECT_MAX_SECONDS = 5.0
# The server refused the request itself (a filter, an unknown connection): asking again with the
# same request cannot help.
REFUSED = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


class UpdateKind(Enum):
    RESET = "reset"  # a snapshot replaced everything
    UPSERT = "upsert"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    kind: UpdateKind
    connection: pb.Connection | None = None


class StreamFeed:
    """One ``Watch*`` stream shared by every page of a token: started with the first page that
    attaches, stopped with the last one, resumed after the last revision when it breaks.

    A subclass opens its stream (:meth:`_watch`) and applies its messages (:meth:`_apply`),
    noting where to resume.
    """

    name = "feed"
    # Answers after which the same request cannot succeed: the feed stops and emits ``refused``.
    refused_codes: tuple[grpc.StatusCode, ...] = REFUSED

    def __init__(self, backend: Backend, token: str) -> None:
        self._backend = backend
        self._token = token
        self.revision = 0
        self.live = False
        self.live_changed: Event[bool] = Event()
        self.rejected: Event[[]] = Event()  # the server no longer accepts the token
        self.refused: Event[BackendError] = Event()  # the server refused the request
        self._task: asyncio.Task[None] | None = None
        self._users = 0

    def attach(self) -> None:
        """A page starts using the feed; the stream starts with the first user."""
        self._users += 1
        if self._task is None or self._task.done():
            self._task = background_tasks.create(self._run(), name=self.name)

    def detach(self) -> None:
        """A page is gone; the stream stops with the last user."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._task is not None:
            self._task.cancel()
            self._task = None
            self._set_live(False)

    def _watch(self) -> AsyncIterator[Any]:
        raise NotImplementedError

    def _apply(self, message: Any) -> None:
        raise NotImplementedError

    def _received(self, message: Any) -> None:
        """Apply one message of the stream; a ``batch`` (changes that waited together, asked
        for with ``max_batch``) as each of its responses alone, in order."""
        if "batch" in message.DESCRIPTOR.fields_by_name and message.HasField("batch"):
            for response in message.batch.responses:
                self._apply(response)
        else:
            self._apply(message)

    async def _run(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            try:
                async for message in self._watch():
                    delay = RECONNECT_MIN_SECONDS
                    self._set_live(True)
                    self._received(message)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                    self._set_live(False)
                    self.rejected.emit()
                    return
                if error.code() in self.refused_codes:
                    self._set_live(False)
                    self.refused.emit(BackendError.of(error))
                    return
                log.info("%s stream broke (%s); resuming", self.name, error.code().name)
            self._set_live(False)
            await asyncio.sleep(delay)  # reconnect back-off
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            self.live_changed.emit(live)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ConnectionFeed(StreamFeed):
    """The connections one token may see, from ``WatchConnections``."""

    name = "connection-feed"

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token)
        self.connections: dict[str, pb.Connection] = {}
        self.updated: Event[FeedUpdate] = Event()

    def ordered(self) -> list[pb.Connection]:
        """Connections with keys first (the ones that can work), each part oldest first."""
        return sorted(self.connections.values(), key=place_in_list)

    def _watch(self) -> AsyncIterator[pb.WatchConnectionsResponse]:
        return self._backend.connections.WatchConnections(  # type: ignore[no-any-return]
            pb.WatchConnectionsRequest(resume_revision=self.revision),
            metadata=auth_metadata(self._token),
            wait_for_ready=True,
        )

    def _apply(self, message: pb.WatchConnectionsResponse) -> None:
        self.revision = message.revision
        event = message.WhichOneof("event")
        if event == "snapshot":
            self.connections = {c.id: c for c in message.snapshot.connections}
            self.updated.emit(FeedUpdate(UpdateKind.RESET))
        elif event == "change":
            connection = message.change.connection
            if message.change.type == stream_pb2.CHANGE_TYPE_REMOVED:
                self.connections.pop(connection.id, None)
                self.updated.emit(FeedUpdate(UpdateKind.REMOVE, connection))
            else:
                self.connections[connection.id] = connection
                self.updated.emit(FeedUpdate(UpdateKind.UPSERT, connection))


@dataclass(frozen=True, slots=True)
class EngineUpdate:
    kind: UpdateKind
    engine: engine_pb.EngineStatus | None = None


class EngineFeed(StreamFeed):
    """The engines of every connection, from ``WatchEngines``: state, stage progress and cycle
    metrics, each change as it happens (a running engine's metrics change every cycle)."""

    name = "engine-feed"

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token)
        self.engines: dict[str, engine_pb.EngineStatus] = {}
        self.updated: Event[EngineUpdate] = Event()

    def status(self, connection_id: str) -> engine_pb.EngineStatus:
        """The engine's last status; a stopped one for a connection the stream has not named
        (the server publishes an engine's status once it first has one)."""
        known = self.engines.get(connection_id)
        return known or engine_pb.EngineStatus(connection_id=connection_id, state="stopped")

    def _watch(self) -> AsyncIterator[engine_pb.WatchEnginesResponse]:
        return self._backend.engines.WatchEngines(  # type: ignore[no-any-return]
            engine_pb.WatchEnginesRequest(resume_revision=self.revision, max_batch=BATCH),
            metadata=auth_metadata(self._token),
            wait_for_ready=True,
        )

    def _apply(self, message: engine_pb.WatchEnginesResponse) -> None:
        event = message.WhichOneof("event")
        self.revision = message.revision
        if event == "snapshot":
            self.engines = {e.connection_id: e for e in message.snapshot.engines}
            self.updated.emit(EngineUpdate(UpdateKind.RESET))
        elif event == "change":
            engine = message.change.engine
            if message.change.type == stream_pb2.CHANGE_TYPE_REMOVED:
                self.engines.pop(engine.connection_id, None)
                self.updated.emit(EngineUpdate(UpdateKind.REMOVE, engine))
            else:
                self.engines[engine.connection_id] = engine
                self.updated.emit(EngineUpdate(UpdateKind.UPSERT, engine))


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    kind: UpdateKind
    position: engine_pb.Position | None = None


class PositionFeed(StreamFeed):
    """One connection's positions, from ``WatchPositions`` filtered by the server: the open ones
    (re-marked every few seconds by their engine's ``marks`` events) and the recently closed
    ones, pseudo and live, each fill as it happens. At most :attr:`closed_kept` closed
    positions are held: the oldest closed go first.
    """

    name = "position-feed"
    closed_kept = 1000

    def __init__(self, backend: Backend, token: str, connection_id: str) -> None:
        super().__init__(backend, token)
        self.connection_id = connection_id
        self.positions: dict[str, engine_pb.Position] = {}
        self._parts: list[engine_pb.Position] = []  # a snapshot's parts so far
        self.synced = False  # a snapshot has arrived
        self.updated: Event[PositionUpdate] = Event()

    def select(self, mode: str, status: str) -> list[engine_pb.Position]:
        """The positions of a mode (pseudo, live) and status (open, closed): open ones newest
        opened first, closed ones newest closed first."""
        chosen = [p for p in self.positions.values() if p.mode == mode and p.status == status]
        if status == "closed":
            chosen.sort(key=lambda p: (p.closed_at.ToNanoseconds(), p.id), reverse=True)
        else:
            chosen.sort(key=lambda p: (p.opened_at.ToNanoseconds(), p.id), reverse=True)
        return chosen

    def _watch(self) -> AsyncIterator[engine_pb.WatchPositionsResponse]:
        self._parts = []  # a new stream: parts of a broken one's snapshot are no use
        return self._backend.engines.WatchPositions(  # type: ignore[no-any-return]
            self._request(), metadata=auth_metadata(self._token), wait_for_ready=True
        )

    def _request(self) -> engine_pb.WatchPositionsRequest:
        return engine_pb.WatchPositionsRequest(
            connection_id=self.connection_id, resume_revision=self.revision, max_batch=BATCH
        )

    def _apply(self, message: engine_pb.WatchPositionsResponse) -> None:
        event = message.WhichOneof("event")
        if event == "snapshot" and message.snapshot.more:  # a part: the rest follows
            self._parts.extend(message.snapshot.positions)
            return  # the revision is the snapshot's once it is whole (a resume needs that)
        self.revision = message.revision
        if event == "snapshot":
            parts, self._parts = self._parts, []
            self.positions = {p.id: p for p in (*parts, *message.snapshot.positions)}
            self.synced = True
            self._trim()
            self.updated.emit(PositionUpdate(UpdateKind.RESET))
        elif event == "change":
            position = message.change.position
            if message.change.type == stream_pb2.CHANGE_TYPE_REMOVED:
                self.positions.pop(position.id, None)
                self.updated.emit(PositionUpdate(UpdateKind.REMOVE, position))
            else:
                self.positions[position.id] = position
                if position.status == "closed":
                    self._trim()
                self.updated.emit(PositionUpdate(UpdateKind.UPSERT, position))
        elif event == "marks":
            for mark in message.marks.marks:
                held = self.positions.get(mark.position_id)
                if held is None or held.status != "open":
                    continue  # not in this view, or closed since (its close came first)
                remarked = engine_pb.Position()
                remarked.CopyFrom(held)
                remarked.mark_price = mark.mark_price
                remarked.unrealized_pnl = mark.unrealized_pnl
                remarked.best_price = mark.best_price
                remarked.trailing_armed = mark.trailing_armed
                self.positions[mark.position_id] = remarked
                self.updated.emit(PositionUpdate(UpdateKind.UPSERT, remarked))

    def _trim(self) -> None:
        closed = [p for p in self.positions.values() if p.status == "closed"]
        if len(closed) > self.closed_kept:
            closed.sort(key=lambda p: (p.closed_at.ToNanoseconds(), p.id))
            for position in closed[: len(closed) - self.closed_kept]:
                del self.positions[position.id]


class SystemStatusFeed(StreamFeed):
    """The system status, from ``WatchSystemStatus``: the status when the stream opens, then
    each change (at most one a second; a reconnected stream starts with the status again)."""

    name = "status-feed"

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token)
        self.status: monitoring_pb.SystemStatus | None = None
        self.updated: Event[[]] = Event()

    def _watch(self) -> AsyncIterator[monitoring_pb.WatchSystemStatusResponse]:
        return self._backend.monitoring.WatchSystemStatus(  # type: ignore[no-any-return]
            monitoring_pb.WatchSystemStatusRequest(),
            metadata=auth_metadata(self._token),
            wait_for_ready=True,
        )

    def _apply(self, message: monitoring_pb.WatchSystemStatusResponse) -> None:
        if message.WhichOneof("event") == "status":
            self.status = message.status
            self.updated.emit()


@dataclass(frozen=True, slots=True)
class Market:
    """A market source the server runs a feed for."""

    exchange: str
    api_type: str
    simulated: bool
    testnet: bool


class PriceFeed(StreamFeed):
    """One market's prices, from ``WatchPrices`` without symbols: every symbol the server's
    running feed of that market prices (a reconnected stream starts with the prices again)."""

    name = "price-feed"

    def __init__(self, backend: Backend, token: str, market: Market) -> None:
        super().__init__(backend, token)
        self.market = market
        self.prices: dict[str, market_pb.Price] = {}
        self.updated: Event[[]] = Event()

    def _watch(self) -> AsyncIterator[market_pb.WatchPricesResponse]:
        m = self.market
        request = market_pb.WatchPricesRequest(
            exchange=m.exchange, api_type=m.api_type, is_simulated=m.simulated, testnet=m.testnet
        )
        return self._backend.market.WatchPrices(  # type: ignore[no-any-return]
            request, metadata=auth_metadata(self._token), wait_for_ready=True
        )

    def _apply(self, message: market_pb.WatchPricesResponse) -> None:
        event = message.WhichOneof("event")
        if event == "snapshot":
            self.prices = {p.symbol: p for p in message.snapshot.prices}
        elif event == "changes":
            self.prices.update((p.symbol, p) for p in message.changes.prices)
        else:
            return
        self.updated.emit()


class TestRunWatch:
    """The connection tests that start after :meth:`open`, from one ``WatchConnectionTests``.

    :meth:`open` returns once the server's first snapshot has arrived. The runs in it started
    earlier and are ignored; so the action that the caller starts *after* ``open()`` returns
    cannot miss a line: each run that appears later is passed to ``on_run`` every time its log
    grows and when it finishes. ``connection_id`` narrows the stream to one connection (the
    server filters); without it every test is seen, and the caller picks its own. The caller
    closes the watch when its action has returned (the RPC's result is complete, so a run whose
    last message had not arrived yet loses nothing).
    """

    def __init__(
        self,
        backend: Backend,
        token: str,
        on_run: Callable[[pb.TestRun], None],
        *,
        connection_id: str | None = None,
    ) -> None:
        self._backend = backend
        self._token = token
        self._on_run = on_run
        self._request = (
            pb.WatchConnectionTestsRequest(connection_id=connection_id)
            if connection_id is not None
            else pb.WatchConnectionTestsRequest()
        )
        self._earlier: set[str] = set()
        self._call: (
            grpc.aio.UnaryStreamCall[
                pb.WatchConnectionTestsRequest, pb.WatchConnectionTestsResponse
            ]
            | None
        ) = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Start the stream and wait for its snapshot; :class:`BackendError` on failure."""
        self._call = self._backend.connections.WatchConnectionTests(
            self._request, metadata=auth_metadata(self._token)
        )
        try:
            while True:
                message = await self._call.read()
                if message is grpc.aio.EOF:
                    raise BackendError(grpc.StatusCode.UNAVAILABLE, "the test stream ended")
                assert isinstance(message, pb.WatchConnectionTestsResponse)
                if message.WhichOneof("event") == "snapshot":
                    self._earlier = {run.test_id for run in message.snapshot.runs}
                    break
        except grpc.aio.AioRpcError as error:
            self._call = None
            raise BackendError.of(error) from None
        self._task = background_tasks.create(self._follow(self._call), name="test-run-watch")

    async def _follow(
        self,
        call: grpc.aio.UnaryStreamCall[
            pb.WatchConnectionTestsRequest, pb.WatchConnectionTestsResponse
        ],
    ) -> None:
        try:
            while (message := await call.read()) is not grpc.aio.EOF:
                assert isinstance(message, pb.WatchConnectionTestsResponse)
                event = message.WhichOneof("event")
                if event == "snapshot":  # a resync after falling behind
                    runs = list(message.snapshot.runs)
                elif event == "change" and message.change.type != stream_pb2.CHANGE_TYPE_REMOVED:
                    runs = [message.change.run]
                else:
                    continue
                for run in runs:
                    if run.test_id not in self._earlier:
                        self._on_run(run)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                # The live log stops; the action's own result still arrives complete.
                log.info("test stream broke (%s)", error.code().name)

    async def close(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class Feeds:
    """One :class:`ConnectionFeed`, :class:`EngineFeed` and :class:`SystemStatusFeed` per token
    in use, and one :class:`PositionFeed` per token and connection looked at."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._connections: dict[str, ConnectionFeed] = {}
        self._engines: dict[str, EngineFeed] = {}
        self._positions: dict[tuple[str, str], PositionFeed] = {}
        self._statuses: dict[str, SystemStatusFeed] = {}
        self._prices: dict[tuple[str, Market], PriceFeed] = {}

    def connections(self, token: str) -> ConnectionFeed:
        feed = self._connections.get(token)
        if feed is None:
            feed = self._connections[token] = ConnectionFeed(self._backend, token)
        return feed

    def engines(self, token: str) -> EngineFeed:
        feed = self._engines.get(token)
        if feed is None:
            feed = self._engines[token] = EngineFeed(self._backend, token)
        return feed

    def positions(self, token: str, connection_id: str) -> PositionFeed:
        feed = self._positions.get((token, connection_id))
        if feed is None:
            feed = self._positions[(token, connection_id)] = PositionFeed(
                self._backend, token, connection_id
            )
        return feed

    def status(self, token: str) -> SystemStatusFeed:
        feed = self._statuses.get(token)
        if feed is None:
            feed = self._statuses[token] = SystemStatusFeed(self._backend, token)
        return feed

    def prices(self, token: str, market: Market) -> PriceFeed:
        feed = self._prices.get((token, market))
        if feed is None:
            feed = self._prices[(token, market)] = PriceFeed(self._backend, token, market)
        return feed

    async def close(self) -> None:
        feeds: list[StreamFeed] = [
            *self._prices.values(),
            *self._connections.values(),
            *self._engines.values(),
            *self._positions.values(),
            *self._statuses.values(),
        ]
        for feed in feeds:
            await feed.close()
        self._connections.clear()
        self._engines.clear()
        self._positions.clear()
        self._statuses.clear()
        self._prices.clear()


def place_in_list(connection: pb.Connection) -> tuple[bool, int, str]:
    """Where a connection is listed: those with keys first, each part oldest first."""
    return (not connection.has_credentials, connection.created_at.ToNanoseconds(), connection.id)
