"""Turns: many engines' cycles and the rest of the server share one event loop fairly.

Every engine waits on the same market feed round, so a round wakes a thousand engines at once,
and asyncio runs every callback that is ready before it next polls its sockets: a thousand
cycles of a millisecond each would hold every RPC, stream and exchange answer for a second.
Before its cycle an engine takes a turn. While the loop has run cycles for less than
``slice_seconds`` since it last let others in, the turn is free. Past that, the engines that
come wait in line, and the line is served one engine per pass of the loop: each pass polls the
sockets and runs whatever else is ready, then one more cycle. A cycle itself is never cut; the
loop answers everything else within ``slice_seconds`` plus one cycle, and then after every
cycle. When the line is empty a new slice begins. The prices an engine acts on are the round's
whatever its turn.

(Before, the engines past the slice each yielded and tried again on every pass until the slice
came back: at 1,000 engines about 12,000 idle task steps a round, ~10 % of a core, and every
pass of the loop, so every hop of an RPC, took the whole line's steps — 30-40 ms.)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Turns:
    def __init__(self, slice_seconds: float = 0.02) -> None:
        self._slice = slice_seconds
        self._since = 0.0  # when the current slice of cycles began
        self._last = 0.0  # when the last turn was taken
        self._line: deque[asyncio.Future[None]] = deque()
        self._serving = False  # the line is served, one engine per pass of the loop
        self.yields = 0  # turns that waited in line

    async def take(self) -> None:
        if not self._serving:
            now = time.perf_counter()
            if now - self._last > self._slice:  # the loop was elsewhere: a new slice
                self._since = now
            self._last = now
            if now - self._since < self._slice:
                return
            self._serving = True
            asyncio.get_running_loop().call_soon(self._serve)  # after the next poll
        waiting = asyncio.get_running_loop().create_future()
        self._line.append(waiting)
        self.yields += 1
        await waiting

    def _serve(self) -> None:
        """One engine's turn from the line, then again on the next pass while any wait."""
        while self._line:
            turn = self._line.popleft()
            if not turn.done():  # (a cancelled wait: its engine stopped)
                turn.set_result(None)
                break
        if self._line:
            asyncio.get_running_loop().call_soon(self._serve)
        else:
            self._serving = False
            self._since = self._last = time.perf_counter()  # a new slice
