"""The Audit page (admins): who changed what, when, from where and with which outcome, newest
first, narrowed by token, RPC, target and outcome. "Refresh" reads the newest page again;
"Older entries" pages back. Field names only: the trail never holds a value."""

from __future__ import annotations

from typing import Any

from cts.access.v1 import access_pb2 as pb
from nicegui import ui

from server.access.roles import Role
from webui import session
from webui.backend import Backend, BackendError
from webui.components.data_table import DataTable, column
from webui.frame import frame, signed_in

PAGE_SIZE = 100
COLUMNS = [
    column("time", "Time", nowrap=True),
    column("token", "Token"),
    column("role", "Role"),
    column("address", "Client"),
    column("method", "Call"),
    column("target", "Target"),
    column("fields", "Fields"),
    column("outcome", "Outcome"),
]


def row_of(entry: pb.AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": entry.time.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
        "token": entry.token_name,
        "role": entry.role,
        "address": entry.client_address,
        "method": entry.method.rsplit("/", 1)[-1],
        "target": entry.target_id,
        "fields": ", ".join(entry.fields),
        "outcome": entry.outcome,
        "outcome_class": "text-positive" if entry.outcome == "OK" else "text-negative",
    }


def register(backend: Backend) -> None:
    @ui.page("/audit")
    def audit_page() -> None:
        token = signed_in()
        if token is None:
            return
        rows: list[dict[str, Any]] = []
        state = {"next": ""}

        async def read(more: bool) -> None:
            request = pb.ListAuditEntriesRequest(
                token_name=token_filter.value or "",
                method=method_filter.value or "",
                target_id=target_filter.value or "",
                outcome=outcome_filter.value or "",
                page_size=PAGE_SIZE,
                page_token=state["next"] if more else "",
            )
            try:
                page = await backend.call(backend.access.ListAuditEntries, request, token)
            except BackendError as error:
                ui.notify(error.message, type="negative")
                return
            if not more:
                rows.clear()
            rows.extend(row_of(e) for e in page.entries)
            state["next"] = page.next_page_token
            table.show(list(rows))
            older.set_visibility(bool(page.next_page_token))
            count.set_text(f"{len(rows)} entries shown")

        with frame("Audit", []):
            if not session.allows(Role.ADMIN):
                ui.label("The audit trail is for admin tokens.").mark("audit-denied")
                return
            with ui.row().classes("w-full items-end gap-3"):
                token_filter = ui.input("Token").classes("w-40").mark("audit-token")
                method_filter = (
                    ui.input("Call (e.g. DeleteConnection)").classes("w-56").mark("audit-method")
                )
                target_filter = ui.input("Target id").classes("w-72").mark("audit-target")
                outcome_filter = (
                    ui.select(
                        ["", "OK", "PERMISSION_DENIED", "INVALID_ARGUMENT", "NOT_FOUND"],
                        value="",
                        label="Outcome",
                    )
                    .classes("w-48")
                    .mark("audit-outcome")
                )
                ui.button("Refresh", icon="refresh", on_click=lambda: read(False)).mark(
                    "audit-refresh"
                )
            count = ui.label().classes("text-sm text-gray-600").mark("audit-count")
            table = DataTable(columns=COLUMNS, rows=[], row_key="id").classes("w-full")
            table.color("outcome").mark("audit-table")
            older = ui.button("Older entries", icon="history", on_click=lambda: read(True))
            older.mark("audit-older").set_visibility(False)
        ui.timer(0, lambda: read(False), once=True)
