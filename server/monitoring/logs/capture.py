"""The logging handler that turns records into entries without ever blocking the caller.

Records from any thread become :class:`~server.monitoring.logs.entry.LogEntry` values in a
bounded buffer that the journal drains. When the buffer is full the handler drops debug
entries first (the oldest buffered debug entry makes room for a more important one) and counts
every entry it drops, per level; it never waits.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime

from server.monitoring.logs import about
from server.monitoring.logs.entry import Category, Level, LogEntry, category_of_logger
from server.monitoring.logs.scrub import scrub

MAX_CONTEXT_VALUE = 1024


def entry_of(record: logging.LogRecord) -> LogEntry:
    """The entry for a record (already scrubbed by the record factory; context values are
    scrubbed here)."""
    category = getattr(record, about.CATEGORY, None)
    if not isinstance(category, Category):
        category = category_of_logger(record.name)
    subject = getattr(record, about.CONNECTION, None) or about.connection_scope.get()
    raw_context = getattr(record, about.CONTEXT, None)
    context: dict[str, str] = (
        {k: scrub(v[:MAX_CONTEXT_VALUE]) for k, v in raw_context.items()}
        if isinstance(raw_context, dict)
        else {}
    )
    connection_id = _connection_id(subject)
    if subject and connection_id is None:  # not a connection (a shared feed, say): context
        context["subject"] = scrub(str(subject)[:MAX_CONTEXT_VALUE])
    stack = record.exc_text or None
    if record.stack_info:
        stack = f"{stack}\n{record.stack_info}" if stack else record.stack_info
    return LogEntry(
        time=datetime.fromtimestamp(record.created, UTC),
        level=Level.of_record(record.levelno),
        category=category,
        message=record.getMessage(),
        logger=record.name[:64],
        connection_id=connection_id,
        stack=stack,
        context=context,
    )


def _connection_id(subject: object) -> str | None:
    if not subject:
        return None
    try:
        return str(uuid.UUID(str(subject)))
    except ValueError:
        return None


class LogCapture(logging.Handler):
    """Buffers entries for the journal; ``wake`` is called when the buffer stops being empty."""

    def __init__(self, capacity: int, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.capacity = capacity
        self._lock_ = threading.Lock()
        self._entries: deque[LogEntry] = deque()
        self._debug: deque[LogEntry] = deque()  # debug entries, kept apart so they go first
        self.emitted: Counter[str] = Counter()  # entries accepted, per level word
        self.dropped: Counter[str] = Counter()  # entries dropped under overload, per level word
        self.wake: Callable[[], None] = lambda: None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = entry_of(record)
        except Exception:
            self.handleError(record)
            return
        self.offer(entry)

    def offer(self, entry: LogEntry) -> bool:
        """Buffer ``entry``; False when it was dropped."""
        with self._lock_:
            was_empty = not self._entries and not self._debug
            if len(self._entries) + len(self._debug) >= self.capacity:
                if entry.level is Level.DEBUG or not self._debug:
                    self.dropped[entry.level.word] += 1
                    return False
                self._debug.popleft()
                self.dropped[Level.DEBUG.word] += 1
            (self._debug if entry.level is Level.DEBUG else self._entries).append(entry)
            self.emitted[entry.level.word] += 1
        if was_empty:
            self.wake()
        return True

    def count_written(self, level: Level) -> None:
        """Counts an entry written past the buffer (a client's, stored at once)."""
        with self._lock_:
            self.emitted[level.word] += 1

    def drain(self, limit: int) -> list[LogEntry]:
        """Up to ``limit`` buffered entries, in time order."""
        with self._lock_:
            taken: list[LogEntry] = []
            while len(taken) < limit and (self._entries or self._debug):
                if not self._debug or (
                    self._entries and self._entries[0].time <= self._debug[0].time
                ):
                    taken.append(self._entries.popleft())
                else:
                    taken.append(self._debug.popleft())
            return taken

    def pending(self) -> int:
        with self._lock_:
            return len(self._entries) + len(self._debug)
