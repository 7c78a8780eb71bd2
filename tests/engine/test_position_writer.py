"""The writer behind every engine's positions, over real storage (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.connections.model import ConnectionRecord
from server.engine.positions import PositionView
from server.engine.store import PositionStore, PositionWriter
from tests.engine.test_marks import view
from tests.support.book import Book, open_book


@pytest.fixture
async def book(database_url: str) -> AsyncIterator[Book]:
    opened = await open_book(database_url)
    yield opened
    opened.close()


async def gone_a_while(book: Book, name: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A connection deleted, so storage refuses its positions (their foreign key), and how to
    bring its row back."""
    created = await book.connections.create({"name": name, "exchange": "bybit", "api_type": "spot"})

    def columns(session: Session) -> dict[str, Any]:
        record = session.get(ConnectionRecord, created.id)
        return {name: getattr(record, name) for name in ConnectionRecord.model_fields}

    row = await book.db.read(columns)
    await book.connections.delete(str(created.id))

    async def come_back() -> None:
        await book.db.write(lambda session: session.add(ConnectionRecord(**row)))

    return str(created.id), come_back


async def test_a_flush_waits_for_what_was_put_before_it_not_for_the_writer_to_be_idle(
    book: Book,
) -> None:
    connection = await book.connections.create(
        {"name": "writer", "exchange": "bybit", "api_type": "spot"}
    )
    store = PositionStore(book.db)
    mine = replace(view(), connection_id=str(connection.id), mark_price=None)  # (not stored)
    others: list[PositionView] = []

    def stored(position: PositionView) -> None:
        # Other engines keep putting: each write done brings another, so the writer is never
        # idle while this test runs (until it has ten).
        if len(others) < 10:
            others.append(replace(view(), connection_id=str(connection.id)))
            writer.put([others[-1]], announce=True)

    writer = PositionWriter(store, stored)
    writer.put([mine], announce=True)
    async with asyncio.timeout(20):
        await writer.flush()
    assert await store.get(mine.id) == mine
    assert len(others) < 10  # it returned while the others were still being written
    changed = replace(mine, fees=D("0.04"))
    writer.put([changed], announce=False)
    async with asyncio.timeout(20):
        await writer.flush()  # the later state, stored
    assert (await store.get(mine.id)).fees == D("0.04")  # type: ignore[union-attr]
    async with asyncio.timeout(20):
        while len(others) < 10:  # the others' chain, to its end
            await writer.flush()
        await writer.flush()
    for other in others:
        assert await store.get(other.id) is not None


async def test_a_write_storage_refuses_is_kept_and_a_flush_writes_it_again(book: Book) -> None:
    """Storage refuses the positions of a connection it does not hold (their foreign key): the
    writer keeps them, announces nothing and counts the failure; a flush once the cause is gone
    writes them in the caller's task, then announces each change in order."""
    store = PositionStore(book.db)
    announced: list[PositionView] = []
    writer = PositionWriter(store, announced.append)
    connection_id, come_back = await gone_a_while(book, "away a while")
    first = replace(view(), connection_id=connection_id, mark_price=None)
    later = replace(first, fees=D("0.04"))
    writer.put([first], announce=True)
    writer.put([later], announce=True)  # (the writer's task is under way meanwhile)
    with pytest.raises(IntegrityError):
        async with asyncio.timeout(20):
            await writer.flush()  # refused: the caller hears it (an engine's stop), not a hang
    assert writer.failures >= 1
    assert announced == [] and await store.get(first.id) is None  # kept, nothing told

    await come_back()
    async with asyncio.timeout(20):
        await writer.flush()
    assert announced == [first, later]
    assert await store.get(first.id) == later


async def test_a_burst_is_announced_in_order_letting_the_loop_run_between(book: Book) -> None:
    """Announcing a stored burst holds the loop for a step at most: other work (a cycle, a
    stream) runs between its changes, which still go out in the order they were put."""
    connection = await book.connections.create(
        {"name": "burst", "exchange": "bybit", "api_type": "spot"}
    )
    store = PositionStore(book.db)
    burst = [replace(view(), connection_id=str(connection.id)) for _ in range(40)]
    events: list[str] = []

    def stored(position: PositionView) -> None:
        events.append("announced")
        if len(events) == 1:  # other work comes due while the burst is being announced
            asyncio.get_running_loop().call_soon(events.append, "other work")
        busy_until = time.perf_counter() + 0.001  # the subscribers' share of one change
        while time.perf_counter() < busy_until:
            pass
        order.append(position.id)

    order: list[Any] = []
    writer = PositionWriter(store, stored)
    writer.put(burst, announce=True)
    async with asyncio.timeout(20):
        await writer.flush()
    assert order == [position.id for position in burst]
    other = events.index("other work")
    assert 0 < other < len(events) - 1  # between two announcements, not after the last


class CountingStore(PositionStore):
    """The real store, counting the saves under way at once."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.under_way = self.most_at_once = 0

    async def save(self, views: Any, **running: Any) -> None:
        self.under_way += 1
        self.most_at_once = max(self.most_at_once, self.under_way)
        try:
            await super().save(views, **running)
        finally:
            self.under_way -= 1


async def test_a_flush_retrying_a_failed_write_and_a_later_put_write_one_after_the_other(
    book: Book,
) -> None:
    """After a failed write a flush writes in its caller's task; a put meanwhile starts the
    writer's own task again. The two writes go one after the other, in order, so the later
    state of a position is the one stored and the changes are announced as they were put."""
    store = CountingStore(book.db)
    announced: list[PositionView] = []
    writer = PositionWriter(store, announced.append)
    connection_id, come_back = await gone_a_while(book, "retried")
    first = replace(view(), connection_id=connection_id, mark_price=None)
    writer.put([first], announce=True)
    with pytest.raises(IntegrityError):
        async with asyncio.timeout(20):
            await writer.flush()
    await come_back()

    retry = asyncio.create_task(writer.flush())  # writes ``first`` in this task
    await asyncio.sleep(0)  # it has started its write
    later = replace(first, fees=D("0.07"))
    writer.put([later], announce=True)  # the writer's own task starts
    async with asyncio.timeout(20):
        await retry
        await writer.flush()
    assert store.most_at_once == 1
    assert announced == [first, later]
    assert await store.get(first.id) == later


async def test_a_write_stopped_while_announcing_leaves_the_rest_for_the_next(book: Book) -> None:
    """A flush writing in its caller's task (after a failed write) whose caller goes away (an
    RPC cancelled) mid-announcement: what is stored but not yet told is told by the next write,
    in order, and nothing twice."""
    store = PositionStore(book.db)
    connection_id, come_back = await gone_a_while(book, "told later")
    burst = [replace(view(), connection_id=connection_id) for _ in range(40)]
    told: list[Any] = []

    def stored(position: PositionView) -> None:
        told.append(position.id)
        if len(told) == 2:
            asyncio.get_running_loop().call_soon(caller.cancel)  # lands at the next step
        busy_until = time.perf_counter() + 0.001
        while time.perf_counter() < busy_until:
            pass

    writer = PositionWriter(store, stored)
    writer.put(burst, announce=True)
    with pytest.raises(IntegrityError):
        async with asyncio.timeout(20):
            await writer.flush()
    await come_back()
    caller = asyncio.create_task(writer.flush())
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert 2 <= len(told) < len(burst)  # stopped part-way through the announcements
    for position in burst:  # all stored all the same
        assert await store.get(position.id) is not None
    async with asyncio.timeout(20):
        await writer.flush()
    assert told == [position.id for position in burst]


async def test_a_running_state_change_writes_a_whole_row_still_waiting_whole(book: Book) -> None:
    """``put_running`` writes only the best price and armed stop of a stored position; a
    position whose whole row is still waiting (just opened, or kept after a failed write) is
    written whole all the same, with its latest running state."""
    connection_id, come_back = await gone_a_while(book, "running")
    store = PositionStore(book.db)
    writer = PositionWriter(store, lambda _: None)
    opened = replace(view(), connection_id=connection_id, mark_price=None)
    writer.put([opened], announce=True)
    await asyncio.sleep(0)  # the writer's task has taken it and is writing it (to be refused)
    moved = replace(opened, state=replace(opened.state, best_price=D("123.5")))
    writer.put_running([moved])  # meanwhile
    with pytest.raises(IntegrityError):
        async with asyncio.timeout(20):
            await writer.flush()  # refused: the whole row waits
    await come_back()
    async with asyncio.timeout(20):
        await writer.flush()
    assert await store.get(opened.id) == moved  # inserted whole, with the latest best price

    armed = replace(moved, state=replace(moved.state, best_price=D("124"), trailing_armed=True))
    writer.put_running([armed])
    fresh = replace(view(), connection_id=connection_id, mark_price=None)
    writer.put([fresh], announce=True)
    writer.put_running([replace(fresh, state=replace(fresh.state, best_price=D("99")))])
    async with asyncio.timeout(20):
        await writer.flush()
    assert await store.get(opened.id) == armed
    stored_fresh = await store.get(fresh.id)
    assert stored_fresh is not None and stored_fresh.state.best_price == D("99")
