"""Pushes of an account's health between checks, on their own: coalesced, at least ``spacing``
apart per account, a full push covering a score-only one, an earlier time overriding a later
one. Real time with a spacing of 0.2 s; each wait is for the next push, with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from server.connections.pushes import HealthPushes

SPACING = 0.2


class Pushed:
    """The pushes made: (account, score only, when), and a wait for the next one."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, bool, float]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self._arrived = asyncio.Event()

    async def push(self, account_id: str, score_only: bool) -> None:
        self.pushes.append((account_id, score_only, time.monotonic()))
        self._arrived.set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def until(self, count: int) -> list[tuple[str, bool, float]]:
        async with asyncio.timeout(10):
            while len(self.pushes) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.pushes


@pytest.fixture
async def pushed() -> AsyncIterator[tuple[Pushed, HealthPushes]]:
    made = Pushed()
    yield made, HealthPushes(made.push, made.spawn, spacing=SPACING)
    for task in list(made.tasks):
        task.cancel()
    await asyncio.gather(*made.tasks, return_exceptions=True)


async def test_asks_in_a_burst_make_two_pushes_a_spacing_apart(
    pushed: tuple[Pushed, HealthPushes],
) -> None:
    made, pushes = pushed
    for _ in range(10):  # ten calls of the account in a row
        pushes.ask("binance:a", score_only=True)
    first = await made.until(1)
    assert [(a, s) for a, s, _ in first] == [("binance:a", True)]  # the first at once
    for _ in range(10):
        pushes.ask("binance:a", score_only=True)
    pushes.ask("binance:a", score_only=False)  # and the usage settled meanwhile
    (_, _, at_1), (account, score_only, at_2) = await made.until(2)
    assert (account, score_only) == ("binance:a", False)  # one push, full, covers both
    assert at_2 - at_1 >= SPACING
    # Another account is not held up by this one's spacing.
    pushes.ask("okx:b", score_only=True)
    (*_, (account, _, at_3)) = await made.until(3)
    assert account == "okx:b" and at_3 - at_2 < SPACING


async def test_an_earlier_time_overrides_a_later_one_and_the_later_stays_due(
    pushed: tuple[Pushed, HealthPushes],
) -> None:
    made, pushes = pushed
    started = time.monotonic()
    pushes.ask("bybit:a", score_only=False, in_seconds=3 * SPACING)  # a window empties then
    pushes.ask("bybit:a", score_only=True)  # a call now
    [(_, score_only, at_1)] = await made.until(1)
    assert score_only and at_1 - started < 3 * SPACING
    (_, (_, score_only, at_2)) = await made.until(2)
    assert not score_only and at_2 - started >= 3 * SPACING
