"""A table of rows that are replaced as a whole when the data behind them changes."""

from __future__ import annotations

from typing import Any

from nicegui import ui

# A cell shown in the colour class its row names for it: field ``<column>_class``.
COLORED_CELL = """
<q-td :props="props">
  <span :class="props.row[props.col.name + '_class']">{{ props.value }}</span>
</q-td>
"""


def column(
    name: str,
    label: str,
    *,
    align: str = "left",
    sortable: bool = False,
    nowrap: bool = False,
    min_rem: int = 0,
) -> dict[str, Any]:
    """A column; ``nowrap`` keeps its cells on one line in a table that wraps cells; ``min_rem``
    keeps a column of long texts this wide on a narrow screen (the table scrolls sideways in
    its own box instead of wrapping them a word a line)."""
    made: dict[str, Any] = {
        "name": name,
        "label": label,
        "field": name,
        "align": align,
        "sortable": sortable,
    }
    if nowrap:
        made["classes"] = "whitespace-nowrap"
    if min_rem:
        made["style"] = made["headerStyle"] = f"min-width: {min_rem}rem"
    return made


class DataTable(ui.table):  # type: ignore[misc]
    """A Quasar table whose cells count as the text it displays.

    NiceGUI matches ``user.should_see`` and element filters against an element's displayed
    contents; for a table those are its rows, as a browser shows them, so the cells are added.
    :meth:`show` replaces the rows only when they changed (statuses arrive every cycle).
    """

    def color(self, *names: str) -> DataTable:
        """Colour the cells of these columns by their rows' ``<column>_class`` fields."""
        for name in names:
            self.add_slot(f"body-cell-{name}", COLORED_CELL)
        return self

    def show(self, rows: list[dict[str, Any]]) -> None:
        if rows != self._props["rows"]:
            self._props["rows"] = rows

    def _displayed_contents(self, *, only_visible: bool) -> list[Any]:
        fields = [c["field"] for c in self._props["columns"] if isinstance(c.get("field"), str)]
        cells = [row.get(field) for row in self._props["rows"] for field in fields]
        return [*super()._displayed_contents(only_visible=only_visible), *cells]
