"""An engine against the exchange simulator whose market feed runs one round at a time.

:class:`SteppedFeed` hands the engine one round when a test says so (prices fetched from the
simulator through exchange access, like the real feed; a failed fetch is a failed round, as the
real feed reports it) and reports when the engine has finished with it. Everything else —
loading, signals, strategies, fills, storage, live orders — is the engine's own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from server.engine.board import Boards, SharedHistory
from server.engine.engine import Engine, EngineParts
from server.engine.loading import LoadPlan
from server.engine.marks import PositionEvent, PositionMarks, publish_position_event
from server.engine.positions import Mode, PositionView, Status
from server.engine.status import Desired, EngineState, EngineStatus
from server.engine.store import PositionStore
from server.engine.strategies import Position, Side
from server.exchange.access import AccessConfig, ExchangeAccess, Target
from server.exchange.errors import ExchangeError
from server.exchange.model import Ticker
from server.simulator.instruments import ASSETS
from server.simulator.ledger import Account
from server.simulator.server import Simulator
from server.streams.topic import Topic
from tests.support.book import Book, open_book

SLIPPAGE = Decimal("0.0005")
D = Decimal


@dataclass(frozen=True)
class Round:
    prices: dict[str, Ticker]
    time: float
    round: int
    ok: bool = True


@dataclass
class SteppedFeed:
    """A market feed that runs a round only when the test calls :meth:`step`."""

    access: ExchangeAccess
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    rounds: asyncio.Queue[float] = field(default_factory=asyncio.Queue)
    target: Target | None = None
    symbols: tuple[str, ...] = ()
    unpriced: frozenset[str] = frozenset()  # symbols the rounds leave out (as if not priced)
    number: int = 0  # of the last round

    def subscribe(self, target: Target, symbols: tuple[str, ...]) -> SteppedFeed:
        self.target, self.symbols = target, symbols
        return self

    async def next(self, timeout: float | None = None) -> Round:
        self.idle.set()  # the engine is done with the previous round
        async with asyncio.timeout(timeout):  # only the wait for the test's step
            at = await self.rounds.get()
        assert self.target is not None
        self.number += 1
        try:
            prices = await self.access.call(self.target, lambda a: a.tickers(list(self.symbols)))
        except ExchangeError:  # the round failed, as the real feed reports it: no prices
            return Round({}, at, self.number, ok=False)
        return Round({s: t for s, t in prices.items() if s not in self.unpriced}, at, self.number)

    def close(self) -> None:
        pass

    async def step(self, at: float) -> None:
        """Run one round and wait until the engine has finished with it."""
        async with asyncio.timeout(20):
            await self.idle.wait()
            self.idle.clear()
            self.rounds.put_nowait(at)
            await self.idle.wait()


@dataclass
class Bench:
    sim: Simulator
    book: Book
    access: ExchangeAccess
    feed: SteppedFeed
    statuses: list[EngineStatus] = field(default_factory=list)
    published: list[PositionView] = field(default_factory=list)  # fills
    marks: list[PositionMarks] = field(default_factory=list)
    # What the engines publish also goes to these topics, as in the server (for followers).
    engine_topic: Topic[EngineStatus] = field(default_factory=lambda: Topic("engines"))
    position_topic: Topic[PositionEvent] = field(default_factory=lambda: Topic("positions"))
    # Shared by every engine of the bench, as by every engine of a coordinator.
    boards: Boards = field(default_factory=Boards)
    history: SharedHistory = field(default_factory=SharedHistory)
    _status_published: asyncio.Event = field(default_factory=asyncio.Event)

    def engine(
        self,
        connection_id: str,
        sets: Sequence[str] = ("trend/trailing",),
        *,
        symbols: int = 1,
        stale_seconds: float = 3.0,
    ) -> Engine:
        parts = EngineParts(
            access=self.access,
            plan=LoadPlan(
                symbols=symbols, timeframe="1h", bars=40, sets=tuple(sets), slippage=SLIPPAGE
            ),
            subscribe=self.feed.subscribe,
            store=PositionStore(self.book.db),
            publish_status=self._publish_status,
            publish_position=self._publish_position,
            mark_seconds=3600,
            live_retry_seconds=0.01,
            stale_seconds=stale_seconds,
            boards=self.boards,
            history=self.history,
        )
        cid = uuid.UUID(connection_id)

        async def target() -> Target:
            return await self.book.connections.target(connection_id)

        return Engine(
            connection_id,
            parts,
            target=target,
            connection=lambda: self.book.connections.cached(cid),
        )

    def _publish_status(self, status: EngineStatus) -> None:
        self.statuses.append(status)
        self.engine_topic.publish(status.connection_id, status)
        self._status_published.set()

    def _publish_position(self, event: PositionEvent) -> None:
        if isinstance(event, PositionMarks):
            self.marks.append(event)
        else:
            self.published.append(event)
        publish_position_event(self.position_topic, event)  # as the coordinator does

    async def status_where(
        self, accept: Callable[[EngineStatus], bool], timeout: float = 20
    ) -> EngineStatus:
        """The first status published from now on that ``accept`` accepts (waits for it)."""
        seen = len(self.statuses)
        async with asyncio.timeout(timeout):
            while True:
                for status in self.statuses[seen:]:
                    if accept(status):
                        return status
                seen = len(self.statuses)
                self._status_published.clear()
                await self._status_published.wait()

    async def connect(
        self,
        account: Account,
        *,
        exchange: str | None = None,
        api_type: str = "spot",
        **extra: Any,
    ) -> str:
        """A simulated connection with the account's keys; ``exchange`` as CTS names it when not
        the simulator's name of the account's exchange (Kraken Futures: kraken)."""
        exchange = exchange or account.exchange
        values = {
            "name": f"{exchange} {api_type} {account.api_key[-6:]}",
            "exchange": exchange,
            "api_type": api_type,
            "api_key": account.api_key,
            "api_secret": account.secret,
            "is_simulated": True,
            **extra,
        }
        if account.passphrase is not None:
            values["api_passphrase"] = account.passphrase
        view = await self.book.connections.create(values)
        return str(view.id)

    async def live_engine(
        self,
        sets: Sequence[str],
        optimal: Sequence[str],
        *,
        exchange: str = "binance",
        api_type: str = "spot",
        simulated_as: str | None = None,
        **connection: Any,
    ) -> tuple[Account, Engine, str]:
        """An account (Binance spot unless told; ``simulated_as``: the simulator's exchange
        behind it, if not ``exchange``) with live trading on, ``optimal`` made optimal by stored
        history, and its engine running ``sets``: the account, the engine and its symbol."""
        account = self.sim.open_account(simulated_as or exchange, balances={"USDT": 10000})
        connection_id = await self.connect(
            account, exchange=exchange, api_type=api_type, **connection
        )
        await self.book.connections.set_live_trade(connection_id, True, confirmed=True)
        probe = self.engine(connection_id)
        symbol = await self.running(probe)
        await probe.stop()
        await optimal_history(PositionStore(self.book.db), connection_id, symbol, optimal)
        engine = self.engine(connection_id, sets=sets)
        self.feed.idle.clear()
        await self.running(engine)
        return account, engine, symbol

    async def running(self, engine: Engine) -> str:
        """Start the engine and wait for its first request of a round; its symbol."""
        engine.run(Desired.RUNNING)
        async with asyncio.timeout(30):
            await self.feed.idle.wait()
        assert engine.status.state is EngineState.RUNNING, engine.status.error
        (symbol,) = engine.status.symbols
        return symbol

    async def prices(self, symbol: str, path: Sequence[str]) -> None:
        """Move the symbol's price along ``path``, one round per price, in one bar."""
        base = symbol.split("/")[0]
        for number, price in enumerate(path, start=1):
            self.sim.prices.set_price(base, price)
            await self.feed.step(self.bar_time + number)

    @property
    def bar_time(self) -> float:
        """A moment inside the current hourly bar (rounds never start a new bar)."""
        newest = max(c.open_time for c in self.sim.prices.candles("BTC", 3600, limit=1))
        return newest / 1000 + 1


async def open_bench(database_url: str) -> AsyncIterator[Bench]:
    """A simulator with every asset held flat at 100, storage, and exchange access to it.
    BTC trades the most, so an engine of one symbol trades BTC whatever the hour: at a price of
    100 its amount step (0.00001) fits every order the tests make; XRP's (1) would not."""
    sim = Simulator(seed=3)
    for asset in ASSETS:
        sim.prices.set_price(asset.code, 100)
    sim.prices.scale_volume("BTC", 1000)
    await sim.start()
    book = await open_book(database_url)
    access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield Bench(sim, book, access, SteppedFeed(access))
    await access.close()
    book.close()
    await sim.stop()


async def optimal_history(
    store: PositionStore,
    connection_id: str,
    symbol: str,
    set_ids: Sequence[str] = ("trend/trailing",),
) -> None:
    """Five winning closed pseudo positions of each set: the default preset's Optimal (at
    least 5 positions, profit factor at least 1.2) marks those sets optimal."""
    state = Position(Side.LONG, D(1), D(100), D(100), D(100), D(100))
    await store.save(
        [
            PositionView(
                id=uuid.uuid4(),
                connection_id=connection_id,
                mode=Mode.PSEUDO,
                set_id=set_id,
                symbol=symbol,
                state=state,
                fees=D(0),
                status=Status.CLOSED,
                exit_price=D(101),
                realized_pnl=D(1),
                close_reason="take_profit",
            )
            for set_id in set_ids
            for _ in range(5)
        ]
    )
