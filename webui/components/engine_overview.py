"""Every connection's engine as one row of a compact table: name, state (and "stale" while its
prices are), stage, cycles. A stopped engine's row says since when it is stopped instead of the
stage its last run reached.

Rows follow the connection stream (added, renamed, removed) and the engine stream (state,
stage, cycles); clicking a name picks that connection for the panel above.
"""

from __future__ import annotations

from collections.abc import Callable

from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.components.status import engine_color, halted, stopped_since, words

Pick = Callable[[str], None]
COLUMNS = "grid-template-columns: minmax(10rem, 2fr) 9rem minmax(8rem, 1fr) 5rem"


class OverviewRow:
    def __init__(self, connection: cpb.Connection, on_pick: Pick) -> None:
        with (
            ui.element("div")
            .classes("contents")
            .mark(f"engine-row engine-row-{connection.id}") as self.row
        ):
            # A label that works as a button: by pointer, and by keyboard (Tab, then Enter).
            self.name = (
                ui.label()
                .classes("text-primary cursor-pointer truncate")
                .props("role=button tabindex=0")
                .on("click", lambda: on_pick(connection.id))
                .on("keydown.enter", lambda: on_pick(connection.id))
                .mark("overview-name")
            )
            with ui.row().classes("gap-1 items-center no-wrap"):
                self.state = ui.badge().mark("overview-state")
                self.stale = ui.badge("stale", color="caution").mark("overview-stale")
                self.stale.tooltip("No fresh prices: nothing opens, exits wait for fresh prices")
            self.stage = ui.label().classes("text-gray-700").mark("overview-stage")
            self.cycles = ui.label().classes("text-right").mark("overview-cycles")

    def show(self, connection: cpb.Connection, status: pb.EngineStatus) -> None:
        self.name.set_text(connection.name)
        if self.state.text != status.state:
            self.state.set_text(status.state)
            self.state.props(f"color={engine_color(status.state)}")
        self.stale.set_visibility(status.stale)
        if halted(status):  # the stage its last run reached is not where it is now
            self.stage.set_text(f"{status.state} {stopped_since(status)}".strip())
        else:
            self.stage.set_text(words(status.stage) if status.stage else "—")
        self.cycles.set_text(str(status.metrics.cycles))

    def delete(self) -> None:
        self.row.delete()


class EngineOverview:
    def __init__(self, on_pick: Pick) -> None:
        self._on_pick = on_pick
        self.rows: dict[str, OverviewRow] = {}
        with ui.card().classes("w-full gap-2").mark("engine-overview"):
            ui.label("All engines").classes("text-lg font-semibold")
            with (
                ui.element("div").classes("w-full overflow-x-auto"),  # a phone: in its own box
                ui.grid()
                .classes("w-full gap-x-4 gap-y-1 text-sm items-center")
                .style(COLUMNS) as self.grid,
            ):
                for heading in ("Connection", "State", "Stage", "Cycles"):
                    ui.label(heading).classes(
                        "text-xs uppercase text-gray-500"
                        + (" text-right" if heading == "Cycles" else "")
                    )
            self.empty = ui.label("No connections yet").classes("text-sm text-gray-500")

    def show(self, connection: cpb.Connection, status: pb.EngineStatus) -> None:
        """Add or refresh the connection's row."""
        row = self.rows.get(connection.id)
        if row is None:
            with self.grid:
                row = self.rows[connection.id] = OverviewRow(connection, self._on_pick)
        row.show(connection, status)
        self.empty.set_visibility(False)

    def remove(self, connection_id: str) -> None:
        row = self.rows.pop(connection_id, None)
        if row is not None:
            row.delete()
        self.empty.set_visibility(not self.rows)

    def clear(self) -> None:
        for connection_id in list(self.rows):
            self.remove(connection_id)
        self.empty.set_visibility(True)
