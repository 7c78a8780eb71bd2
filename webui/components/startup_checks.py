"""The start-up checks (as ``cts verify``, with the running server's state): each check's status
in words (pass, warn, fail; skipped ones with the reason), what it found and how long it took,
the worst status over all, and a "Run checks" button.

Running the checks is an action: the page runs them once when it opens and again on the button,
never on a timer. :meth:`StartupChecksPanel.run` makes the call itself (its failure is shown in
the panel), so it needs no page context and may run as a background task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import ui

from webui import theme
from webui.backend import BackendError
from webui.components.data_table import DataTable, column
from webui.components.status import duration, moment, words

Verify = Callable[[], Awaitable[pb.StartupReport]]
COLUMNS = [
    column("status", "Status"),
    column("name", "Check", nowrap=True),
    column("detail", "What it found", min_rem=14),
    column("duration", "Time", align="right", nowrap=True),
]
STATUS_WEIGHTS = {"pass": "font-medium", "warn": "font-medium", "fail": "font-semibold"}
STATUS_CLASSES = {
    status: f"{theme.text(tone)} {STATUS_WEIGHTS.get(status, '')}".strip()
    for status, tone in theme.CHECKS.items()
}


def check_rows(report: pb.StartupReport) -> list[dict[str, Any]]:
    """One row per check, in the server's order, then the skipped ones with their reason."""
    rows = [
        {
            "name": words(check.name),
            "status": check.status,
            "status_class": STATUS_CLASSES.get(check.status, ""),
            "detail": check.detail,
            "duration": duration(check.duration_ms),
        }
        for check in report.checks
    ]
    rows += [
        {
            "name": words(skipped.name),
            "status": "skipped",
            "status_class": STATUS_CLASSES["skipped"],
            "detail": skipped.reason,
            "duration": "—",
        }
        for skipped in report.skipped
    ]
    return rows


class StartupChecksPanel:
    def __init__(self, verify: Verify) -> None:
        self._verify = verify
        with ui.card().classes("w-full gap-2").mark("startup-checks"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Start-up checks").classes("text-lg font-semibold")
                self.overall = ui.badge().mark("checks-overall")
                self.checked = ui.label().classes("text-sm text-gray-600").mark("checks-when")
                ui.space()
                self.button = ui.button("Run checks", icon="fact_check", on_click=self.run).mark(
                    "run-checks"
                )
            self.error = ui.label().classes("text-sm text-negative").mark("checks-error")
            self.table = (
                DataTable(columns=COLUMNS, rows=[], row_key="name")
                .classes("w-full")
                .props("dense flat wrap-cells")
                .color("status")
                .mark("check-rows")
            )
        self.overall.set_visibility(False)
        self.error.set_visibility(False)

    async def run(self) -> None:
        self.button.props("loading")
        try:
            report = await self._verify()
        except BackendError as error:
            self.error.set_text(f"The checks could not run: {error.message}")
            self.error.set_visibility(True)
            return
        finally:
            self.button.props(remove="loading")
        self.error.set_visibility(False)
        self.show(report)

    def show(self, report: pb.StartupReport) -> None:
        self.overall.set_visibility(True)
        self.overall.set_text(f"overall: {report.status}")
        self.overall.props(f"color={theme.tone(theme.CHECKS, report.status)}")
        self.checked.set_text(f"run {moment(report.checked_at)} in {duration(report.duration_ms)}")
        self.table.show(check_rows(report))
