"""The durations of an engine's cycles of one kind, and their percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from server.engine.status import Timing

CYCLE_SAMPLES = 1000
#: The percentiles are worked out again once this many cycles were added since the last time
#: (the count is always current). With a thousand engines publishing their figures with every
#: fill and signal change, three partial sorts per status were 5 % of the server's CPU; over
#: the last thousand cycles, ten more hardly move a percentile.
REFRESH_CYCLES = 10


class Timings:
    """The last durations of one kind of cycle (a ring of ``CYCLE_SAMPLES``), and their
    percentiles (a partial sort when asked, at most once every ``REFRESH_CYCLES`` cycles)."""

    def __init__(self, observe: Callable[[float], object] | None = None) -> None:
        self.count = 0
        self._samples = np.zeros(CYCLE_SAMPLES, dtype=np.float64)  # milliseconds
        self._observe = observe  # told each duration in seconds
        self._computed: Timing | None = None  # the percentiles, worked out at its count

    def add(self, started: float) -> None:
        seconds = time.perf_counter() - started
        self._samples[self.count % CYCLE_SAMPLES] = seconds * 1000
        self.count += 1
        if self._observe is not None:
            self._observe(seconds)

    def timing(self) -> Timing:
        computed = self._computed
        if computed is not None and self.count - computed.cycles < REFRESH_CYCLES:
            return Timing(self.count, computed.p50_ms, computed.p99_ms)
        held = min(self.count, CYCLE_SAMPLES)
        if not held:
            return Timing(self.count)
        half, high = held // 2, min(held - 1, int(held * 0.99))
        ordered = np.partition(self._samples[:held], (half, high))
        self._computed = Timing(
            self.count, round(float(ordered[half]), 3), round(float(ordered[high]), 3)
        )
        return self._computed
