"""The account throttle on its own: windows, in-flight limit, order, and back-off."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from server.exchange.throttle import RateLimits, Throttle


class VirtualTime:
    """Time that passes only when the throttle waits: minutes of limits in milliseconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def hooks(self) -> dict[str, Any]:
        return {"clock": self.clock, "sleep": self.sleep}

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def max_in_window(starts: list[float], window: float) -> int:
    """The most starts that any window of ``window`` seconds holds."""
    starts = sorted(starts)
    best, first = 0, 0
    for last, t in enumerate(starts):
        while starts[first] <= t - window:
            first += 1
        best = max(best, last - first + 1)
    return best


async def test_no_one_second_window_holds_more_than_the_limit_in_real_time() -> None:
    throttle = Throttle(RateLimits(per_second=10, per_minute=1000, concurrent=10))
    starts: list[float] = []

    async def request() -> None:
        async with throttle.slot():
            starts.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(request() for _ in range(35)))
    assert len(starts) == 35
    assert max_in_window(starts, 1.0) <= 10
    assert time.monotonic() - began >= 3.0  # 35 requests at 10/s need three full seconds
    assert throttle.usage().last_second <= 10


async def test_per_minute_limit_in_virtual_time() -> None:
    virtual = VirtualTime()
    throttle = Throttle(
        RateLimits(per_second=10, per_minute=25, concurrent=5),
        clock=virtual.clock,
        sleep=virtual.sleep,
    )
    starts: list[float] = []

    async def request() -> None:
        async with throttle.slot():
            starts.append(virtual.clock())

    await asyncio.gather(*(request() for _ in range(80)))
    assert max_in_window(starts, 1.0) <= 10
    assert max_in_window(starts, 60.0) <= 25
    assert starts[-1] - starts[0] > 180  # 80 requests at 25/min span more than three minutes


async def test_in_flight_requests_never_exceed_the_concurrency_limit() -> None:
    throttle = Throttle(RateLimits(per_second=100, per_minute=1000, concurrent=3))
    in_flight = peak = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal in_flight, peak
        async with throttle.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            in_flight -= 1

    tasks = [asyncio.create_task(request()) for _ in range(8)]
    for _ in range(50):  # scheduling steps only: every task gets the chance to get in
        await asyncio.sleep(0)
    assert in_flight == 3 and throttle.usage().in_flight == 3
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3


async def test_requests_start_in_arrival_order() -> None:
    virtual = VirtualTime()
    throttle = Throttle(
        RateLimits(per_second=2, per_minute=100, concurrent=10),
        clock=virtual.clock,
        sleep=virtual.sleep,
    )
    order: list[int] = []

    async def request(n: int) -> None:
        async with throttle.slot():
            order.append(n)

    await asyncio.gather(*(request(n) for n in range(12)))
    assert order == list(range(12))


async def test_a_429_pauses_the_account_for_retry_after_or_a_growing_back_off() -> None:
    virtual = VirtualTime()
    throttle = Throttle(
        RateLimits(per_second=100, per_minute=1000, concurrent=10),
        clock=virtual.clock,
        sleep=virtual.sleep,
    )
    assert throttle.penalize(2.5) == 2.5
    before = virtual.now
    async with throttle.slot():
        pass
    assert virtual.now - before >= 2.5
    pauses = [throttle.penalize(None) for _ in range(8)]
    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0]
    assert pauses[-1] == 30.0  # capped
    throttle.succeeded()
    assert throttle.penalize(None) == 0.5  # back to the start after a success


async def test_settles_when_a_window_runs_empty_or_the_pause_ends() -> None:
    """The moments the account's usage is pushed to clients between checks: the pause's end and
    each window running empty after its last request (by time alone; a request under way ends
    by an event)."""
    virtual = VirtualTime()
    throttle = Throttle(RateLimits(per_second=10, per_minute=100, concurrent=5), **virtual.hooks())
    assert throttle.settles_in() is None  # nothing happened
    async with throttle.slot():
        assert throttle.settles_in() is None  # under way
    assert throttle.settles_in() == pytest.approx(1.001)  # the last second empties
    virtual.now += 1.001
    assert throttle.usage().last_second == 0 and throttle.usage().last_minute == 1
    assert throttle.settles_in() == pytest.approx(59.0)  # then the last minute
    virtual.now += 59.0
    assert throttle.usage().last_minute == 0 and throttle.settles_in() is None

    assert throttle.penalize(2.5) == 2.5
    assert throttle.settles_in() == pytest.approx(2.5)  # the pause ends
    virtual.now += 2.5
    assert throttle.usage().paused_for == 0 and throttle.settles_in() is None
