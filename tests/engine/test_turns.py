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


async def test_past_the_slice_engines_wait_in_line_one_turn_per_pass_of_the_loop() -> None:
    turns = Turns(slice_seconds=0.0)  # every turn past the first waits in line
    order: list[str] = []
    passes = 0

    async def engine(name: str) -> None:
        await turns.take()
        order.append(name)

    async def loop_passes() -> None:  # one step per pass of the loop
        nonlocal passes
        while True:
            await asyncio.sleep(0)
            passes += 1

    counting = asyncio.ensure_future(loop_passes())
    engines = [asyncio.ensure_future(engine(str(n))) for n in range(5)]
    await asyncio.sleep(0)  # every engine is in line now
    engines[2].cancel()  # its engine stopped while waiting: the line goes on without it
    started = passes
    await asyncio.gather(*(e for i, e in enumerate(engines) if i != 2))
    counting.cancel()
    assert order == ["0", "1", "3", "4"]  # first come, first served
    assert passes - started >= 4  # a pass of the loop for each turn, not one for all
    assert turns.yields == 5
