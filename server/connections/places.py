"""The places of the connection tests' concurrency cap, handed out most constrained first.

A test that waits for its exchange account's limits holds its place meanwhile. So that the
accounts whose limits a batch needs longest never wait for a place behind tests that could run
any time, a freed place goes to the waiting test whose account is most constrained (the highest
``urgency``; in arrival order among equals), not simply to the first that came.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Places:
    def __init__(self, count: int) -> None:
        self._free = count
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        """Tests waiting for a place (cancelled ones until a release passes them)."""
        return len(self._waiting)

    @asynccontextmanager
    async def place(self, urgency: float = 0.0) -> AsyncIterator[None]:
        await self._acquire(urgency)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgency: float) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-urgency, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a place as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # not cancelled meanwhile
                waiter.set_result(None)
                return
        self._free += 1
