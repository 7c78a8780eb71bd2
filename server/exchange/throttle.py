"""Request limits per exchange account: per second, per minute, and requests in flight.

One :class:`Throttle` per account is shared by every caller of that account (connection tests,
health checks, engines), so together they never exceed the account's limits. Callers queue in
arrival order rather than fail. A 429 from the exchange pauses the whole account until its
Retry-After (or an exponential back-off) has passed.

The windows are sliding logs of request start times. A request starts only if the last second
holds fewer than ``per_second`` starts and the last minute fewer than ``per_minute``; windows
are widened by ``guard_seconds`` so that network jitter cannot squeeze more requests into one
second as the exchange sees them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic import BaseModel, Field


class RateLimits(BaseModel):
    """Limits of one account, configurable per exchange (``CTS_EXCHANGE_LIMITS``)."""

    per_second: int = Field(ge=1)
    per_minute: int = Field(ge=1)
    concurrent: int = Field(ge=1)


# The original system's defaults.
DEFAULT_LIMITS: dict[str, RateLimits] = {
    "bybit": RateLimits(per_second=10, per_minute=120, concurrent=5),
    "binance": RateLimits(per_second=10, per_minute=1200, concurrent=10),
    "okx": RateLimits(per_second=20, per_minute=600, concurrent=10),
    "bingx": RateLimits(per_second=5, per_minute=100, concurrent=3),
    "pionex": RateLimits(per_second=5, per_minute=100, concurrent=3),
    "orangex": RateLimits(per_second=5, per_minute=100, concurrent=3),
    "kraken": RateLimits(per_second=5, per_minute=100, concurrent=3),
}


@dataclass(frozen=True, slots=True)
class Usage:
    """How full the account's limits are right now."""

    last_second: int
    last_minute: int
    in_flight: int
    limits: RateLimits
    paused_for: float  # seconds left of a back-off after a 429

    def fraction(self) -> float:
        """The fullest of the three limits, 0..1."""
        return max(
            self.last_second / self.limits.per_second,
            self.last_minute / self.limits.per_minute,
            self.in_flight / self.limits.concurrent,
        )


class Throttle:
    def __init__(
        self,
        limits: RateLimits,
        *,
        guard_seconds: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        """``clock`` and ``sleep`` are injectable so that tests can run in virtual time."""
        self.limits = limits
        self._guard = guard_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._in_flight = asyncio.Semaphore(limits.concurrent)
        self._in_flight_count = 0
        self._turn = asyncio.Lock()  # one waiter at a time takes the next start: FIFO order
        self._paused_until = 0.0
        self._backoff = 0.0
        self._max_backoff = max_backoff_seconds

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot: wait for window room and a free in-flight place."""
        await self._in_flight.acquire()
        self._in_flight_count += 1
        try:
            async with self._turn:
                await self._wait_for_room()
                self._starts.append(self._clock())
            yield
        finally:
            self._in_flight_count -= 1
            self._in_flight.release()

    async def _wait_for_room(self) -> None:
        while True:
            now = self._clock()
            delay = max(0.0, self._paused_until - now, self._window_delay(now))
            if delay <= 0:
                return
            await self._sleep(delay)  # the limiter's own wait: the next start is due then

    def _window_delay(self, now: float) -> float:
        second, minute = 1.0 + self._guard, 60.0 + self._guard
        while self._starts and self._starts[0] <= now - minute:
            self._starts.popleft()
        delay = 0.0
        if len(self._starts) >= self.limits.per_minute:
            delay = self._starts[-self.limits.per_minute] + minute - now
        recent = (
            self._starts[-self.limits.per_second]
            if len(self._starts) >= self.limits.per_second
            else None
        )
        if recent is not None and recent > now - second:
            delay = max(delay, recent + second - now)
        return delay

    def penalize(self, retry_after: float | None) -> float:
        """Pause the account after a 429; returns the pause. Without Retry-After the pause
        doubles each time (0.5 s, 1 s, 2 s ... up to the maximum) until a request succeeds."""
        if retry_after is not None and retry_after > 0:
            pause = min(retry_after, self._max_backoff)
        else:
            self._backoff = min(self._max_backoff, self._backoff * 2 if self._backoff else 0.5)
            pause = self._backoff
        self._paused_until = max(self._paused_until, self._clock() + pause)
        return pause

    def succeeded(self) -> None:
        self._backoff = 0.0

    def usage(self) -> Usage:
        now = self._clock()
        return Usage(
            last_second=sum(1 for t in self._starts if t > now - 1.0),
            last_minute=sum(1 for t in self._starts if t > now - 60.0),
            in_flight=self._in_flight_count,
            limits=self.limits,
            paused_for=max(0.0, self._paused_until - now),
        )
