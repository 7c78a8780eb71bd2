"""The places of the connection tests' cap: most constrained account first, cancellation-safe."""

from __future__ import annotations

import asyncio

from server.connections.places import Places


async def queued(places: Places, count: int) -> None:
    """One turn of the loop: every task just created runs up to its wait for a place."""
    await asyncio.sleep(0)
    assert places.waiting == count


async def test_a_freed_place_goes_to_the_most_urgent_waiter_then_in_arrival_order() -> None:
    places = Places(1)
    order: list[str] = []
    release = asyncio.Event()

    async def test(name: str, urgency: float) -> None:
        async with places.place(urgency):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(test("first", 0))
    await asyncio.sleep(0)
    others = [
        asyncio.create_task(test(name, urgency))
        for name, urgency in (("calm", 0.5), ("urgent", 2), ("calm too", 0.5), ("urgent too", 2))
    ]
    await queued(places, 4)
    release.set()
    await asyncio.gather(first, *others)

    assert order == ["first", "urgent", "urgent too", "calm", "calm too"]


async def test_a_cancelled_waiter_takes_no_place_and_keeps_none() -> None:
    places = Places(2)
    held = asyncio.Event()
    done = asyncio.Event()

    async def hold() -> None:
        async with places.place():
            held.set()
            await done.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await held.wait()
    gone = asyncio.create_task(hold())
    await queued(places, 1)
    gone.cancel()
    done.set()
    await asyncio.gather(*holders)
    assert gone.cancelled()

    # Both places are free again: two tests get in at once.
    inside = 0
    both = asyncio.Event()

    async def enter() -> None:
        nonlocal inside
        async with places.place():
            inside += 1
            if inside == 2:
                both.set()
            await both.wait()

    async with asyncio.timeout(5):
        await asyncio.gather(enter(), enter())
