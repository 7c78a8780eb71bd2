"""The durations of an engine's cycles of one kind, and their percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from server.engine.status import Timing

CYCLE_SAMPLES = 1000


class Timings:
    """The last durations of one kind of cycle (a ring of ``CYCLE_SAMPLES``), and their
    percentiles (a partial sort when asked: a status is published every few cycles, not
    every one)."""

    def __init__(self, observe: Callable[[float], object] | None = None) -> None:
        self.count = 0
        self._samples = np.zeros(CYCLE_SAMPLES, dtype=np.float64)  # milliseconds
        self._observe = observe  # told each duration in seconds

    def add(self, started: float) -> None:
        seconds = time.perf_counter() - started
        self._samples[self.count % CYCLE_SAMPLES] = seconds * 1000
        self.count += 1
        if self._observe is not None:
            self._observe(seconds)

    def timing(self) -> Timing:
        held = min(self.count, CYCLE_SAMPLES)
        if not held:
            return Timing(self.count)
        half, high = held // 2, min(held - 1, int(held * 0.99))
        ordered = np.partition(self._samples[:held], (half, high))
        return Timing(self.count, round(float(ordered[half]), 3), round(float(ordered[high]), 3))
