"""Pionex's answer to going over its rate limit — a 60 s ban, 10 s longer for each request during
it — as the simulator gives it, and how CTS's exchange access keeps from lengthening it: no
retries, no requests until the ban is over. Virtual time: the simulator and the access share an
injected clock, so no test waits a minute."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from server.exchange.access import (
    AccessConfig,
    ExchangeAccess,
    RateLimitBanned,
    Target,
)
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.throttle import RATE_LIMIT_BANS, RateLimits, Throttle
from server.simulator.dialects.pionex import PionexDialect
from server.simulator.server import Limits, RequestRecord, Simulator

BTC = "BTC/USDT"
BOOK = "/api/v1/market/bookTickers?symbol=BTC_USDT"


class Clock:
    """Time that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=41, dialects=[PionexDialect], clock=clock)
    await simulator.start()
    yield simulator
    await simulator.stop()


def pionex_requests(sim: Simulator) -> list[RequestRecord]:
    return [r for r in sim.requests if r.exchange == "pionex"]


async def test_going_over_the_limit_bans_the_caller_60_s_and_each_request_adds_10(
    sim: Simulator, clock: Clock
) -> None:
    sim.limits["pionex"] = Limits(per_second=3, per_minute=100)
    async with aiohttp.ClientSession(sim.base_url) as http:

        async def ask() -> aiohttp.ClientResponse:
            async with http.get(BOOK) as response:
                await response.read()
                return response

        assert [(await ask()).status for _ in range(3)] == [200, 200, 200]
        async with http.get(BOOK) as over:
            body = await over.json()
        assert over.status == 429 and "Retry-After" not in over.headers  # none documented
        assert (body["result"], body["code"]) == (False, "RATE_LIMIT")
        clock.advance(59)
        assert (await ask()).status == 429  # the ban now ends at 70 s
        clock.advance(6)  # 65 s: past a plain 60 s ban
        assert (await ask()).status == 429  # ... but 10 s were added: now 80 s
        clock.advance(14.5)
        assert (await ask()).status == 429  # 79.5 s: banned until 90 s
        clock.advance(10.6)
        assert (await ask()).status == 200  # 90.1 s: over


async def test_cts_stops_sending_while_banned_and_resumes_after_the_ban(
    sim: Simulator, clock: Clock
) -> None:
    """CTS's own limits for the account are loose here (50/s), the exchange's tight (4/s): the
    fifth request is refused with Pionex's 429. CTS does not retry it (each retry would add
    10 s to the ban), refuses the account's calls without a request for the 60 s, and then
    calls again."""
    sim.limits["pionex"] = Limits(per_second=4, per_minute=100)
    loose = {"pionex": RateLimits(per_second=50, per_minute=1000, concurrent=5)}
    access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, limits=loose), clock=clock)
    public = Target(connection_id="public", exchange="pionex", api_type="spot", simulated=True)
    try:
        await access.call(public, lambda a: a.tickers([BTC]))  # symbols, tickers, bookTickers
        with pytest.raises(ExchangeError) as refused:
            await access.call(public, lambda a: a.tickers([BTC]))
        assert refused.value.failure is ExchangeFailure.RATE_LIMITED
        assert not isinstance(refused.value, RateLimitBanned)  # the exchange's own 429
        seen = pionex_requests(sim)
        assert [r.status for r in seen] == [200, 200, 200, 200, 429]  # and no retry
        health = access.health_of_connection("public", "pionex")
        assert health.usage.paused_for == RATE_LIMIT_BANS["pionex"].seconds

        clock.advance(59)
        with pytest.raises(RateLimitBanned) as held:
            await access.call(public, lambda a: a.tickers([BTC]))
        assert held.value.failure is ExchangeFailure.RATE_LIMITED
        assert held.value.retry_after == pytest.approx(1)
        assert "no request is sent" in str(held.value)
        assert len(pionex_requests(sim)) == len(seen)  # nothing went out

        clock.advance(1.1)
        ticker = (await access.call(public, lambda a: a.tickers([BTC])))[BTC]
        assert ticker.last > 0
        assert [r.status for r in pionex_requests(sim)[len(seen) :]] == [200, 200]
    finally:
        await access.close()


def test_a_429_of_a_request_under_way_when_the_ban_began_lengthens_it() -> None:
    """Pionex adds 10 s for each request it receives during a ban: CTS counts those that it
    learns of (their 429s) the same way."""
    clock = Clock()
    throttle = Throttle(RateLimits(per_second=5, per_minute=100, concurrent=3), clock=clock)
    ban = RATE_LIMIT_BANS["pionex"]
    assert throttle.penalize(None, ban) == 60
    clock.advance(2)
    assert throttle.penalize(None, ban) == 68  # 60 + 10 from the start, 2 s later
    assert throttle.banned_for() == 68
    assert throttle.usage().paused_for == 68
    clock.advance(68)
    assert throttle.banned_for() == 0
    assert throttle.penalize(None, ban) == 60  # a new ban
    assert throttle.penalize(None, None) == 0.5  # an exchange without bans: back-off
