"""The log as a service: entries flushed to storage in batches, listed, streamed, written.

**Flushing.** :class:`~server.monitoring.logs.capture.LogCapture` buffers entries from any
thread; the journal's flush task drains the buffer in batches, numbers the entries (ids grow
across restarts: they start above both the stored maximum and the start time in microseconds),
writes each batch on its own storage thread (never on the event loop) and then publishes it.
A batch is published only after it is stored, so a stream that subscribes first and then reads
storage misses nothing (it skips what it already sent by id).

A page or a count settles first (:meth:`LogJournal.settle`): it sees every entry logged
before it was asked, so a client that reads a test's log the moment the test returns finds
its lines.

**Retention.** Entries older than ``retention_days`` and beyond the newest ``max_entries`` are
deleted in the background, in chunks, at start and every ``prune_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlmodel import Session

from server.errors import InvalidArgument
from server.monitoring.logs import store
from server.monitoring.logs.capture import LogCapture
from server.monitoring.logs.entry import Category, Level, LogEntry
from server.monitoring.logs.query import decode_page_token, encode_page_token
from server.monitoring.logs.scrub import scrub
from server.monitoring.logs.store import LogFilter
from server.storage.database import Database
from server.streams.topic import Closed, Overflow, Topic
from server.tasks import cancel_and_wait

log = logging.getLogger("cts.logs")

T = TypeVar("T")
BATCH = 5000  # entries per storage write
CATCH_UP = 10_000  # entries a resumed or resynced stream is sent from storage, at most
DEFAULT_TAIL = 100
MAX_TAIL = 1000


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Entries in id order: what a stream sends in one message."""

    entries: tuple[LogEntry, ...]
    # Set when a resumed stream missed more than it can be sent: older entries were skipped.
    skipped: bool = False
    # What the stream has sent up to (the id to resume after).
    last_id: int = 0


@dataclass(frozen=True, slots=True)
class LogHeartbeat:
    last_id: int


class LogJournal:
    def __init__(
        self,
        db: Database,
        capture: LogCapture,
        topic: Topic[tuple[LogEntry, ...]],
        *,
        retention_days: float,
        max_entries: int,
        heartbeat_seconds: float,
        prune_seconds: float = 600.0,
    ) -> None:
        self._db = db
        self.capture = capture
        self.topic = topic
        self._retention = timedelta(days=retention_days)
        self._max_entries = max_entries
        self._heartbeat = heartbeat_seconds
        self._prune_seconds = prune_seconds
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cts-log-writer")
        self._wakeup = asyncio.Event()
        self._order = asyncio.Lock()  # numbering, storing and publishing happen in one order
        self._next_id = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.stored = 0
        self.write_failures = 0
        # Entries per level per minute over the last hour (minute → level → count).
        self._minutes: dict[int, Counter[str]] = {}

    # -- life ---------------------------------------------------------------------------------

    async def start(self) -> None:
        stored_max = await self._run(store.max_id)
        self._next_id = max(stored_max + 1, time.time_ns() // 1000)
        await self._count_stored_hour()
        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing left to flush
                loop.call_soon_threadsafe(self._wakeup.set)

        self.capture.wake = wake
        self._tasks = [
            asyncio.create_task(self._flush_forever(), name="log-flush"),
            asyncio.create_task(self._prune_forever(), name="log-prune"),
        ]
        if self.capture.pending():
            self._wakeup.set()

    async def stop(self) -> None:
        """Flush what is buffered, then stop the background work."""
        await cancel_and_wait(self._tasks)
        self.capture.wake = lambda: None
        await self.flush()
        self._writer.shutdown(wait=True)

    # -- flushing -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Store and publish everything buffered now."""
        while batch := self.capture.drain(BATCH):
            await self._commit(batch)

    async def settle(self) -> None:
        """Returns once everything logged before the call is stored (or its write failed, and
        is counted): what is buffered, and what another flush took from the buffer and is
        still writing."""
        await self._flush_counting_failures()
        async with self._order:  # a batch drained elsewhere is written under it, or queued
            pass

    async def _flush_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush_counting_failures()

    async def _flush_counting_failures(self) -> None:
        try:
            await self.flush()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not logged through logging: that would feed the failure back into the log.
            self.write_failures += 1

    async def _commit(self, entries: list[LogEntry]) -> tuple[LogEntry, ...]:
        async with self._order:
            first = self._next_id
            self._next_id += len(entries)
            numbered = tuple(replace(e, id=first + i) for i, e in enumerate(entries))
            await self._run(lambda s: store.insert_entries(s, numbered), write=True)
            self.stored += len(numbered)
            for entry in numbered:
                minute = int(entry.time.timestamp() // 60)
                self._minutes.setdefault(minute, Counter())[entry.level.word] += 1
            self.topic.publish("log", numbered)
            return numbered

    async def _run(self, work: Callable[[Session], T], *, write: bool = False) -> T:
        runner = self._db.write_now if write else self._db.read_now
        return await asyncio.get_running_loop().run_in_executor(self._writer, runner, work)

    # -- retention ----------------------------------------------------------------------------

    async def prune(self) -> int:
        """Apply retention now; the number of entries deleted."""
        older_than = datetime.now(UTC) - self._retention
        cutoff = await self._run(lambda s: store.prune_cutoff(s, older_than, self._max_entries))
        deleted = 0
        while cutoff:
            removed = await self._run(lambda s: store.delete_through(s, cutoff), write=True)
            deleted += removed
            if removed < store.PRUNE_CHUNK:
                break
        return deleted

    async def _prune_forever(self) -> None:
        while True:
            try:
                deleted = await self.prune()
                if deleted:
                    log.info("log retention removed %d entries", deleted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("log retention failed; trying again later")
            await asyncio.sleep(self._prune_seconds)

    # -- reading ------------------------------------------------------------------------------

    async def page(
        self, where: LogFilter, page_size: int, page_token: str, *, settle: bool = True
    ) -> tuple[list[LogEntry], str]:
        """Matching entries newest first, one page, and the next page's token ("" at the end).
        Everything logged before the call is in it (a test's lines, read the moment it ends);
        ``settle=False``: what is stored now (a glance at recent errors need not wait for a
        batch being written)."""
        before = decode_page_token(page_token, where)
        if settle:
            await self.settle()
        found = await self._db.read(
            lambda s: store.find_entries(s, where, limit=page_size + 1, before_id=before)
        )
        page = found[:page_size]
        token = encode_page_token(where, page[-1].id) if len(found) > page_size else ""
        return page, token

    async def stream(
        self, where: LogFilter, *, tail: int, after_id: int = 0
    ) -> AsyncIterator[LogBatch | LogHeartbeat]:
        """The last ``tail`` matching entries (or, resuming, those after ``after_id``) — one
        message, sent even when there are none — then every new matching entry as it is stored;
        heartbeats while idle; ends when the server stops. ``tail`` 0 means :data:`DEFAULT_TAIL`."""
        if tail < 0:
            raise InvalidArgument.field("tail", "must not be negative")
        if after_id < 0:
            raise InvalidArgument.field("resume_after_id", "must not be negative")
        tail = min(tail or DEFAULT_TAIL, MAX_TAIL)
        subscription, _ = self.topic.subscribe()
        try:
            last = after_id
            if after_id:
                batch = await self._since(where, after_id)
            else:
                newest = await self._db.read(lambda s: store.find_entries(s, where, limit=tail))
                batch = LogBatch(tuple(reversed(newest)))
            last = max(last, batch.entries[-1].id if batch.entries else 0)
            yield replace(batch, last_id=last)  # even when empty: the stream is open
            while True:
                item = await subscription.next(timeout=self._heartbeat)
                if item is None:
                    yield LogHeartbeat(last)
                elif isinstance(item, Closed):
                    return
                elif isinstance(item, Overflow):
                    subscription.restart(self.topic.revision)
                    batch = await self._since(where, last)
                    if batch.entries or batch.skipped:
                        last = batch.entries[-1].id if batch.entries else last
                        yield replace(batch, last_id=last)
                else:
                    fresh = tuple(e for e in item.current if e.id > last and where.matches(e))
                    if fresh:
                        last = fresh[-1].id
                        yield LogBatch(fresh, last_id=last)
        finally:
            subscription.close()

    async def _since(self, where: LogFilter, after_id: int) -> LogBatch:
        """What a stream missed after ``after_id``: at most :data:`CATCH_UP` entries, the
        newest ones when more were missed (marked ``skipped``)."""
        found = await self._db.read(
            lambda s: store.find_entries(
                s, where, limit=CATCH_UP + 1, after_id=after_id, newest_first=True
            )
        )
        skipped = len(found) > CATCH_UP
        return LogBatch(tuple(reversed(found[:CATCH_UP])), skipped=skipped)

    async def count(self, where: LogFilter) -> int:
        """How many entries logged before the call match."""
        await self.settle()
        return await self._db.read(lambda s: store.count_entries(s, where))

    def counts_last_hour(self) -> dict[str, int]:
        """Entries stored per level over the last 60 minutes (by whole minutes)."""
        oldest = int(time.time() // 60) - 59
        for minute in [m for m in self._minutes if m < oldest]:
            del self._minutes[minute]
        total: Counter[str] = Counter({level.word: 0 for level in Level})
        for counts in self._minutes.values():
            total.update(counts)
        return dict(total)

    async def _count_stored_hour(self) -> None:
        """Entries stored before this start, in ten-minute slices of the last hour."""
        now = int(time.time() // 60)
        for start in range(now - 59, now + 1, 10):
            since = datetime.fromtimestamp(start * 60, UTC)
            until = datetime.fromtimestamp((start + 10) * 60, UTC)
            counts = await self._run(partial(store.counts_by_level, since=since, until=until))
            bucket = self._minutes.setdefault(min(start + 9, now), Counter())
            bucket.update({level: n for level, n in counts.items() if n})

    # -- writing ------------------------------------------------------------------------------

    async def write(
        self,
        *,
        level: Level,
        category: Category,
        message: str,
        connection_id: str | None,
        context: Mapping[str, str],
        writer: str,
    ) -> LogEntry:
        """A client's entry, stored and published before this returns (never dropped).
        Known secrets are masked in it like in every other entry."""
        entry = LogEntry(
            time=datetime.now(UTC),
            level=level,
            category=category,
            message=scrub(message),
            logger=f"client:{writer}"[:64],
            connection_id=connection_id,
            context={key: scrub(value) for key, value in context.items()},
        )
        self.capture.count_written(level)
        (stored,) = await self._commit([entry])
        return stored

    def counts(self) -> tuple[dict[str, int], int]:
        """Entries accepted per level, and entries dropped under overload, since start."""
        emitted = {level.word: self.capture.emitted[level.word] for level in Level}
        return emitted, sum(self.capture.dropped.values())
