"""An engine's cycle timings: the count always current, the percentiles of the last thousand
cycles worked out again every ``REFRESH_CYCLES`` cycles."""

from __future__ import annotations

import time

from server.engine.timings import REFRESH_CYCLES, Timings


def cycle_of(timings: Timings, milliseconds: float) -> None:
    timings.add(time.perf_counter() - milliseconds / 1000)  # a cycle that took that long


def test_the_count_is_current_and_the_percentiles_follow_every_refresh_cycles() -> None:
    timings = Timings()
    assert timings.timing().cycles == 0
    cycle_of(timings, 5)
    first = timings.timing()
    assert first.cycles == 1 and 5 <= first.p50_ms < 50 and first.p99_ms == first.p50_ms
    for done in range(2, REFRESH_CYCLES + 1):  # much slower cycles, not yet in the percentiles
        cycle_of(timings, 500)
        held = timings.timing()
        assert held.cycles == done and (held.p50_ms, held.p99_ms) == (first.p50_ms, first.p99_ms)
    cycle_of(timings, 500)  # the tenth since the percentiles were worked out
    fresh = timings.timing()
    assert fresh.cycles == REFRESH_CYCLES + 1
    assert 500 <= fresh.p50_ms < 550 and 500 <= fresh.p99_ms < 550
