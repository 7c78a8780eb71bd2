"""Request limits per exchange account: per second, per minute, and calls in flight.

One :class:`Throttle` per account is shared by every caller of that account (connection tests,
health checks, engines), so together they never exceed the account's limits. Callers queue in
arrival order rather than fail. A 429 from the exchange pauses the whole account until its
Retry-After (or an exponential back-off) has passed. An exchange that answers going over its
limits with a ban (Pionex: 60 s, 10 s more for each request during it) bans the whole account:
no request of it is sent until the ban is over, every one is refused at once with
:class:`Banned` instead of queueing — a request sent then would only make the ban longer.

Two levels: a *call* (one operation of exchange access, such as "fetch the balance") holds one
of the account's in-flight places while it runs; every HTTP *request* the call makes — a call
may make several, ccxt loads markets first — passes :meth:`Throttle.request` around its sending.

The windows count what the exchange can have seen, whatever the delays between deciding to send
and the request's arrival (a busy event loop, a slow connect): a request counts from the moment
it is let through until it has finished, and afterwards at the time it finished (it arrived at
the exchange no later than that). A request may start only if the last second then holds fewer
than ``per_second`` of them and the last minute fewer than ``per_minute``; windows are widened
by ``guard_seconds`` as a margin for the exchange's own clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic import BaseModel, Field

# How long after a request leaves a window the window is said to be empty (clock reads may be
# that far apart).
_AFTER = 0.001


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
    # Kraken refuses a nonce that is not above the key's last one (EAPI:Invalid nonce): with
    # more than one request of a key in flight, a later-signed one can arrive first.
    "kraken": RateLimits(per_second=5, per_minute=100, concurrent=1),
}


@dataclass(frozen=True, slots=True)
class RateLimitBan:
    """How an exchange punishes going over its limits: ``seconds`` of ban after a 429, and
    ``extension`` seconds more for each request it receives during the ban."""

    seconds: float
    extension: float = 0.0


# Exchanges that ban (documented): Pionex, "The violating IP or account receives a 60-second ban.
# Repeated violations extend the ban duration by 10 seconds per additional request."
RATE_LIMIT_BANS: dict[str, RateLimitBan] = {"pionex": RateLimitBan(60.0, 10.0)}


class Banned(Exception):
    """No request is sent: the exchange bans the account for ``seconds`` more."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"banned by the exchange for {seconds:.0f} s more")
        self.seconds = seconds


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
        self._finished: deque[float] = deque()  # when past requests ended, oldest first
        self._open = 0  # requests let through and not yet ended
        self._room = asyncio.Event()  # set when a request ends
        self._in_flight = asyncio.Semaphore(limits.concurrent)
        self._in_flight_count = 0
        self._turn = asyncio.Lock()  # one waiter at a time takes the next start: FIFO order
        self._paused_until = 0.0
        self._banned_until = 0.0
        self._backoff = 0.0
        self._max_backoff = max_backoff_seconds

    @asynccontextmanager
    async def in_flight(self) -> AsyncIterator[None]:
        """Hold one of the account's places for a call in flight (the concurrency limit)."""
        await self._in_flight.acquire()
        self._in_flight_count += 1
        try:
            yield
        finally:
            self._in_flight_count -= 1
            self._in_flight.release()

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Send one HTTP request: wait for room in the windows, then count it until it ends.
        Raises :class:`Banned` while the exchange bans the account (waiting or not)."""
        self._refuse_if_banned()
        async with self._turn:
            await self._wait_for_room()
            self._open += 1
        try:
            yield
        finally:
            self._open -= 1
            self._finished.append(self._clock())
            self._room.set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A call of a single request: a place in flight, and the request within the windows."""
        async with self.in_flight(), self.request():
            yield

    async def _wait_for_room(self) -> None:
        while True:
            self._refuse_if_banned()
            now = self._clock()
            self._forget(now)
            if self._open >= min(self.limits.per_second, self.limits.per_minute):
                self._room.clear()
                await self._room.wait()  # every window is full of requests still under way
                continue
            delay = max(0.0, self._paused_until - now, self._window_delay(now))
            if delay <= 0:
                return
            await self._sleep(delay)  # the limiter's own wait: the next start is due then

    def _forget(self, now: float) -> None:
        while self._finished and self._finished[0] <= now - 60.0 - self._guard:
            self._finished.popleft()

    def _window_delay(self, now: float) -> float:
        """How long until one more request fits both windows (open requests count as now)."""
        delay = 0.0
        for limit, span in (
            (self.limits.per_second, 1.0 + self._guard),
            (self.limits.per_minute, 60.0 + self._guard),
        ):
            room = limit - self._open  # >= 1 here: how many finished ones the window may hold
            if len(self._finished) >= room:
                delay = max(delay, self._finished[-room] + span - now)
        return delay

    def _refuse_if_banned(self) -> None:
        left = self.banned_for()
        if left > 0:
            raise Banned(left)

    def banned_for(self) -> float:
        """Seconds left of an exchange's ban of the account (0: none)."""
        return max(0.0, self._banned_until - self._clock())

    def penalize(self, retry_after: float | None, ban: RateLimitBan | None = None) -> float:
        """Pause the account after a 429; returns the pause. Without Retry-After the pause
        doubles each time (0.5 s, 1 s, 2 s ... up to the maximum) until a request succeeds.

        With the exchange's ``ban``, the account is banned instead, for the whole ban (or the
        Retry-After, if longer; not capped): its length, or, for a 429 of a request that was
        under way when the ban began, the ban's extension more."""
        if ban is not None:
            now = self._clock()
            if self._banned_until > now:
                self._banned_until += ban.extension
            else:
                self._banned_until = now + max(ban.seconds, retry_after or 0.0)
            self._paused_until = max(self._paused_until, self._banned_until)
            return self._banned_until - now
        if retry_after is not None and retry_after > 0:
            pause = min(retry_after, self._max_backoff)
        else:
            self._backoff = min(self._max_backoff, self._backoff * 2 if self._backoff else 0.5)
            pause = self._backoff
        self._paused_until = max(self._paused_until, self._clock() + pause)
        return pause

    def succeeded(self) -> None:
        self._backoff = 0.0

    def settles_in(self) -> float | None:
        """Seconds until the usage changes by time alone and something ends: the 429 pause, or
        the last second's or the last minute's window running empty (a moment after the last
        request leaves it, so that :meth:`usage` no longer counts it then). None when nothing
        of the kind is due: no pause, and the windows are empty or hold requests still under
        way (their end is an event, not a time)."""
        now = self._clock()
        due = [self._paused_until - now] if self._paused_until > now else []
        if self._open == 0 and self._finished:
            last = self._finished[-1]
            due += [last + span + _AFTER - now for span in (1.0, 60.0) if last > now - span]
        return min(due) if due else None

    def usage(self) -> Usage:
        now = self._clock()
        return Usage(
            last_second=self._open + sum(1 for t in self._finished if t > now - 1.0),
            last_minute=self._open + sum(1 for t in self._finished if t > now - 60.0),
            in_flight=self._in_flight_count,
            limits=self.limits,
            paused_for=max(0.0, self._paused_until - now),
        )
