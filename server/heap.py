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
only reference cycles among frozen objects stay until the next refresh.

Running engines keep making objects that live seconds (a re-mark replaces every open
position's view every few seconds): measured at 1,000 engines, they brought a full collection
every ~3 s taking up to 420 ms. :meth:`HeapSteward.keep` therefore also freezes every
``every_seconds`` (10 s), so the collector's walks cover at most that many seconds of
survivors, and once every ``refresh_seconds`` (an hour) it unfreezes, collects everything (one
pause, freeing the cycles that died frozen) and freezes again.
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
        self._keeping: asyncio.TimerHandle | None = None
        self._refreshed_at = 0.0
        self.freezes = 0
        self.refreshes = 0
        self.ticked = asyncio.Event()  # set by every scheduled freeze or refresh of keep()

    def keep(self, every_seconds: float = 10.0, refresh_seconds: float = 3600.0) -> None:
        """From now on freeze every ``every_seconds``, and refresh every ``refresh_seconds``."""
        loop = asyncio.get_running_loop()
        self._refreshed_at = loop.time()

        def tick() -> None:
            if loop.time() - self._refreshed_at >= refresh_seconds:
                self.refresh()
                self._refreshed_at = loop.time()
            else:
                self._freeze()
            self.ticked.set()
            self._keeping = loop.call_later(every_seconds, tick)

        self._keeping = loop.call_later(every_seconds, tick)

    def refresh(self) -> None:
        """Unfreeze, collect everything (the cycles that died frozen too), freeze again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.refreshes += 1

    def settle(self) -> None:
        """Long-lived objects were made (engines reached running): freeze them soon."""
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self._settle_seconds, self.freeze)

    def freeze(self) -> None:
        self._pending = None
        self._freeze()

    def _freeze(self) -> None:
        gc.collect(1)  # young cyclic garbage is freed, not frozen
        gc.freeze()
        self.freezes += 1
        if log.isEnabledFor(logging.DEBUG):  # the count walks every frozen object (millions)
            log.debug("heap frozen: %d objects permanent", gc.get_freeze_count())

    def close(self) -> None:
        for handle in (self._pending, self._keeping):
            if handle is not None:
                handle.cancel()
        self._pending = self._keeping = None
