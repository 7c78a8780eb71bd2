"""Log entries as lines, newest first: time (UTC, to the millisecond), level, category,
connection, and the message with its context values. A failure's stack trace opens under its
line on "Stack trace" (made only when first opened).

At most ``limit`` lines are kept: newer ones push the oldest out at the bottom, and
:meth:`LogView.add_newer` says when that happened (the page then reads older pages afresh).
Entries are shown as the server stored them: it masks every secret before an entry exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from cts.monitoring.v1 import monitoring_pb2 as pb
from google.protobuf import timestamp_pb2
from nicegui import ui

from webui import theme

NameOf = Callable[[str], str]
COLUMNS = "grid-template-columns: 12rem 4.5rem 5.5rem minmax(6rem, 12rem) minmax(0, 1fr)"
HEADINGS = ("Time (UTC)", "Level", "Category", "Connection", "Message")
LEVEL_WEIGHTS = {"warning": "font-medium", "error": "font-semibold"}


def level_classes(level: str) -> str:
    """A level's word in its tone (:data:`webui.theme.LOG_LEVELS`), the worse ones heavier."""
    return f"{theme.text(theme.tone(theme.LOG_LEVELS, level))} {LEVEL_WEIGHTS.get(level, '')}"


def entry_time(stamp: timestamp_pb2.Timestamp) -> str:
    """``2026-01-02 03:04:05.123``: UTC (the column's heading says so), to the millisecond."""
    when: datetime = stamp.ToDatetime(tzinfo=UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def context_text(entry: pb.LogEntry) -> str:
    """``order=abc · symbol=BTC/USDT``: the entry's context values, by key."""
    return " · ".join(f"{key}={value}" for key, value in sorted(entry.context.items()))


class LogLine:
    def __init__(self, entry: pb.LogEntry, connection: str) -> None:
        self.entry = entry
        self._stack: ui.label | None = None
        with (
            ui.element("div")
            .classes("contents")
            .mark(f"log-entry log-entry-{entry.id} log-{entry.level}") as self.row
        ):
            ui.label(entry_time(entry.time)).classes(
                "font-mono text-xs text-gray-600 whitespace-nowrap"
            )
            ui.label(entry.level).classes(level_classes(entry.level)).mark("log-level")
            ui.label(entry.category).mark("log-category")
            ui.label(connection or "—").classes("truncate").mark("log-connection")
            context = context_text(entry)
            if not context and not entry.stack:
                self._message()
                return
            with ui.column().classes("gap-0 min-w-0"):
                self._message()
                if context:
                    ui.label(context).classes("text-xs text-gray-500 break-words").mark(
                        "log-context"
                    )
                if entry.stack:
                    self.toggle = (
                        ui.button("Stack trace", icon="expand_more", on_click=self.toggle_stack)
                        .props("flat dense no-caps size=sm color=neutral")
                        .classes("self-start")
                        .mark("log-stack-toggle")
                    )

    def _message(self) -> None:
        ui.label(self.entry.message).classes("break-words min-w-0").mark("log-message")

    def toggle_stack(self) -> None:
        if self._stack is None:
            with self.row:
                self._stack = (
                    ui.label(self.entry.stack)
                    .classes(
                        "col-span-full whitespace-pre overflow-x-auto font-mono text-xs "
                        "bg-slate-900 text-slate-100 p-2 rounded"
                    )
                    .mark("log-stack")
                )
        else:
            self._stack.set_visibility(not self._stack.visible)
        opened = self._stack.visible
        self.toggle.set_text("Hide stack trace" if opened else "Stack trace")
        self.toggle.props(f"icon={'expand_less' if opened else 'expand_more'}")

    def delete(self) -> None:
        self.row.delete()


class LogView:
    def __init__(self, name_of: NameOf, *, limit: int, empty: str = "No entries") -> None:
        self._name_of = name_of
        self.limit = limit
        self.lines: list[LogLine] = []  # newest first, as shown
        # A phone scrolls the lines sideways in their own box, not the page.
        with (
            ui.element("div").classes("w-full overflow-x-auto"),
            ui.column().classes("w-full min-w-[40rem] gap-1").mark("log-view"),
        ):
            with ui.grid().classes("w-full gap-x-3 text-xs uppercase text-gray-500").style(COLUMNS):
                for heading in HEADINGS:
                    ui.label(heading)
            self.grid = (
                ui.grid()
                .classes("w-full gap-x-3 gap-y-1 text-sm items-baseline")
                .style(COLUMNS)
                .mark("log-lines")
            )
            self.empty = ui.label(empty).classes("text-sm text-gray-500").mark("log-empty")

    @property
    def oldest_id(self) -> int:
        return self.lines[-1].entry.id if self.lines else 0

    def show(self, entries: Iterable[pb.LogEntry], *, empty: str | None = None) -> None:
        """Replace every line (``entries`` newest first); ``empty`` says why there are none."""
        for line in self.lines:
            line.delete()
        self.lines = []
        if empty is not None:
            self.empty.set_text(empty)
        self.add_older(entries)

    def add_newer(self, entries: Sequence[pb.LogEntry]) -> bool:
        """Put ``entries`` (oldest first) on top; True when older lines had to go."""
        dropped = len(entries) > self.limit
        for entry in entries[-self.limit :]:
            line = self._line(entry)
            line.row.move(self.grid, target_index=0)
            self.lines.insert(0, line)
        while len(self.lines) > self.limit:
            self.lines.pop().delete()
            dropped = True
        self._show_empty()
        return dropped

    def add_older(self, entries: Iterable[pb.LogEntry]) -> None:
        """Put ``entries`` (newest first) at the bottom."""
        for entry in entries:
            self.lines.append(self._line(entry))
        self._show_empty()

    def _line(self, entry: pb.LogEntry) -> LogLine:
        with self.grid:
            return LogLine(entry, self._name_of(entry.connection_id))

    def _show_empty(self) -> None:
        self.empty.set_visibility(not self.lines)
