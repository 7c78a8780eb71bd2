"""How late the event loop runs: a small task that sleeps and measures how late it woke.

Every ``interval`` seconds (100 ms) the sampler sleeps and records by how much the wake-up came
after the time asked for: the time a ready callback waits for the loop (a long computation or a
blocking call on the loop shows here). Each sample is told to ``observe`` (the
``cts_event_loop_lag_seconds`` histogram) and the samples of the last ``window_seconds`` (a
minute) are kept for :meth:`LoopLag.percentiles`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable


class LoopLag:
    def __init__(
        self,
        *,
        interval_seconds: float = 0.1,
        window_seconds: float = 60.0,
        observe: Callable[[float], object] | None = None,
    ) -> None:
        self._interval = interval_seconds
        self._window = window_seconds
        self._observe = observe
        self._samples: deque[tuple[float, float]] = deque()  # (loop time, lag seconds)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start sampling on the running loop."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def percentiles(self) -> tuple[float, float]:
        """p50 and p99 of the lag over the last window, in seconds ((0, 0) before a sample)."""
        if self._loop is not None:
            self._forget(self._loop.time())
        lags = sorted(lag for _, lag in self._samples)
        if not lags:
            return 0.0, 0.0
        return lags[len(lags) // 2], lags[min(len(lags) - 1, int(len(lags) * 0.99))]

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self._interval
            await asyncio.sleep(self._interval)
            now = loop.time()
            lag = max(0.0, now - asked)
            self._samples.append((now, lag))
            self._forget(now)
            if self._observe is not None:
                self._observe(lag)

    def _forget(self, now: float) -> None:
        while self._samples and self._samples[0][0] <= now - self._window:
            self._samples.popleft()
