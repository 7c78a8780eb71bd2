"""The cyclic garbage collector kept off the engines' cycles.

CPython's cyclic collector walks every tracked object of a generation it collects, and it
collects the oldest generation each time that generation has grown by a quarter. A server that
holds a thousand engines' sessions, markets, books and positions has millions of long-lived
objects, so each such full collection stops every coroutine for hundreds of milliseconds
(measured: 280-440 ms at 100 engines), and they come often while engines start (the heap grows
by a quarter again and again). The objects that make the heap big live as long as their
connection and are freed by reference counting, not by the cyclic collector.

:class:`HeapSteward` therefore moves the objects that have settled into the permanent
generation (``gc.freeze``), which the collector no longer walks: once after the server has
started, and again whenever engines have reached running (at most once per ``settle_seconds``,
so a start-up wave of a thousand engines freezes a few dozen times, not a thousand). Before
each freeze it collects the young generations, so the cyclic garbage of the last moments is
freed rather than frozen. What is frozen is still freed by reference counting when it dies;
only reference cycles among frozen objects stay until shutdown (loading leaves few).
"""

from __future__ import annotations

import asyncio
import gc
import logging

log = logging.getLogger("cts.heap")


class HeapSteward:
    def __init__(self, settle_seconds: float = 1.0) -> None:
        self._settle_seconds = settle_seconds
        self._pending: asyncio.TimerHandle | None = None
        self.freezes = 0

    def settle(self) -> None:
        """Long-lived objects were made (engines reached running): freeze them soon."""
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self._settle_seconds, self.freeze)

    def freeze(self) -> None:
        self._pending = None
        gc.collect(1)  # young cyclic garbage is freed, not frozen
        gc.freeze()
        self.freezes += 1
        log.debug("heap frozen: %d objects permanent", gc.get_freeze_count())

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
