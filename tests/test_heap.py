"""The heap steward: the collector starts no full collection on its own, the steward collects
the young generations and, on its schedule, everything, and it gives the thresholds back."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from server.heap import HeapSteward


class Node:
    def __init__(self) -> None:
        self.itself = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)  # the test process's collector as it was, whatever happened


async def next_tick(steward: HeapSteward) -> None:
    steward.ticked.clear()
    async with asyncio.timeout(10):
        await steward.ticked.wait()


def old_dead_cycle() -> weakref.ref[Node]:
    """A cycle that reached the oldest generation and then died: only a full collection
    frees it."""
    node = Node()
    gc.collect(1)  # survives the young generations: now in the oldest
    return weakref.ref(node)


async def test_no_full_collection_starts_on_its_own(thresholds: tuple[int, int, int]) -> None:
    steward = HeapSteward(young_seconds=3600, full_seconds=3600)  # no scheduled collection
    steward.start()
    try:
        dead = old_dead_cycle()
        full_before = gc.get_stats()[2]["collections"]
        # Far more than the default full-collection trigger: a tenth young collection with the
        # oldest generation grown by more than a quarter (these survivors alone would do it).
        kept = [[i] for i in range(400_000)]
        gc.collect(1)
        for _ in range(30):
            kept.append([[j] for j in range(20_000)])  # the collector's own young collections
        assert gc.get_stats()[1]["collections"] > 0
        assert gc.get_stats()[2]["collections"] == full_before
        assert dead() is not None  # no full collection walked it
        young_garbage = weakref.ref(Node())
        gc.collect(1)
        assert young_garbage() is None  # young cycles are still freed
        del kept
    finally:
        steward.close()
    assert gc.get_threshold() == thresholds  # given back


async def test_the_schedule_collects_the_young_and_everything(
    thresholds: tuple[int, int, int],
) -> None:
    steward = HeapSteward(young_seconds=0.01, full_seconds=0.3)
    steward.start()
    try:
        dead = old_dead_cycle()
        await next_tick(steward)
        assert steward.young_collections >= 1
        if steward.full_collections == 0:
            assert dead() is not None  # young collections leave it
        while steward.full_collections == 0:
            await next_tick(steward)
        assert dead() is None  # the full collection freed it
        assert steward.longest_full_seconds > 0
    finally:
        steward.close()
    assert gc.get_threshold() == thresholds
