"""The shared market-data feed against the simulator, through exchange access and unmodified
ccxt: one tickers request per round serves every engine of a market source, prices are the
simulator's, failures are reported and recovered from, and nobody waits for a slow engine."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable

import pytest

from server.engine.feed import FeedClosed, MarketFeeds, MarketSource, Subscription, Tick
from server.exchange.access import AccessConfig, ExchangeAccess
from server.exchange.errors import ExchangeFailure
from server.simulator.server import RequestRecord, Simulator

INTERVAL = 0.05
BYBIT_SPOT = MarketSource("bybit", "spot", simulated=True)
OKX_SWAP = MarketSource("okx", "perpetual_futures", simulated=True)
TICKERS_PATH = {"bybit": "/v5/market/tickers", "okx": "/api/v5/market/tickers"}
WAIT = 5.0  # the longest any tick may take to arrive (a failure, not a pace)


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(seed=33)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def access(simulator: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(
        AccessConfig(simulator_url=simulator.base_url, timeout_seconds=5)
    )
    yield exchange_access
    await exchange_access.close()


@pytest.fixture
async def feeds(access: ExchangeAccess) -> AsyncIterator[MarketFeeds]:
    market_feeds = MarketFeeds(access, interval_seconds=INTERVAL)
    yield market_feeds
    await market_feeds.close()


def ticker_requests(sim: Simulator, exchange: str, since: float) -> list[RequestRecord]:
    return [
        r for r in sim.requests_since(since, exchange=exchange) if r.path == TICKERS_PATH[exchange]
    ]


def during(requests: list[RequestRecord], tick: Tick) -> list[RequestRecord]:
    return [r for r in requests if tick.time <= r.time <= tick.time + tick.duration_seconds]


def assert_simulator_prices(sim: Simulator, tick: Tick, symbols: set[str]) -> None:
    """Each price is the simulator's at some moment of the round (its walk steps each second)."""
    assert tick.ok and set(tick.prices) == symbols
    end = tick.time + tick.duration_seconds
    moments = [*(tick.time + s for s in range(math.ceil(tick.duration_seconds))), end]
    for symbol, ticker in tick.prices.items():
        base = symbol.split("/")[0]
        assert ticker.last in {sim.prices.price(base, at=moment) for moment in moments}
        assert ticker.bid is not None and ticker.ask is not None
        assert ticker.bid < ticker.last < ticker.ask


async def test_engines_on_one_source_share_one_tickers_request_per_round(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    since = time.time()
    wants = [
        {"BTC/USDT", "ETH/USDT"},
        {"ETH/USDT", "SOL/USDT"},
        {"BTC/USDT", "XRP/USDT", "SOL/USDT"},
    ]
    subscriptions = [feeds.subscribe(BYBIT_SPOT, symbols) for symbols in wants]
    assert all(s.feed is feeds.feed(BYBIT_SPOT) for s in subscriptions)

    async def three_ticks(index: int) -> list[Tick]:
        return [await subscriptions[index].next(WAIT) for _ in range(3)]

    seen = await asyncio.gather(*(three_ticks(i) for i in range(3)))
    for subscription in subscriptions:
        subscription.close()

    last = max(tick.round for ticks in seen for tick in ticks)
    end = max(t.time + t.duration_seconds for ticks in seen for t in ticks if t.round == last)
    requests = [r for r in simulator.requests_since(since) if r.time <= end]
    tickers = ticker_requests(simulator, "bybit", since)
    # Markets once (the first round), then exactly one tickers request per round, nothing else.
    assert [r.path for r in requests if r.path != TICKERS_PATH["bybit"]] == [
        "/v5/market/instruments-info"
    ]
    assert len([r for r in tickers if r.time <= end]) == last
    for symbols, ticks in zip(wants, seen, strict=True):
        assert [t.round for t in ticks] == sorted({t.round for t in ticks})
        for tick in ticks:
            assert len(during(tickers, tick)) == 1
            assert_simulator_prices(simulator, tick, symbols)
    assert feeds.feed(BYBIT_SPOT).stats().symbols == 4  # the union, fetched at once


async def test_each_market_source_has_its_own_feed(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    since = time.time()
    spot = feeds.feed(BYBIT_SPOT)
    swap = feeds.feed(OKX_SWAP)
    assert spot is not swap and feeds.feed(MarketSource("bybit", "spot", simulated=True)) is spot
    assert feeds.feed(MarketSource("bybit", "perpetual_futures", simulated=True)) is not spot

    async with (
        spot.subscribe(["BTC/USDT"]) as on_spot,
        swap.subscribe(["BTC/USDT:USDT"]) as on_swap,
    ):
        spot_tick, swap_tick = await asyncio.gather(on_spot.next(WAIT), on_swap.next(WAIT))

    assert_simulator_prices(simulator, spot_tick, {"BTC/USDT"})
    assert_simulator_prices(simulator, swap_tick, {"BTC/USDT:USDT"})
    assert len(during(ticker_requests(simulator, "bybit", since), spot_tick)) == 1
    assert len(during(ticker_requests(simulator, "okx", since), swap_tick)) == 1
    assert set(feeds.stats()) >= {BYBIT_SPOT, OKX_SWAP}
    assert spot.source.connection_id != swap.source.connection_id


async def test_the_task_stops_when_the_last_subscriber_leaves(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    feed = feeds.feed(BYBIT_SPOT)
    first = feed.subscribe(["BTC/USDT"])
    second = feed.subscribe(["ETH/USDT"])
    await first.next(WAIT)
    first.close()
    with pytest.raises(FeedClosed):
        await first.next(WAIT)
    assert feed.running and (await second.next(WAIT)).ok  # the other keeps its feed

    second.close()
    await feed.stopped()
    stopped_at = time.time()
    assert not feed.running and feed.stats().subscribers == 0

    # Another feed's rounds are the clock: while it runs several, Bybit hears nothing.
    async with feeds.subscribe(OKX_SWAP, ["ETH/USDT:USDT"]) as clock:
        for _ in range(4):
            await clock.next(WAIT)
    assert simulator.requests_since(stopped_at, exchange="bybit") == []

    # A new subscriber starts it again, with fresh rounds.
    rounds_before = feed.stats().rounds
    async with feed.subscribe(["BTC/USDT"]) as again:
        tick = await again.next(WAIT)
    assert tick.round > rounds_before
    assert_simulator_prices(simulator, tick, {"BTC/USDT"})


async def test_an_exchange_failure_is_reported_and_the_feed_recovers(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    feed = feeds.feed(BYBIT_SPOT)
    async with feed.subscribe(["BTC/USDT", "ETH/USDT"]) as subscription:
        assert (await subscription.next(WAIT)).ok

        simulator.faults.set({"down": True}, exchange="bybit")
        failed = await next_where(subscription, lambda tick: not tick.ok)
        simulator.faults.clear()
        recovered = await next_where(subscription, lambda tick: tick.ok)

    assert failed.error is not None and failed.error.failure is ExchangeFailure.UNAVAILABLE
    assert failed.prices == {}
    assert_simulator_prices(simulator, recovered, {"BTC/USDT", "ETH/USDT"})
    stats = feed.stats()
    assert stats.failures >= 1 and stats.rounds >= recovered.round
    assert stats.last_error == ExchangeFailure.UNAVAILABLE.value


async def test_the_circuit_breaker_decides_when_rounds_fail_fast(simulator: Simulator) -> None:
    access = ExchangeAccess(
        AccessConfig(
            simulator_url=simulator.base_url, breaker_threshold=2, breaker_cooldown_seconds=60
        )
    )
    feeds = MarketFeeds(access, interval_seconds=INTERVAL)
    try:
        async with feeds.subscribe(BYBIT_SPOT, ["BTC/USDT"]) as subscription:
            assert (await subscription.next(WAIT)).ok
            simulator.faults.set({"down": True}, exchange="bybit")
            opened = await next_where(
                subscription,
                lambda t: t.error is not None and t.error.failure is ExchangeFailure.CIRCUIT_OPEN,
            )
            since = time.time()
            still_open = await subscription.next(WAIT)
        assert opened.prices == {} and still_open.error is not None
        assert still_open.error.failure is ExchangeFailure.CIRCUIT_OPEN
        assert simulator.requests_since(since, exchange="bybit") == []  # failing fast
    finally:
        await feeds.close()
        await access.close()


async def test_a_slow_subscriber_does_not_hold_up_the_others(feeds: MarketFeeds) -> None:
    feed = feeds.feed(BYBIT_SPOT)
    slow = feed.subscribe(["BTC/USDT"])  # never asks until the end
    async with feed.subscribe(["ETH/USDT"]) as fast:
        ticks = [await fast.next(WAIT) for _ in range(6)]
        assert [t.round for t in ticks] == list(range(ticks[0].round, ticks[0].round + 6))
        assert all(t.ok and set(t.prices) == {"ETH/USDT"} for t in ticks)
        # The slow one gets the latest round, not a backlog of old ones.
        latest = await slow.next(WAIT)
        assert latest.round >= ticks[-1].round and set(latest.prices) == {"BTC/USDT"}
    slow.close()


async def test_rounds_keep_a_fixed_rate_and_never_overlap_or_pile_up(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    feed = feeds.feed(BYBIT_SPOT)
    async with feed.subscribe(["BTC/USDT"]) as subscription:
        await subscription.next(WAIT)
        # Rounds slower than the interval: each next one starts at once, never two at once.
        simulator.faults.set({"latency_ms": 150}, exchange="bybit")
        subscription.update(["BTC/USDT"])  # wait for rounds that start from here on
        slow = [await subscription.next(WAIT) for _ in range(3)]
        simulator.faults.clear()
        subscription.update(["BTC/USDT"])
        fast = [await subscription.next(WAIT) for _ in range(5)]

    for ticks in (slow, fast):
        assert [t.round for t in ticks] == list(range(ticks[0].round, ticks[0].round + len(ticks)))
        for before, after in itertools.pairwise(ticks):
            assert after.time >= before.time + before.duration_seconds  # one round at a time
    assert all(t.duration_seconds > INTERVAL for t in slow)
    assert feed.stats().overruns >= 2
    for before, after in itertools.pairwise(slow):
        assert after.time - (before.time + before.duration_seconds) < INTERVAL  # at once
    # Afterwards the missed slots are not made up in a burst: one round per interval again. A
    # round that started late (a busy loop) is followed by one on its own slot, a little less
    # than an interval later but after a wait; a made-up slot starts the moment the round
    # before it ends.
    for before, after in itertools.pairwise(fast):
        waited = after.time - (before.time + before.duration_seconds)
        assert after.time - before.time >= INTERVAL * 0.95 or waited >= 0.001, (before, after)


async def test_a_symbol_the_exchange_does_not_list_spoils_no_round(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    async with (
        feeds.subscribe(BYBIT_SPOT, ["BTC/USDT", "NOPE/USDT"]) as confused,
        feeds.subscribe(BYBIT_SPOT, ["ETH/USDT"]) as other,
    ):
        first, others = await asyncio.gather(confused.next(WAIT), other.next(WAIT))
        since = time.time()
        later = await confused.next(WAIT)

    assert first.unknown == {"NOPE/USDT"} and others.unknown == frozenset()
    assert_simulator_prices(simulator, first, {"BTC/USDT"})
    assert_simulator_prices(simulator, others, {"ETH/USDT"})
    assert later.unknown == {"NOPE/USDT"} and later.ok
    assert len(during(ticker_requests(simulator, "bybit", since), later)) == 1
    assert feeds.feed(BYBIT_SPOT).stats().unknown_symbols == {"NOPE/USDT"}


async def test_closing_the_feeds_ends_waiting_subscribers(access: ExchangeAccess) -> None:
    feeds = MarketFeeds(access, interval_seconds=60)
    subscription = feeds.subscribe(BYBIT_SPOT, ["BTC/USDT"])
    await subscription.next(WAIT)  # the first round runs at once; the next is a minute away
    waiting = asyncio.create_task(subscription.next())
    await asyncio.sleep(0)  # one turn of the loop: the task is now waiting for a round
    await feeds.close()
    with pytest.raises(FeedClosed):
        await waiting
    assert not subscription.feed.running
    with pytest.raises(FeedClosed):
        feeds.subscribe(BYBIT_SPOT, ["BTC/USDT"])


async def next_where(subscription: Subscription, accept: Callable[[Tick], bool]) -> Tick:
    """The first tick from here on that ``accept`` takes (within a few rounds)."""
    for _ in range(20):
        tick = await subscription.next(WAIT)
        if accept(tick):
            return tick
    raise AssertionError("no such tick in 20 rounds")


async def test_a_subscriber_of_everything_gets_what_the_others_want_and_adds_nothing(
    simulator: Simulator, feeds: MarketFeeds
) -> None:
    feed = feeds.feed(BYBIT_SPOT)
    async with feed.subscribe(["BTC/USDT", "ETH/USDT"]) as engine:
        watcher = feed.subscribe(["SOL/USDT"], everything=True)  # its own symbols are ignored
        assert watcher.everything and watcher.symbols == frozenset()
        tick = await watcher.next(WAIT)
        assert set(tick.prices) == {"BTC/USDT", "ETH/USDT"} and feed.stats().symbols == 2
        assert set((await engine.next(WAIT)).prices) == {"BTC/USDT", "ETH/USDT"}
        assert feed.current is feed.latest
        watcher.close()
    # Stopped: its last prices are no longer current.
    assert not feed.running and feed.current is None and feed.latest is not None
