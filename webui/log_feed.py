"""The server's log as a page reads it: a live tail from ``StreamLogs`` and older pages from
``ListLogs``, both with the page's filters.

A :class:`LogTail` belongs to the page that shows it, not to the token: its filters are that
page's. The page starts it when it opens, stops it on Pause and when it goes away (the stream
is cancelled, the server drops its subscriber), and starts it again on Resume: it then asks for
the entries after the last one it saw (``resume_after_id``), so a paused page catches up with
everything it missed, as does a page whose stream broke. Nothing here polls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import Event

from webui.backend import Backend, auth_metadata
from webui.feeds import StreamFeed

PAGE_SIZE = 100  # entries per page of older entries (the server's default)
SCAN_PAGE_SIZE = 1000  # the server's largest page: for reading down to where a page was


@dataclass(frozen=True, slots=True)
class LogFilters:
    """What a page narrows the log to; an empty field does not narrow."""

    level: str = ""  # the minimum level: debug, info, warning, error
    category: str = ""
    connection_id: str = ""
    text: str = ""  # a part of the message, any case

    def list_request(self, page_size: int, page_token: str = "") -> pb.ListLogsRequest:
        return pb.ListLogsRequest(**asdict(self), page_size=page_size, page_token=page_token)

    def stream_request(self, tail: int, resume_after_id: int) -> pb.StreamLogsRequest:
        return pb.StreamLogsRequest(**asdict(self), tail=tail, resume_after_id=resume_after_id)


@dataclass(frozen=True, slots=True)
class LogArrival:
    """New entries, oldest first. ``skipped``: the server skipped older missed entries (more
    were missed than a resumed stream is sent)."""

    entries: tuple[pb.LogEntry, ...]
    skipped: bool = False


class LogTail(StreamFeed):
    """New entries matching ``filters`` as the server stores them, from ``StreamLogs``.

    Opened with ``after_id`` 0, the stream first sends the newest ``tail`` matching entries (the
    server's default when 0); with an id, the entries after it. Each later message continues
    from the last entry seen. :meth:`follow` switches to other filters.
    """

    name = "log-tail"

    def __init__(self, backend: Backend, token: str, filters: LogFilters, *, tail: int = 0) -> None:
        super().__init__(backend, token)
        self.filters = filters
        self.last_id = 0
        self._tail = tail
        self.arrived: Event[LogArrival] = Event()

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if not self.running:
            self.attach()

    def stop(self) -> None:
        if self.running:
            self.detach()

    def follow(self, filters: LogFilters, after_id: int) -> None:
        """From now on, the entries after ``after_id`` that match ``filters`` (a running tail
        starts over at once)."""
        self.filters = filters
        self.last_id = after_id
        if self.running:
            self.stop()
            self.start()

    def _watch(self) -> AsyncIterator[pb.StreamLogsResponse]:
        # The server sends nothing until an entry matches (or a heartbeat, after a while), so
        # the tail counts as live once its stream is open on a connected channel; it fails at
        # once when the channel is not (no wait for ready), and is opened again.
        call: AsyncIterator[pb.StreamLogsResponse] = self._backend.monitoring.StreamLogs(
            self.filters.stream_request(self._tail, self.last_id),
            metadata=auth_metadata(self._token),
        )
        if self._backend.connected():
            self._set_live(True)
        return call

    def _apply(self, message: pb.StreamLogsResponse) -> None:
        fresh = tuple(e for e in message.entries if e.id > self.last_id)
        self.last_id = max(self.last_id, message.last_id, *(e.id for e in fresh))
        if fresh or message.skipped:
            self.arrived.emit(LogArrival(fresh, message.skipped))


class LogPages:
    """The entries matching ``filters``, a page at a time, from ``ListLogs`` (newest first).

    :meth:`first` reads the newest page and remembers where the next one starts. When the page
    drops entries from the bottom of what it shows (it keeps a bounded number), it calls
    :meth:`lost_place`: the next :meth:`older` then reads from the newest page again and keeps
    only the entries below the oldest one shown.
    """

    def __init__(
        self, backend: Backend, token: str, filters: LogFilters, page_size: int = PAGE_SIZE
    ) -> None:
        self._backend = backend
        self._token = token
        self.filters = filters
        self._page_size = page_size
        # The next page's token; "" when there is none; None to read from the newest again.
        self._cursor: str | None = ""

    @property
    def more(self) -> bool:
        return self._cursor != ""

    def lost_place(self) -> None:
        self._cursor = None

    async def first(self) -> list[pb.LogEntry]:
        """The newest page; :class:`~webui.backend.BackendError` when the server refuses the
        filters."""
        self._cursor = None
        return await self._read()

    async def older(self, below_id: int) -> list[pb.LogEntry]:
        """At least a page of the entries older than ``below_id`` (fewer at the end)."""
        found: list[pb.LogEntry] = []
        rescan = self._cursor is None  # read down past the newer entries in large pages
        while len(found) < self._page_size and self.more:
            size = SCAN_PAGE_SIZE if rescan and not found else self._page_size
            found += [e for e in await self._read(size) if e.id < below_id]
        return found

    async def _read(self, size: int = 0) -> list[pb.LogEntry]:
        request = self.filters.list_request(size or self._page_size, self._cursor or "")
        listed: pb.ListLogsResponse = await self._backend.call(
            self._backend.monitoring.ListLogs, request, self._token
        )
        self._cursor = listed.next_page_token
        return list(listed.entries)
