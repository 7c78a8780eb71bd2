"""The log pipeline's parts on real storage: the bounded capture, retention, scrubbing."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.monitoring.logs import store
from server.monitoring.logs.capture import LogCapture
from server.monitoring.logs.entry import Category, Level, LogEntry
from server.monitoring.logs.journal import LogJournal
from server.monitoring.logs.scrub import REBUILD_AFTER, SecretScrubber
from server.monitoring.logs.store import LogFilter
from server.monitoring.model import LogEntryRecord
from server.storage.database import Database
from server.storage.migrate import upgrade
from server.streams.topic import Change, Topic


def entry(level: Level, message: str, *, age: timedelta = timedelta(0)) -> LogEntry:
    return LogEntry(datetime.now(UTC) - age, level, Category.SYSTEM, message)


def test_a_full_capture_drops_debug_first_and_counts_every_drop() -> None:
    capture = LogCapture(capacity=4)
    for i in range(3):
        assert capture.offer(entry(Level.DEBUG, f"debug {i}"))
    assert capture.offer(entry(Level.INFO, "info 0"))
    # Full: an info entry pushes out the oldest debug one; a debug entry is itself dropped.
    assert capture.offer(entry(Level.ERROR, "error 0"))
    assert not capture.offer(entry(Level.DEBUG, "debug late"))
    assert capture.offer(entry(Level.WARNING, "warning 0"))
    assert capture.offer(entry(Level.INFO, "info 1"))
    # No debug entry left to give way: the newcomer is dropped, whatever its level.
    assert not capture.offer(entry(Level.ERROR, "error 1"))
    kept = [e.message for e in capture.drain(100)]
    assert sorted(kept) == ["error 0", "info 0", "info 1", "warning 0"]
    assert capture.dropped == {"debug": 4, "error": 1}
    assert capture.emitted["debug"] == 3 and capture.emitted["error"] == 1


def test_the_handler_never_waits_and_reports_records_as_entries() -> None:
    capture = LogCapture(capacity=10)
    logger = logging.getLogger("cts.engine.live.pipeline-test")
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        for i in range(25):
            logger.info("order %d", i)
    finally:
        logger.removeHandler(capture)
    drained = capture.drain(100)
    assert [e.message for e in drained] == [f"order {i}" for i in range(10)]
    assert {e.category for e in drained} == {Category.ORDER}  # by logger name
    assert capture.dropped == {"info": 15}


@pytest.fixture
def journal_db(database_url: str) -> Database:
    db = Database(database_url)
    upgrade(db.engine)
    return db


def a_journal(
    db: Database,
    capture: LogCapture,
    topic: Topic[tuple[LogEntry, ...]] | None = None,
    *,
    retention_days: int = 14,
    max_entries: int = 10**6,
    prune_seconds: float = 600.0,
) -> LogJournal:
    """A journal of ``capture`` on ``db`` (two weeks and a million entries kept, unless told)."""
    return LogJournal(
        db,
        capture,
        Topic("logs") if topic is None else topic,
        retention_days=retention_days,
        max_entries=max_entries,
        heartbeat_seconds=15,
        prune_seconds=prune_seconds,
    )


def count(db: Database) -> int:
    return db.read_now(lambda s: int(s.execute(select(func.count(LogEntryRecord.id))).scalar()))


async def test_retention_removes_old_entries_and_all_but_the_newest(journal_db: Database) -> None:
    capture = LogCapture(capacity=10_000)
    journal = a_journal(journal_db, capture, retention_days=1, max_entries=1000, prune_seconds=3600)
    await journal.start()
    try:
        for i in range(300):
            capture.offer(entry(Level.INFO, f"old {i}", age=timedelta(days=2)))
        for i in range(1200):
            capture.offer(entry(Level.INFO, f"new {i}"))
        await journal.flush()
        await journal.prune()  # (the background retention may have run meanwhile too)
        assert count(journal_db) == 1000
        left = journal_db.read_now(
            lambda s: store.find_entries(s, LogFilter(), limit=2000, newest_first=False)
        )
        assert len(left) == 1000
        assert left[0].message == "new 200" and left[-1].message == "new 1199"
        assert await journal.prune() == 0
    finally:
        await journal.stop()
        journal_db.close()


async def test_entries_buffered_before_start_are_stored_with_growing_ids(
    journal_db: Database,
) -> None:
    capture = LogCapture(capacity=100)
    for i in range(5):
        capture.offer(entry(Level.WARNING, f"early {i}"))
    topic: Topic[tuple[LogEntry, ...]] = Topic("logs")
    journal = a_journal(journal_db, capture, topic)
    subscription, _ = topic.subscribe()
    await journal.start()
    try:
        published = await subscription.next(timeout=10)  # published once stored
        assert isinstance(published, Change) and len(published.current) == 5
        found = journal_db.read_now(lambda s: store.find_entries(s, LogFilter(), limit=10))
        assert [e.message for e in found] == [f"early {i}" for i in reversed(range(5))]
        assert found[0].id > found[-1].id > 0
    finally:
        await journal.stop()
        journal_db.close()


def test_the_scrubber_masks_every_known_value_and_bearer_shapes() -> None:
    scrubber = SecretScrubber()
    scrubber.add("abcdef", "abcdefgh", "zz", None, "")
    scrubber.add("tail-of-abc")
    text = (
        "k=abcdefgh; k2=abcdef-x; short zz stays; tail-of-abcdef; "
        "Authorization: Bearer someopaque.value, token cts_abcdefghijklmnopqrstuvwxyz"
    )
    assert scrubber.scrub(text) == (
        "k=****; k2=****-x; short zz stays; ****; "  # overlapping finds are masked together
        "Authorization: Bearer ****, token ****"
    )


def test_the_scrubber_finds_values_before_and_after_its_automaton_is_rebuilt() -> None:
    scrubber = SecretScrubber()
    values = [f"secret-{i:04d}-{'x' * (i % 7)}q" for i in range(REBUILD_AFTER * 3 + 5)]
    for value in values:  # one at a time: some in the automaton, the newest still pending
        scrubber.add(value)
    for value in values:
        assert scrubber.scrub(f"[{value}] and again {value}.") == "[****] and again ****."
    assert scrubber.scrub("nothing secret here") == "nothing secret here"


async def test_a_page_or_count_sees_everything_logged_before_it(journal_db: Database) -> None:
    capture = LogCapture(capacity=100)
    journal = a_journal(journal_db, capture)
    await journal.start()
    try:
        # One batch taken by a flush still being written, then lines not yet taken at all.
        for i in range(3):
            capture.offer(entry(Level.ERROR, f"in flight {i}"))
        in_flight = asyncio.create_task(journal.flush())
        await asyncio.sleep(0)  # it has drained the buffer and waits on its write
        assert capture.pending() == 0 and not in_flight.done()
        for i in range(2):
            capture.offer(entry(Level.ERROR, f"buffered {i}"))
        found, _ = await journal.page(LogFilter(min_level=Level.ERROR), 50, "")
        assert [e.message for e in found] == [
            "buffered 1",
            "buffered 0",
            "in flight 2",
            "in flight 1",
            "in flight 0",
        ]
        capture.offer(entry(Level.ERROR, "counted"))
        assert await journal.count(LogFilter(min_level=Level.ERROR)) == 6
        await in_flight
    finally:
        await journal.stop()
        journal_db.close()
