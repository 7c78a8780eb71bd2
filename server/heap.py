"""The cyclic garbage collector kept off the engines' cycles.

CPython's cyclic collector walks every tracked object of the generations it collects, and the
walk's cost follows the references it visits, most of them cache misses on a big heap. Left to
its defaults it hurt a thousand engines twice over (measured with ``bench/engines.py``,
1,000 engines and 20 watchers, a collector callback timing each collection):

- **Full collections.** The collector collects the oldest generation each time it has grown
  by a quarter since the last full collection. The engines keep making objects that live for
  seconds (each re-mark replaces every open position's view), so that came every few seconds,
  took 90-300 ms each (180,000 objects and 1.4 million references walked in 234 ms), and held
  every cycle and stream. They freed next to nothing: 140 objects in a whole run. Freezing
  settled objects every 10 s (``gc.freeze``, this module's earlier answer) still left ten
  seconds of survivors to walk.
- **Young collections.** A young collection starts when allocations outnumber deallocations by
  700. A re-mark allocates a view for each open position and frees the one it replaces, so the
  count hardly moves while the young generation fills: when a collection finally came it
  walked up to 120,000 objects, 30-110 ms.

:class:`HeapSteward` therefore (1) never lets the collector start a full collection on its
own, (2) collects the young generations itself every ``young_seconds`` (0.1 s), so none holds
more than a tenth of a second of objects, and (3) runs one full collection every
``full_seconds`` (an hour), which frees the reference cycles that died old: measured at 1,000
engines, 1.14 s over 1.4 million objects — the one long pause an hour, logged with its
duration. The collector's own young collections stay on, so a burst of short-lived cycles is
freed as before.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("cts.heap")

#: A full collection starts on its own once this many young (generation 1) collections have run
#: since the last one: never, in practice.
NEVER = 2**31 - 1


class HeapSteward:
    def __init__(self, young_seconds: float = 0.1, full_seconds: float = 3600.0) -> None:
        self._young_seconds = young_seconds
        self._full_seconds = full_seconds
        self._thresholds: tuple[int, int, int] | None = None
        self._young: asyncio.TimerHandle | None = None
        self._full: asyncio.TimerHandle | None = None
        self.young_collections = 0
        self.full_collections = 0
        self.longest_full_seconds = 0.0
        self.ticked = asyncio.Event()  # set by every scheduled collection

    def start(self) -> None:
        """From now on: no full collection but the scheduled ones; the young generations
        collected on schedule."""
        if self._thresholds is not None:
            return
        self._thresholds = young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        loop = asyncio.get_running_loop()
        self._young = loop.call_later(self._young_seconds, self._collect_young, loop)
        self._full = loop.call_later(self._full_seconds, self._collect_all, loop)

    def _collect_young(self, loop: asyncio.AbstractEventLoop) -> None:
        gc.collect(1)
        self.young_collections += 1
        self.ticked.set()
        self._young = loop.call_later(self._young_seconds, self._collect_young, loop)

    def _collect_all(self, loop: asyncio.AbstractEventLoop) -> None:
        self.collect_all()
        self.ticked.set()
        self._full = loop.call_later(self._full_seconds, self._collect_all, loop)

    def collect_all(self) -> None:
        """One full collection: frees the reference cycles among old objects."""
        started = time.perf_counter()
        gc.collect()
        took = time.perf_counter() - started
        self.full_collections += 1
        self.longest_full_seconds = max(self.longest_full_seconds, took)
        log.info("full garbage collection took %.0f ms", 1000 * took)

    def close(self) -> None:
        """Stop the schedule and give the collector its thresholds back."""
        for handle in (self._young, self._full):
            if handle is not None:
                handle.cancel()
        self._young = self._full = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
