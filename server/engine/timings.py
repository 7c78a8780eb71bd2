"""The durations of an engine's cycles of one kind, and their percentiles."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from server.engine.status import Timing

CYCLE_SAMPLES = 1000


class Timings:
    """The last durations of one kind of cycle, and their percentiles."""

    def __init__(self, observe: Callable[[float], object] | None = None) -> None:
        self.count = 0
        self._samples: deque[float] = deque(maxlen=CYCLE_SAMPLES)
        self._observe = observe  # told each duration in seconds

    def add(self, started: float) -> None:
        seconds = time.perf_counter() - started
        self.count += 1
        self._samples.append(seconds * 1000)
        if self._observe is not None:
            self._observe(seconds)

    def timing(self) -> Timing:
        if not self._samples:
            return Timing(self.count)
        ordered = sorted(self._samples)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return Timing(self.count, round(ordered[len(ordered) // 2], 3), round(p99, 3))
