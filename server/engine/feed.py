"""The shared market-data feed of the trade engines: one tickers fetch per exchange serves them all.

Engines on the same *market source* (exchange, API type, testnet, simulated) share one
:class:`MarketFeed`. While it has subscribers, the feed runs one background task that every
``interval_seconds`` (the engines' realtime cycle) fetches the tickers of the union of the
symbols its subscribers want, in one ``fetch_tickers`` call through exchange access with a
public target (no credentials). So the calls count against the exchange's public account, its
limits, circuit breaker and timeouts, like every other call CTS makes; N engines on one exchange
cost one request per cycle instead of N. When the last subscriber leaves, the task stops (a
round in flight is cancelled); the next subscriber starts it again. Both are logged (info). Price
watchers (``server.monitoring.prices``) subscribe like engines; a subscriber may also want
*every* symbol the others want: it adds none of its own and its ticks are not narrowed. The
feed's task runs in a logging context of its own: its entries concern the feed (their
``subject``), not the connection of the engine that happened to start it.

Scheduling is at a fixed rate: round k is due at ``first start + k * interval``, so the rounds do
not drift with their own duration. A round that overruns its slot is followed at once by the next
(and the grid restarts there): missed slots are skipped, never made up, and two rounds never run
at once. ``asyncio.sleep`` is only the scheduler's wait for the next slot.

Publication: each round yields one immutable :class:`Tick`, which replaces the feed's *latest*
tick; then one shared :class:`asyncio.Event` is set (and replaced by a fresh one for the next
round) to wake every waiting subscriber. The feed never waits for a subscriber and does no
per-subscriber work, so a slow engine cannot delay the feed or the others: it simply gets the
latest tick when it next asks, and sees from :attr:`Tick.round` how many rounds it missed. (The
:class:`~server.streams.topic.Topic` of ``server.streams`` queues every change per subscriber
and drops a slow one's buffer; for prices only the latest snapshot matters, so the feed keeps
just that.)

Failures: a round whose fetch fails publishes a tick with :attr:`Tick.error` set and *no*
prices; prices are never served stale under a new round number, so an engine cannot mistake
old prices for current ones (it keeps the last good tick itself if it wants them). The feed
goes on: the next round tries again, and exchange access's circuit breaker decides when calls
fail fast (``circuit_open``) instead of reaching the exchange. A symbol the exchange does not
know would make the whole ``fetch_tickers`` fail for every engine; so on a ``bad_symbol``
failure the feed looks the symbols up in the (cached) markets, drops the unknown ones for the
rest of its life, reports them in :attr:`Tick.unknown`, and fetches the others in the same
round.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType

from server.exchange.access import ExchangeAccess, Target
from server.exchange.adapter import ExchangeAdapter
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.model import Ticker
from server.monitoring.logs.about import about

log = logging.getLogger("cts.engine.feed")

DEFAULT_INTERVAL_SECONDS = 1.0
_NO_PRICES: Mapping[str, Ticker] = MappingProxyType({})


class FeedClosed(Exception):
    """The subscription was closed, or the feeds were shut down (server stopping)."""


@dataclass(frozen=True, slots=True)
class MarketSource:
    """Where market data comes from: the key of a shared feed."""

    exchange: str
    api_type: str
    testnet: bool = False
    simulated: bool = False

    @classmethod
    def of(cls, target: Target) -> MarketSource:
        """The market source of a connection (its credentials play no part)."""
        return cls(target.exchange, target.api_type, target.testnet, target.simulated)

    @property
    def connection_id(self) -> str:
        """The connection id the feed's calls go out under (one adapter per source)."""
        return ":".join(
            ["feed", self.exchange, self.api_type]
            + (["testnet"] if self.testnet else [])
            + (["simulated"] if self.simulated else [])
        )

    @property
    def target(self) -> Target:
        """The public target of the feed's calls: the exchange's public account and limits."""
        return Target(
            connection_id=self.connection_id,
            exchange=self.exchange,
            api_type=self.api_type,
            testnet=self.testnet,
            simulated=self.simulated,
            credentials=None,
        )


@dataclass(frozen=True, slots=True)
class Tick:
    """One round of the feed, as one subscriber sees it.

    ``round`` counts the feed's rounds (1, 2, ...; it keeps counting when the task restarts).
    ``time`` is when the round started (seconds since the epoch), ``duration_seconds`` how long
    its fetch took. ``prices`` holds the subscriber's symbols that the exchange priced; it is
    empty when ``error`` is set (the round's fetch failed). ``unknown`` are the subscriber's
    symbols the exchange does not list (never fetched).
    """

    round: int
    time: float
    duration_seconds: float
    prices: Mapping[str, Ticker]
    error: ExchangeError | None = None
    unknown: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.error is None

    def only(self, symbols: frozenset[str]) -> Tick:
        """This tick narrowed to ``symbols`` (run by the subscriber, not by the feed)."""
        return Tick(
            self.round,
            self.time,
            self.duration_seconds,
            MappingProxyType({s: t for s, t in self.prices.items() if s in symbols}),
            self.error,
            self.unknown & symbols,
        )


@dataclass(frozen=True, slots=True)
class FeedStats:
    """A feed's counters, for metrics."""

    source: MarketSource
    running: bool
    subscribers: int
    symbols: int  # in the union the rounds fetch
    rounds: int
    failures: int
    overruns: int  # rounds that took longer than the interval (the next started at once)
    last_round_seconds: float
    last_round_at: float | None  # epoch seconds
    last_error: str  # the failure kind of the last failed round
    unknown_symbols: frozenset[str] = field(default_factory=frozenset)
    consecutive_failures: int = 0  # failed rounds since the last good one (0: prices flow)
    last_success_at: float | None = None  # epoch seconds: when the last good round started


class Subscription:
    """One engine's view of a feed. Use as ``async with`` or call :meth:`close`."""

    __slots__ = ("_closed", "_everything", "_feed", "_last_round", "_min_round", "_symbols")

    def __init__(
        self, feed: MarketFeed, symbols: frozenset[str], *, everything: bool = False
    ) -> None:
        self._feed = feed
        self._symbols = symbols
        self._everything = everything
        self._last_round = 0
        self._min_round = feed._rounds + 1
        self._closed = False

    @property
    def feed(self) -> MarketFeed:
        return self._feed

    @property
    def symbols(self) -> frozenset[str]:
        return self._symbols

    @property
    def everything(self) -> bool:
        """Whether it gets every symbol the feed prices (its own symbols are then none)."""
        return self._everything

    @property
    def closed(self) -> bool:
        return self._closed

    def update(self, symbols: Iterable[str]) -> None:
        """Want these symbols from now on. The next tick :meth:`next` returns comes from a round
        that started after this call, so it covers them."""
        self._symbols = frozenset(symbols)
        self._min_round = self._feed._rounds + 1

    async def next(self, timeout: float | None = None) -> Tick:
        """The latest tick, once it is newer than the last one returned (and from a round that
        started after subscribing or the last :meth:`update`); waits for it if need be.

        Raises ``TimeoutError`` when ``timeout`` seconds pass without one, and
        :class:`FeedClosed` when the subscription or the feed is closed.
        """
        async with asyncio.timeout(timeout):
            while True:
                if self._closed:
                    raise FeedClosed(f"market feed {self._feed.source.connection_id} closed")
                latest = self._feed._latest
                wanted = max(self._last_round + 1, self._min_round)
                if latest is not None and latest.round >= wanted:
                    self._last_round = latest.round
                    return latest if self._everything else latest.only(self._symbols)
                await self._feed._published.wait()

    def close(self) -> None:
        """Leave the feed (idempotent); the feed's task stops when its last subscriber leaves."""
        if not self._closed:
            self._closed = True
            self._feed._leave(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MarketFeed:
    """The shared feed of one market source (get it from :class:`MarketFeeds`)."""

    def __init__(
        self,
        access: ExchangeAccess,
        source: MarketSource,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("a feed's interval must be positive")
        self.access = access
        self.source = source
        self.interval_seconds = interval_seconds
        self._target = source.target
        self._about = about(source.connection_id)  # the subject of the feed's log entries
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._latest: Tick | None = None
        self._published = asyncio.Event()
        self._closed = False
        self._unknown: set[str] = set()
        self._run_after = 0  # the rounds before the task's current run
        # Counters (for metrics).
        self._rounds = 0
        self._failures = 0
        self._overruns = 0
        self._last_round_seconds = 0.0
        self._last_symbols = 0
        self._last_error = ""
        self._consecutive_failures = 0
        self._last_success_at: float | None = None

    # -- subscribers --------------------------------------------------------------------------

    def subscribe(self, symbols: Iterable[str], *, everything: bool = False) -> Subscription:
        """A new subscriber wanting ``symbols`` (with ``everything``: every symbol the other
        subscribers want, and no ``symbols`` of its own); starts the feed's task if it was idle."""
        if self._closed:
            raise FeedClosed(f"market feed {self.source.connection_id} closed")
        wanted: frozenset[str] = frozenset() if everything else frozenset(symbols)
        subscription = Subscription(self, wanted, everything=everything)
        self._subscriptions.add(subscription)
        if len(self._subscriptions) == 1:
            previous = self._task if self._task is not None and not self._task.done() else None
            self._run_after = self._rounds
            self._task = asyncio.create_task(
                self._run(previous),
                name=f"market feed {self.source.connection_id}",
                context=contextvars.Context(),
            )
            self._task.add_done_callback(self._ended)
            log.info("market feed %s started", self.source.connection_id, extra=self._about)
        return subscription

    def _leave(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        self._wake()  # its waiter, if any, sees it is closed (the others wait again)
        if not self._subscriptions and self._task is not None and not self._task.done():
            self._task.cancel()
            log.info(
                "market feed %s stopped: no subscriber left",
                self.source.connection_id,
                extra=self._about,
            )

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    @property
    def running(self) -> bool:
        return bool(self._subscriptions) and self._task is not None and not self._task.done()

    @property
    def latest(self) -> Tick | None:
        """The latest round's tick, with every symbol the round fetched."""
        return self._latest

    @property
    def current(self) -> Tick | None:
        """The latest tick while the feed runs, if a round of this run made it (None when
        stopped: the prices of an earlier run are not current)."""
        latest = self._latest
        if not self.running or latest is None or latest.round <= self._run_after:
            return None
        return latest

    async def stopped(self) -> None:
        """Wait until the feed's current task has ended (at once when none runs). The task ends
        when the last subscriber leaves or the feed is closed."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    def stats(self) -> FeedStats:
        return FeedStats(
            source=self.source,
            running=self.running,
            subscribers=len(self._subscriptions),
            symbols=self._last_symbols,
            rounds=self._rounds,
            failures=self._failures,
            overruns=self._overruns,
            last_round_seconds=self._last_round_seconds,
            last_round_at=self._latest.time if self._latest is not None else None,
            last_error=self._last_error,
            unknown_symbols=frozenset(self._unknown),
            consecutive_failures=self._consecutive_failures,
            last_success_at=self._last_success_at,
        )

    async def close(self) -> None:
        """End every subscription (waiters get :class:`FeedClosed`) and stop the task."""
        self._closed = True
        for subscription in tuple(self._subscriptions):
            subscription.close()
        if self._task is not None:
            self._task.cancel()
        await self.stopped()

    # -- rounds -------------------------------------------------------------------------------

    async def _run(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:  # a cancelled task still unwinding: never two rounds at once
            await asyncio.wait({previous})
        loop = asyncio.get_running_loop()
        due = loop.time()
        while self._subscriptions:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            await self._round()
            due += self.interval_seconds
            now = loop.time()
            if due < now:  # overran: the next round starts at once, missed slots are skipped
                self._overruns += 1
                due = now

    async def _round(self) -> None:
        self._rounds += 1
        number = self._rounds
        wanted: set[str] = set()
        for subscription in self._subscriptions:
            wanted |= subscription.symbols
        symbols = sorted(wanted - self._unknown)
        self._last_symbols = len(symbols)
        started_at = time.time()
        started = time.perf_counter()
        prices: Mapping[str, Ticker] = _NO_PRICES
        error: ExchangeError | None = None
        if symbols:
            try:
                prices = MappingProxyType(
                    await self.access.call(self._target, self._fetch(symbols))
                )
            except ExchangeError as exc:
                error = exc
            except Exception:  # a bug rather than the exchange: reported alike, and logged
                log.exception(
                    "market feed %s: round %d failed",
                    self.source.connection_id,
                    number,
                    extra=self._about,
                )
                error = ExchangeError(
                    ExchangeFailure.OTHER,
                    f"{self.source.exchange}: the market data round failed",
                    exchange=self.source.exchange,
                )
        duration = time.perf_counter() - started
        self._last_round_seconds = duration
        if error is not None:
            self._failures += 1
            self._consecutive_failures += 1
            self._last_error = error.failure.value
        else:
            self._consecutive_failures = 0
            self._last_success_at = started_at
        unknown = frozenset(wanted & self._unknown)
        self._publish(Tick(number, started_at, duration, prices, error, unknown))

    def _fetch(
        self, symbols: Sequence[str]
    ) -> Callable[[ExchangeAdapter], Awaitable[dict[str, Ticker]]]:
        """One round's exchange call: the tickers of ``symbols`` in one request. On a symbol the
        exchange does not know: drop the unknown ones (for good) and fetch the rest."""

        async def fetch(adapter: ExchangeAdapter) -> dict[str, Ticker]:
            try:
                return await adapter.tickers(symbols)
            except ExchangeError as exc:
                if exc.failure is not ExchangeFailure.BAD_SYMBOL:
                    raise
                failure = exc
            listed = {market.symbol for market in await adapter.markets()}
            unknown = [s for s in symbols if s not in listed]
            if not unknown:
                raise failure
            log.warning(
                "market feed %s: the exchange does not list %s; leaving them out",
                self.source.connection_id,
                ", ".join(unknown),
                extra=self._about,
            )
            self._unknown.update(unknown)
            known = [s for s in symbols if s in listed]
            return await adapter.tickers(known) if known else {}

        return fetch

    def _publish(self, tick: Tick) -> None:
        self._latest = tick
        self._wake()

    def _wake(self) -> None:
        """Wake every waiting subscriber (each re-checks what it waits for)."""
        published, self._published = self._published, asyncio.Event()
        published.set()

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "market feed %s stopped",
                self.source.connection_id,
                exc_info=task.exception(),
                extra=self._about,
            )


class MarketFeeds:
    """Every shared feed of the server, one per market source (owned by the engine
    coordinator)."""

    def __init__(
        self, access: ExchangeAccess, *, interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("a feed's interval must be positive")
        self.access = access
        self.interval_seconds = interval_seconds
        self._feeds: dict[MarketSource, MarketFeed] = {}
        self._closed = False

    def feed(self, source: MarketSource) -> MarketFeed:
        """The feed of ``source`` (created on first use; idle until subscribed)."""
        if self._closed:
            raise FeedClosed("market feeds closed")
        feed = self._feeds.get(source)
        if feed is None:
            feed = MarketFeed(self.access, source, interval_seconds=self.interval_seconds)
            self._feeds[source] = feed
        return feed

    def subscribe(
        self, source: MarketSource, symbols: Iterable[str], *, everything: bool = False
    ) -> Subscription:
        return self.feed(source).subscribe(symbols, everything=everything)

    def stats(self) -> dict[MarketSource, FeedStats]:
        return {source: feed.stats() for source, feed in self._feeds.items()}

    def running(self) -> list[MarketFeed]:
        """The feeds whose rounds run now (they have subscribers)."""
        return [feed for feed in self._feeds.values() if feed.running]

    async def close(self) -> None:
        """Stop every feed and release their exchange adapters (server shutdown)."""
        self._closed = True
        for feed in self._feeds.values():
            await feed.close()
        for source in self._feeds:
            await self.access.release(source.connection_id)
