"""The dashboard's log reading against a real server: pages of older entries, also after the
page dropped lines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cts.monitoring.v1 import monitoring_pb2 as pb

from tests.conftest import TEST_TOKEN
from tests.support.server_thread import ServerThread
from tests.webui.conftest import MonitoringStub, write_log
from webui.backend import Backend
from webui.log_feed import LogFilters, LogPages

MINE = LogFilters(text="feed entry")


@pytest.fixture
async def backend(dashboard_server: ServerThread) -> AsyncIterator[Backend]:
    opened = Backend(dashboard_server.target)
    await opened.open()
    yield opened
    await opened.close()


async def written(monitoring: MonitoringStub, count: int) -> list[pb.LogEntry]:
    return [await write_log(monitoring, f"feed entry {n:02d}") for n in range(count)]


async def test_older_pages_continue_below_the_oldest_entry_shown(
    backend: Backend, monitoring: MonitoringStub
) -> None:
    entries = await written(monitoring, 25)
    pages = LogPages(backend, TEST_TOKEN, MINE, page_size=10)
    first = await pages.first()
    assert [e.id for e in first] == [e.id for e in reversed(entries[15:])]
    assert pages.more
    second = await pages.older(first[-1].id)
    assert [e.id for e in second] == [e.id for e in reversed(entries[5:15])]
    last = await pages.older(second[-1].id)
    assert [e.id for e in last] == [e.id for e in reversed(entries[:5])]
    assert not pages.more


async def test_after_lines_were_dropped_the_next_page_starts_below_the_oldest_kept(
    backend: Backend, monitoring: MonitoringStub
) -> None:
    entries = await written(monitoring, 25)
    pages = LogPages(backend, TEST_TOKEN, MINE, page_size=10)
    await pages.first()
    # The page kept only entries 18..24 (newer ones pushed the rest out): its place is lost.
    pages.lost_place()
    assert pages.more
    found = await pages.older(entries[18].id)
    assert [e.id for e in found] == [e.id for e in reversed(entries[:18])]
    assert not pages.more
