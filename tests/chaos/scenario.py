"""One scenario's view of a world: the server's streams followed in the background, the faults
it sets and lifts, and what it waits for (see conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc

from tests.chaos.world import SET_ID, World, hold_prices, seconds
from tests.conftest import auth
from tests.support.follow import Follow
from tests.support.invariants import (
    ErrorLog,
    LoggedError,
    assert_invariants,
    check,
    describe,
)
from tests.support.simulator_thread import SimulatorThread


def engine_summary(status: epb.EngineStatus) -> str:
    prices_at = (
        datetime.fromtimestamp(seconds(status.prices_at), UTC).isoformat()
        if status.HasField("prices_at")
        else "-"
    )
    trading = status.trading
    return (
        f"state={status.state} stale={status.stale} prices_at={prices_at} "
        f"cycles={status.metrics.cycles} stale_cycles={status.metrics.stale_cycles} "
        f"error={status.error!r} trades={trading.trades} open_live={trading.open_live_positions} "
        f"live_orders={trading.live_orders} failed_orders={trading.failed_orders} "
        f"optimal={list(trading.optimal_sets)} last_live_error={trading.last_live_error!r}"
    )


def health_summary(connection: cpb.Connection) -> str:
    health = connection.health
    return (
        f"status={health.status} circuit={health.circuit_state} "
        f"exchange_circuit={health.exchange_circuit_state} "
        f"last_check={health.last_check_result!r} reasons={list(health.reasons)}"
    )


def position_summary(positions: dict[str, epb.Position]) -> str:
    shown = [
        f"{p.mode} {p.status} {p.symbol} q={p.quantity} follows={p.follows[:8] or '-'}"
        f" id={p.id[:8]} reason={p.close_reason or '-'}"
        for p in positions.values()
        if p.status == "open" or p.mode == "live"
    ]
    return "; ".join(shown[-12:])


# -- one scenario ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recovery:
    seconds: float
    engine_seconds: float
    health_seconds: float


class Chaos:
    """One scenario's view of the world: the streams followed, faults set and lifted, prices
    moved, recovery awaited and measured, invariants checked."""

    def __init__(self, world: World, channel: grpc.aio.Channel) -> None:
        self.world = world
        self.connections = connection_pb2_grpc.ConnectionServiceStub(channel)
        self.engines = engine_pb2_grpc.EngineServiceStub(channel)
        cid = world.connection_id
        self.engine: Follow[epb.EngineStatus] = Follow("engine", engine_summary)
        self.health: Follow[cpb.Connection] = Follow("connection health", health_summary)
        self.positions: dict[str, epb.Position] = {}
        self.position_events: Follow[epb.Position] = Follow(
            "positions", lambda _: position_summary(self.positions)
        )
        self.engine.start(
            self.engines.WatchEngines(epb.WatchEnginesRequest(connection_id=cid), metadata=auth()),
            lambda m: _engine_statuses(m, cid),
        )
        self.health.start(
            self.connections.WatchConnections(
                cpb.WatchConnectionsRequest(exchange=world.exchange), metadata=auth()
            ),
            lambda m: _connections(m, cid),
        )
        self.position_events.start(
            self.engines.WatchPositions(
                epb.WatchPositionsRequest(connection_id=cid), metadata=auth()
            ),
            self._positions,
        )

    async def close(self) -> None:
        for follow in (self.engine, self.health, self.position_events):
            await follow.close()

    def _positions(self, message: epb.WatchPositionsResponse) -> list[epb.Position]:
        event = message.WhichOneof("event")
        if event == "snapshot":
            self.positions = {p.id: p for p in message.snapshot.positions}
            return list(message.snapshot.positions)
        if event == "change":
            position = message.change.position
            self.positions[position.id] = position
            return [position]
        return []

    # -- the simulator ---------------------------------------------------------------------------

    @property
    def sim(self) -> SimulatorThread:
        return self.world.sim

    def fault(self, **values: Any) -> float:
        """Set faults on this world's exchange; returns when."""
        exchange = self.world.exchange
        self.sim.call(lambda: self.sim.simulator.faults.set(values, exchange=exchange))
        return time.time()

    def key_fault(self, **values: Any) -> None:
        """Set faults on the connection's API key only (every other caller is spared)."""
        key = self.world.account.api_key
        self.sim.call(lambda: self.sim.simulator.faults.set(values, api_key=key))

    def lift(self) -> float:
        """Lift every fault; returns when."""
        self.sim.call(self.sim.simulator.faults.clear)
        return time.time()

    def move(self) -> Decimal:
        """Move every asset to the next price of the suite's path (see the module doc)."""
        price = self.world.next_price()
        hold_prices(self.sim, price)
        self.world.price = price
        self.world.moves += 1
        return price

    # -- what must show --------------------------------------------------------------------------

    async def stale(self, since: float) -> epb.EngineStatus:
        """The engine turns stale (a condition: its state stays running or paused)."""
        _, status = await self.engine.first(
            lambda s: s.stale and s.HasField("stale_since") and seconds(s.stale_since) >= since,
            since=since,
            what="the engine turning stale",
        )
        assert status.state in ("running", "paused"), engine_summary(status)
        return status

    async def exchange_down(self, since: float) -> cpb.Connection:
        """The connection's health shows the exchange's circuit open, and is not healthy."""
        _, connection = await self.health.first(
            lambda c: c.health.exchange_circuit_state == "open",
            since=since,
            what="the exchange circuit opening in the connection's health",
        )
        assert connection.health.status != "healthy", health_summary(connection)
        return connection

    # -- back to normal --------------------------------------------------------------------------

    async def recovered(self, lifted: float, name: str, *, state: str = "running") -> Recovery:
        """Wait until every component on the exchange is back to normal after the lift at
        ``lifted``: the engine running, not stale, cycling on prices asked for after the lift
        (two cycles; ``state``: running, or paused when the scenario paused it); the
        connection's health healthy with both circuits closed; the exchange's
        market feed without failures since a success after the lift. Returns and records the
        time from the lift to the last of them (measured, never asserted)."""

        def engine_normal(s: epb.EngineStatus) -> bool:
            return (
                s.state == state
                and not s.stale
                and not s.HasField("stale_since")
                and s.HasField("prices_at")
                and seconds(s.prices_at) > lifted
            )

        engine_at, fresh = await self.engine.first(
            engine_normal, since=lifted, what=f"{name}: the engine back on fresh prices"
        )
        await self.engine.first(
            lambda s: engine_normal(s) and seconds(s.prices_at) > seconds(fresh.prices_at),
            since=engine_at,
            what=f"{name}: a second fresh cycle",
        )

        def healthy(c: cpb.Connection) -> bool:
            h = c.health
            return (h.status, h.circuit_state, h.exchange_circuit_state) == (
                "healthy",
                "closed",
                "closed",
            )

        health_at = await self.health.settled(
            healthy, since=lifted, what=f"{name}: the connection's health"
        )
        engine_at = await self.engine.settled(
            engine_normal, since=lifted, what=f"{name}: the engine"
        )
        await self.feed_normal(lifted, name)
        recovery = Recovery(
            max(engine_at, health_at) - lifted, engine_at - lifted, health_at - lifted
        )
        self.world.recoveries[name] = recovery.seconds
        print(
            f"\n[chaos] {self.world.exchange} {name}: back to normal {recovery.seconds:.2f} s "
            f"after the lift (engine {recovery.engine_seconds:.2f} s, "
            f"health {recovery.health_seconds:.2f} s)"
        )
        return recovery

    async def feed_normal(self, lifted: float, name: str) -> epb.MarketFeedHealth:
        health = await self.engines.GetCoordinatorHealth(
            epb.GetCoordinatorHealthRequest(), metadata=auth()
        )
        feeds = [
            f
            for f in health.feeds
            if (f.exchange, f.api_type) == (self.world.exchange, self.world.api_type)
        ]
        assert len(feeds) == 1, health.feeds
        (feed,) = feeds
        assert feed.running and feed.consecutive_failures == 0, f"{name}: the feed {feed}"
        assert feed.HasField("last_success_at") and seconds(feed.last_success_at) > lifted, (
            f"{name}: the feed's last success is before the lift: {feed}"
        )
        return feed

    # -- live trading ----------------------------------------------------------------------------

    async def pause(self) -> None:
        """Pause the engine: open positions stay managed, nothing new opens."""
        command = epb.EngineCommand(connection_id=self.world.connection_id)
        status = await self.engines.PauseEngine(command, metadata=auth())
        assert status.state == "paused", engine_summary(status)

    async def resume(self) -> None:
        command = epb.EngineCommand(connection_id=self.world.connection_id)
        status = await self.engines.ResumeEngine(command, metadata=auth())
        assert status.state == "running", engine_summary(status)

    def _open(self, mode: str) -> list[epb.Position]:
        return [
            p
            for p in self.positions.values()
            if p.mode == mode and p.status == "open" and (mode == "live" or p.set_id == SET_ID)
        ]

    def unsettled(self) -> list[str]:
        """What keeps live trading from following the book: every open pseudo position of the
        set followed by one open live position holding something, and no open live position
        following anything else."""
        pseudo = {p.id: p for p in self._open("pseudo")}
        live = self._open("live")
        problems = []
        for pid, p in pseudo.items():
            if not any(x.follows == pid and Decimal(x.quantity or "0") > 0 for x in live):
                problems.append(f"the pseudo position on {p.symbol} ({pid[:8]}) has no live one")
        for x in live:
            if x.follows not in pseudo:
                problems.append(
                    f"the live position on {x.symbol} ({x.id[:8]}) follows {x.follows[:8]}, "
                    "which is not open"
                )
        return problems

    async def _positions_until(self, done: Callable[[], bool], what: str) -> None:
        try:
            await self.position_events.settled(lambda _: done(), since=time.time(), what=what)
        except AssertionError as exc:
            world = self.world
            found = check(world.sim, world.database_url, [world.link], settled=True)
            raise AssertionError(
                f"{exc}\nnot following the book: {'; '.join(self.unsettled()) or 'nothing'}"
                f"\ninvariants if it stays so: {'; '.join(found) or 'all hold'}"
                f"\nengine: {self.engine._now()}"
            ) from None

    async def holding(self, what: str) -> None:
        """Wait until both symbols hold a pseudo position opened at the current price, each
        followed by a live one (and no live position follows anything else)."""
        entry = self.world.price * Decimal("1.0005")

        def done() -> bool:
            pseudo = self._open("pseudo")
            return (
                len(pseudo) == 2
                and all(Decimal(p.entry_price) == entry for p in pseudo)
                and not self.unsettled()
            )

        await self._positions_until(done, f"{what}: live positions at {self.world.price}")

    async def flat(self, what: str) -> None:
        """Wait until no pseudo and no live position is open."""
        await self._positions_until(
            lambda: not self._open("pseudo") and not self._open("live"),
            f"{what}: every position closed",
        )

    async def close_all(self, what: str) -> Decimal:
        """Pause the engine and move the prices one step: every position takes its profit,
        nothing opens again (paused). Returns the new price."""
        await self.pause()
        price = self.move()
        await self.flat(what)
        return price

    # -- invariants ------------------------------------------------------------------------------

    def invariants(self, context: str, *, settled: bool = True) -> None:
        world = self.world
        assert_invariants(
            world.sim, world.database_url, [world.link], settled=settled, context=context
        )


def _engine_statuses(message: epb.WatchEnginesResponse, cid: str) -> list[epb.EngineStatus]:
    event = message.WhichOneof("event")
    if event == "snapshot":
        return [s for s in message.snapshot.engines if s.connection_id == cid]
    if event == "change":
        return [message.change.engine] if message.change.engine.connection_id == cid else []
    return []


def _connections(message: cpb.WatchConnectionsResponse, cid: str) -> list[cpb.Connection]:
    event = message.WhichOneof("event")
    if event == "snapshot":
        return [c for c in message.snapshot.connections if c.id == cid]
    if event == "change":
        return [message.change.connection] if message.change.connection.id == cid else []
    return []


def grpc_multi_loop_artifact(record: LoggedError) -> bool:
    """grpc's asyncio poller, bound to two event loops of this one process (the in-process
    server's and the test's), wakes both and one finds nothing to read: a spurious
    BlockingIOError logged by asyncio (grpc/grpc#25364). Not CTS's, and impossible in a server
    process of its own."""
    return (
        record.logger == "asyncio"
        and "PollerCompletionQueue._handle_events" in record.message
        and record.exception.startswith("BlockingIOError")
    )


def fault_outcome(record: LoggedError) -> bool:
    """What the server logs at ERROR as the outcome of an exchange fault, by design (the log
    tells the operator): a live order that failed, an engine in error, a connection test that
    failed. Never with a traceback: a traceback is a bug."""
    if record.exception:
        return False
    return (
        (record.logger == "cts.engine.live" and record.message.startswith("live order failed:"))
        or (record.logger == "cts.engine" and record.message.startswith("engine error:"))
        or record.logger == "cts.tests"
    )


def no_unexplained_errors(
    records: ErrorLog, explained: Callable[[LoggedError], bool] = lambda _: False, context: str = ""
) -> None:
    unexplained = records.unexplained(
        lambda r: grpc_multi_loop_artifact(r) or fault_outcome(r) or explained(r)
    )
    assert not unexplained, f"ERROR records without a matching fault ({context}):\n" + describe(
        unexplained
    )
