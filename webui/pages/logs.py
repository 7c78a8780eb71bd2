"""The Logs page: the server's log, newest first, followed live, narrowed by level, category,
connection and a part of the message. ``/logs?connection=<id>`` (a connection card's "Logs")
opens it on one connection; ``?level=error`` on the errors.

Whenever the filters change, the page reads the newest page (``ListLogs``) and then follows
the entries after it (its own :class:`~webui.log_feed.LogTail`, closed with the page). Pause
stops the tail; Resume starts it again after the last entry seen, so the entries written
meanwhile arrive at once. "Older entries" pages back through ``ListLogs``. At most
:data:`SHOWN` entries are kept on screen: a flood of new ones pushes the oldest out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import background_tasks, ui

from webui.backend import Backend, BackendError
from webui.choices import LOG_CATEGORIES, LOG_LEVELS
from webui.coalesce import Coalesced
from webui.components.log_view import LogView
from webui.feeds import Feeds
from webui.frame import frame, signed_in, token_rejected, use
from webui.log_feed import LogArrival, LogFilters, LogPages, LogTail

SHOWN = 500
REFRESH_SECONDS = 0.1
ANY = ""


@dataclass
class TailState:
    paused: bool = False
    loading: bool = False  # the newest page is being read
    stopped: str = ""  # why the log cannot be followed (the server refused the filters)


def register(backend: Backend, feeds: Feeds) -> None:
    @ui.page("/logs")
    def logs_page(connection: str = ANY, level: str = ANY) -> None:
        token = signed_in()
        if token is None:
            return
        client = ui.context.client
        connection_feed = feeds.connections(token)
        use(connection_feed)
        filters = LogFilters(level=level if level in LOG_LEVELS else ANY, connection_id=connection)
        tail = LogTail(backend, token, filters)
        pages = LogPages(backend, token, filters)
        pending: list[pb.LogEntry] = []  # arrived, not drawn yet
        state = TailState()
        loads = 0  # the newest load wins when filters change quickly

        def name_of(connection_id: str) -> str:
            known = connection_feed.connections.get(connection_id)
            return known.name if known is not None else connection_id

        async def load() -> None:
            """The newest page for the filters, then the live entries after it."""
            nonlocal loads, pages
            loads += 1
            mine = loads
            tail.stop()
            pending.clear()
            draw.cancel()
            state.loading, state.stopped = True, ""
            view.show([], empty="Loading…")
            show_state()
            reader = LogPages(backend, token, filters)
            try:
                newest = await reader.first()
            except BackendError as error:
                if mine == loads:
                    state.loading, state.stopped = False, error.message
                    view.show([], empty="The log could not be read")
                    show_state()
                return
            if mine != loads:
                return
            pages = reader
            state.loading = False
            view.show(newest, empty="No entries match")
            tail.follow(reader.filters, newest[0].id if newest else 0)
            if not state.paused:
                tail.start()
            show_state()

        def refilter(**changes: str) -> None:
            nonlocal filters
            wanted = replace(filters, **changes)
            if wanted != filters:
                filters = wanted
                background_tasks.create(load(), name="log-load")

        def on_arrival(arrival: LogArrival) -> None:
            pending.extend(arrival.entries)
            if arrival.skipped:
                ui.notify(
                    "More entries were written than a resumed tail is sent: the oldest of them "
                    "are under “Older entries”.",
                    type="info",
                )
            draw.soon()

        def drawn() -> None:
            if client.is_deleted or not pending:
                return
            if view.add_newer(pending):
                pages.lost_place()
            pending.clear()
            show_state()

        async def older() -> None:
            mine = loads
            older_button.props("loading")
            try:
                found = await pages.older(view.oldest_id)
                if mine == loads:  # the filters did not change meanwhile
                    view.add_older(found)
            except BackendError as error:
                ui.notify(error.message, type="negative", multi_line=True)
            finally:
                older_button.props(remove="loading")
            show_state()

        def toggle_pause() -> None:
            state.paused = not state.paused
            if state.paused:
                tail.stop()
            elif not state.loading:
                tail.start()
            show_state()

        def on_refused(error: BackendError) -> None:
            state.stopped = error.message
            show_state()

        def show_state() -> None:
            paused = state.paused
            pause_button.set_text("Resume" if paused else "Pause")
            pause_button.props(f"icon={'play_arrow' if paused else 'pause'}")
            if state.stopped:
                said = f"Stopped: {state.stopped}"
            elif paused:
                said = "Paused: new entries are not shown; Resume catches up"
            elif state.loading:
                said = "Loading…"
            else:
                said = "Following new entries live" if tail.live else "Connecting…"
            tail_state.set_text(said)
            count = len(view.lines)
            shown.set_visibility(not state.loading)
            shown.set_text(f"{count} {'entry' if count == 1 else 'entries'} shown, newest first")
            older_button.set_visibility(pages.more and not state.loading and bool(view.lines))

        def show_connections() -> None:
            wanted = {ANY: "All connections"}
            wanted.update({c.id: c.name for c in connection_feed.ordered()})
            if filters.connection_id and filters.connection_id not in wanted:
                wanted[filters.connection_id] = filters.connection_id  # until the stream names it
            if wanted != chooser.options:
                chooser.set_options(wanted, value=filters.connection_id)

        draw = Coalesced(REFRESH_SECONDS, drawn)
        with frame("Logs", [connection_feed]):
            with ui.row().classes("w-full items-end gap-3"):
                ui.select(
                    LOG_LEVELS,
                    value=filters.level,
                    label="Level",
                    on_change=lambda e: refilter(level=e.value or ANY),
                ).classes("w-44").mark("log-filter-level")
                ui.select(
                    LOG_CATEGORIES,
                    value=ANY,
                    label="Category",
                    on_change=lambda e: refilter(category=e.value or ANY),
                ).classes("w-40").mark("log-filter-category")
                chooser = (
                    ui.select(
                        {ANY: "All connections"},
                        value=ANY,
                        label="Connection",
                        with_input=True,
                        on_change=lambda e: refilter(connection_id=e.value or ANY),
                    )
                    .classes("w-64")
                    .mark("log-filter-connection")
                )
                message_filter = (
                    ui.input("Message contains", placeholder="Enter to apply")
                    .props("clearable maxlength=200")
                    .classes("w-64")
                    .mark("log-filter-text")
                )
                ui.space()
                pause_button = ui.button("Pause", icon="pause", on_click=toggle_pause).mark(
                    "log-pause"
                )
            with ui.row().classes("w-full items-center gap-4 text-sm text-gray-600"):
                tail_state = ui.label().mark("log-tail-state")
                shown = ui.label().mark("log-shown")
            view = LogView(name_of, limit=SHOWN, empty="Loading…")
            older_button = (
                ui.button("Older entries", icon="history", on_click=older)
                .props("flat")
                .mark("log-older")
            )

        def apply_text() -> None:
            refilter(text=message_filter.value or "")

        for event in ("keydown.enter", "blur", "clear"):
            message_filter.on(event, apply_text)
        show_connections()
        connection_feed.updated.subscribe(show_connections)
        tail.arrived.subscribe(on_arrival)
        tail.live_changed.subscribe(show_state)
        tail.refused.subscribe(on_refused)
        tail.rejected.subscribe(token_rejected)
        client.on_delete(tail.stop)
        client.on_delete(draw.cancel)
        show_state()
        background_tasks.create(load(), name="log-load")
