"""The latest signals of an engine's symbols, one row per symbol, from its status.

Every status the engine stream delivers carries the signals of its last cycle (empty until the
first cycle), so the table follows the engine without polling. A stopped (or stopping) engine's
status still carries the signals of its last cycle: they stay, dimmed under a badge saying they
are the values at the stop, not live ones.
"""

from __future__ import annotations

from typing import Any

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.components.data_table import DataTable, column
from webui.components.status import halted, moment, percent, side_word

COLUMNS = [
    column("symbol", "Symbol", sortable=True),
    column("direction", "Direction"),
    column("move", "Move"),
    column("active", "Active"),
    column("active_advanced", "Active advanced"),
    column("optimal", "Optimal sets"),
]
SIDE_CLASSES = {1: "text-positive font-medium", -1: "text-negative font-medium", 0: "text-neutral"}
DIMMED = "text-neutral"
FLAG_CELL = """
<q-td :props="props">
  <q-icon :name="props.value == 'yes' ? 'check_circle' : 'radio_button_unchecked'"
          :color="props.value == 'yes' ? 'positive' : 'neutral'" size="xs" />
  <span class="q-ml-xs">{{ props.value }}</span>
</q-td>
"""


def side_cell(side: int, strength: float) -> str:
    """``long · 0.29 %``: the side and its strength (strength is shown below the threshold too)."""
    return f"{side_word(side)} · {percent(strength)}"


def signal_row(signals: pb.SymbolSignals, *, dimmed: bool = False) -> dict[str, Any]:
    """A symbol's row; ``dimmed`` (values at a stop): every cell in the neutral tone, which
    stays readable (an opacity would not)."""
    return {
        "symbol": signals.symbol,
        "direction": side_cell(signals.direction, signals.direction_strength),
        "direction_class": DIMMED if dimmed else SIDE_CLASSES.get(signals.direction, ""),
        "move": side_cell(signals.move, signals.move_strength),
        "move_class": DIMMED if dimmed else SIDE_CLASSES.get(signals.move, ""),
        "active": "yes" if signals.active else "no",
        "active_advanced": "yes" if signals.active_advanced else "no",
        "optimal": ", ".join(signals.optimal) or "—",
    }


class SignalsTable:
    def __init__(self) -> None:
        with ui.card().classes("w-full gap-2").mark("signals-card") as self.card:
            with ui.row().classes("w-full items-baseline gap-3"):
                ui.label("Signals").classes("text-lg font-semibold")
                self.as_of = ui.label().classes("text-sm text-gray-500").mark("signals-as-of")
                self.stopped = (
                    ui.badge("engine stopped: values at the stop, not live", color="neutral")
                    .classes("text-sm")
                    .mark("signals-stopped")
                )
            self.table = (
                DataTable(rows=[], columns=COLUMNS, row_key="symbol")
                .props("dense flat hide-bottom")
                .classes("w-full")
                .mark("signals-table")
            )
            self.table.color("direction", "move")
            for name in ("active", "active_advanced"):
                self.table.add_slot(f"body-cell-{name}", FLAG_CELL)
            self.empty = ui.label(
                "No signals yet: they come with the engine's first cycle."
            ).classes("text-sm text-gray-500")

    def update(self, status: pb.EngineStatus) -> None:
        at_stop = halted(status) and bool(status.signals)
        self.table.show([signal_row(s, dimmed=at_stop) for s in status.signals])
        self.table.set_visibility(bool(status.signals))
        self.empty.set_visibility(not status.signals)
        self.stopped.set_visibility(at_stop)
        if at_stop:
            self.table.classes(add=DIMMED)
        else:
            self.table.classes(remove=DIMMED)
        metrics = status.metrics
        if status.signals and metrics.HasField("last_cycle_at"):
            cycle = moment(metrics.last_cycle_at)
            self.as_of.set_text(
                f"of the last cycle before the stop, at {cycle}"
                if at_stop
                else f"as of the cycle at {cycle}"
            )
        else:
            self.as_of.set_text("")
