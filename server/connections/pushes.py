"""When the health of an account's connections is pushed again between checks.

A connection's health changes without a check: with time, its account's rate-limit windows run
empty and a 429 pause ends; with every call of the account, its health score may move. None of
this is pushed at once. Each account has at most one push pending, due at the earliest time
asked for, and the pushes of one account are at least ``spacing`` (1 s) apart. A push is either

- *full*: each connection's health is published if anything in it changed (asked for when the
  account's usage settles: a window runs empty, the pause ends); or
- *score only*: only connections whose health score or band changed are published (asked for
  after each call of the account).

A full push that is due covers a score-only push due by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("cts.health")


@dataclass
class _Pending:
    full_at: float | None = None
    score_at: float | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def soonest(self) -> float | None:
        times = [t for t in (self.full_at, self.score_at) if t is not None]
        return min(times) if times else None


class HealthPushes:
    def __init__(
        self,
        push: Callable[[str, bool], Awaitable[None]],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        *,
        spacing: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``push(account_id, score_only)`` publishes; ``spawn`` runs the waits as tasks."""
        self._push = push
        self._spawn = spawn
        self._spacing = spacing
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._last: dict[str, float] = {}  # when each account was last pushed

    def ask(self, account_id: str, *, score_only: bool, in_seconds: float = 0.0) -> None:
        """Push the account's connections in ``in_seconds`` (or later, to keep the spacing)."""
        at = self._clock() + in_seconds
        pending = self._pending.get(account_id)
        if pending is None:
            pending = self._pending[account_id] = _Pending()
            self._spawn(self._run(account_id, pending))
        if score_only:
            pending.score_at = at if pending.score_at is None else min(pending.score_at, at)
        else:
            pending.full_at = at if pending.full_at is None else min(pending.full_at, at)
        pending.wake.set()

    async def _run(self, account_id: str, pending: _Pending) -> None:
        try:
            while (soonest := pending.soonest()) is not None:
                at = max(soonest, self._last.get(account_id, -math.inf) + self._spacing)
                if (wait := at - self._clock()) > 0:
                    pending.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await pending.wake.wait()  # an earlier time may have been asked
                    continue
                now = self._clock()
                full = pending.full_at is not None and pending.full_at <= now
                if full:
                    pending.full_at = None
                if pending.score_at is not None and pending.score_at <= now:
                    pending.score_at = None
                self._last[account_id] = now
                try:
                    await self._push(account_id, not full)
                except Exception:
                    log.exception("pushing the health of an account's connections failed")
        finally:
            if self._pending.get(account_id) is pending:
                del self._pending[account_id]
