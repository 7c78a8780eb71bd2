"""The Monitoring page: the system status, every connection's health score with its
components and rate-limit usage, the start-up checks, and the recent errors.

Everything but the checks is kept live by streams; nothing polls:
- the system status stream (shared by the token's pages): counts, engines, health bands, rate
  limits per exchange, activity;
- the connection stream (shared likewise): each connection's health, its score and rate usage.
  Hundreds of connections may change at once, so the score table is redrawn at most once per
  :data:`REFRESH_SECONDS`, after the burst;
- this page's own log tail of error entries (the newest :data:`RECENT_ERRORS`, then each new
  one), closed with the page.

The start-up checks run when the page opens and on "Run checks": an action, not a poll.
"""

from __future__ import annotations

from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import background_tasks, ui

from webui.backend import Backend
from webui.coalesce import Coalesced
from webui.components.log_view import LogView
from webui.components.score_table import ScoreTable
from webui.components.startup_checks import StartupChecksPanel
from webui.components.system_status import SystemStatusPanel
from webui.feeds import Feeds
from webui.frame import frame, signed_in, use
from webui.log_feed import LogArrival, LogFilters, LogTail

RECENT_ERRORS = 20
REFRESH_SECONDS = 0.25


def register(backend: Backend, feeds: Feeds) -> None:
    @ui.page("/monitoring")
    def monitoring_page() -> None:
        token = signed_in()
        if token is None:
            return
        client = ui.context.client
        status_feed = feeds.status(token)
        connection_feed = feeds.connections(token)
        use(status_feed, connection_feed)
        errors = LogTail(backend, token, LogFilters(level="error"), tail=RECENT_ERRORS)

        def name_of(connection_id: str) -> str:
            connection = connection_feed.connections.get(connection_id)
            return connection.name if connection is not None else connection_id

        async def verify() -> pb.StartupReport:
            report: pb.StartupReport = await backend.call(
                backend.monitoring.VerifyStartup, pb.VerifyStartupRequest(), token
            )
            return report

        def show_scores() -> None:
            if not client.is_deleted:
                scores.show(connection_feed.connections.values())

        def on_errors(arrival: LogArrival) -> None:
            recent.add_newer(arrival.entries)

        redraw_scores = Coalesced(REFRESH_SECONDS, show_scores)
        with frame("Monitoring", [status_feed, connection_feed, errors]):
            system = SystemStatusPanel()
            scores = ScoreTable()
            checks = StartupChecksPanel(verify)
            with ui.card().classes("w-full gap-2").mark("recent-errors"):
                with ui.row().classes("w-full items-center"):
                    ui.label("Recent errors").classes("text-lg font-semibold")
                    ui.space()
                    ui.link("All errors in Logs", "/logs?level=error").classes("text-primary").mark(
                        "all-errors"
                    )
                recent = LogView(name_of, limit=RECENT_ERRORS, empty="No errors logged")
        system.show(status_feed.status)
        scores.show(connection_feed.connections.values())
        status_feed.updated.subscribe(lambda: system.show(status_feed.status))
        connection_feed.updated.subscribe(redraw_scores.soon)
        errors.arrived.subscribe(on_errors)
        errors.start()
        client.on_delete(errors.stop)
        client.on_delete(redraw_scores.cancel)
        background_tasks.create(checks.run(), name="startup-checks")
