"""Turns: a burst of engine cycles lets the rest of the loop in between, never only after."""

from __future__ import annotations

import asyncio
import time

from server.engine.turns import Turns


async def test_a_burst_of_cycles_lets_other_work_in_between() -> None:
    turns = Turns(slice_seconds=0.005)
    order: list[str] = []
    round_ = asyncio.Event()

    async def engine() -> None:
        await round_.wait()  # one round wakes every engine at once
        await turns.take()
        busy_until = time.perf_counter() + 0.002  # a 2 ms cycle, with no await in it
        while time.perf_counter() < busy_until:
            pass
        order.append("cycle")

    async def other() -> None:  # an RPC, a stream, an exchange answer...
        await round_.wait()
        for _ in range(20):
            await asyncio.sleep(0)
            order.append("other")

    tasks = [asyncio.ensure_future(engine()) for _ in range(40)] + [asyncio.ensure_future(other())]
    await asyncio.sleep(0)
    round_.set()
    await asyncio.gather(*tasks)

    cycles = [i for i, what in enumerate(order) if what == "cycle"]
    between = [i for i, what in enumerate(order) if what == "other" and cycles[0] < i < cycles[-1]]
    assert len(cycles) == 40  # every cycle ran, none was cut
    assert turns.yields > 0 and len(between) >= 5  # others got turns during the burst


async def test_a_single_cycle_after_a_quiet_moment_does_not_yield() -> None:
    turns = Turns(slice_seconds=0.005)
    await asyncio.sleep(0.01)  # the loop was elsewhere: a new slice starts
    await turns.take()
    assert turns.yields == 0
