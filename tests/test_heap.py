"""The heap steward: what it freezes the cyclic collector no longer walks, a refresh frees the
cycles that died frozen, and keep() freezes and refreshes on its own schedule."""

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
def steward() -> Iterator[HeapSteward]:
    made = HeapSteward()
    yield made
    made.close()
    gc.unfreeze()  # the test process's heap as it was


async def test_a_cycle_that_dies_frozen_waits_for_the_refresh(steward: HeapSteward) -> None:
    node = Node()
    alive = weakref.ref(node)
    steward.freeze()
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert alive() is not None  # frozen: no collection walks it
    steward.refresh()
    assert alive() is None and steward.refreshes == 1


async def next_tick(steward: HeapSteward) -> None:
    steward.ticked.clear()
    async with asyncio.timeout(10):
        await steward.ticked.wait()


async def test_keep_freezes_on_its_schedule_and_refreshes_when_due(steward: HeapSteward) -> None:
    steward.keep(every_seconds=0.01, refresh_seconds=0.2)
    node = Node()
    alive = weakref.ref(node)
    await next_tick(steward)
    assert steward.freezes >= 1 and steward.refreshes == 0  # the first ticks freeze
    del node
    gc.collect()
    assert alive() is not None  # it was frozen alive
    while steward.refreshes == 0:
        await next_tick(steward)
    assert alive() is None  # the refresh freed it
