"""Turns: many engines' cycles and the rest of the server share one event loop fairly.

Every engine waits on the same market feed round, so a round wakes a thousand engines at once,
and asyncio runs every callback that is ready before it next polls its sockets: a thousand
cycles of a millisecond each would hold every RPC, stream and exchange answer for a second.
Before its cycle an engine takes a turn: while the loop has run cycles for less than
``slice_seconds`` since it last let others in, the turn is free; past that, the engine yields
once (``asyncio.sleep(0)``), which puts it after the loop's next poll of its sockets. A cycle
itself is never cut; the loop answers everything else at least every ``slice_seconds`` plus one
cycle. The prices an engine acts on are the round's whatever its turn.
"""

from __future__ import annotations

import asyncio
import time


class Turns:
    def __init__(self, slice_seconds: float = 0.02) -> None:
        self._slice = slice_seconds
        self._since = 0.0  # when the current slice of cycles began
        self._last = 0.0  # when the last turn was taken
        self._paused = False  # until the loop has polled: every engine waits
        self.yields = 0

    async def take(self) -> None:
        while True:
            now = time.perf_counter()
            if not self._paused:
                if now - self._last > self._slice:  # the loop was elsewhere: a new slice
                    self._since = now
                self._last = now
                if now - self._since < self._slice:
                    return
                self._paused = True
                asyncio.get_running_loop().call_soon(self._resume)  # after the next poll
            self.yields += 1
            await asyncio.sleep(0)

    def _resume(self) -> None:
        self._paused = False
        self._since = self._last = time.perf_counter()
