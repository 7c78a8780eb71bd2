"""When account balances are read: spread over the interval, and soon after live fills.

Every ``interval_seconds`` each eligible account (its connection enabled, with credentials) is
read once, one after the other at ``interval / accounts`` apart — 300 accounts at 60 s: one read
every 0.2 s, never all at once. A live fill asks for a read ``fill_delay_seconds`` later; more
fills of the account meanwhile join that read (a burst of fills: one read). Reads of one account
never overlap; a periodic read finding one running is skipped. ``interval_seconds`` 0 disables
every balance read. The read itself (exchange access, valuation) is the caller's ``read``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger("cts.accounts")


class BalanceSchedule:
    def __init__(
        self,
        read: Callable[[str], Awaitable[None]],
        eligible: Callable[[], Sequence[str]],
        *,
        interval_seconds: float,
        fill_delay_seconds: float,
    ) -> None:
        self._read = read
        self._eligible = eligible
        self.interval_seconds = interval_seconds
        self._fill_delay = fill_delay_seconds
        self._locks: dict[str, asyncio.Lock] = {}
        self._soon: set[str] = set()  # accounts with a read after fills waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.interval_seconds > 0

    def start(self) -> None:
        if self.enabled and self._loop is None:
            self._loop = asyncio.ensure_future(self._periodic())

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None

    def after_fill(self, connection_id: str) -> None:
        """A live fill of the account: read its balance soon (coalesced with other fills)."""
        if not self.enabled or connection_id in self._soon:
            return
        self._soon.add(connection_id)
        self._spawn(self._after_fills(connection_id))

    async def read_now(self, connection_id: str) -> None:
        """Read the account's balance now (after any read of it in progress)."""
        async with self._lock(connection_id):
            await self._read(connection_id)

    def forget(self, connection_id: str) -> None:
        self._locks.pop(connection_id, None)

    async def _after_fills(self, connection_id: str) -> None:
        await asyncio.sleep(self._fill_delay)  # the burst's other fills join this read
        self._soon.discard(connection_id)  # fills from now on ask for the next read
        await self.read_now(connection_id)

    async def _periodic(self) -> None:
        while True:
            accounts = list(self._eligible())
            if not accounts:
                await asyncio.sleep(self.interval_seconds)  # nothing to read this period
                continue
            gap = self.interval_seconds / len(accounts)
            for connection_id in accounts:
                if not self._lock(connection_id).locked():
                    self._spawn(self.read_now(connection_id))
                await asyncio.sleep(gap)  # the spread of the period's reads

    def _lock(self, connection_id: str) -> asyncio.Lock:
        return self._locks.setdefault(connection_id, asyncio.Lock())

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:  # one account's read never stops the others
                log.exception("reading a balance failed")

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
