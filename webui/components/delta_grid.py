"""An AG Grid that holds hundreds or thousands of rows and changes them by transactions.

The rows (:attr:`DeltaGrid.rows`) reach the browser whole only when its socket connects (the
page's first render, or a reconnect); every change after that goes as one ``applyTransaction``
with the rows it adds, updates and removes. The element's options refer to the current rows
without NiceGUI wrapping them in observables (which costs a pass over every row: ~17 ms for 300
accounts, ~0.35 s for 6,000 positions, per change), so any re-render carries the current rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nicegui import ui

SENT_KEPT = 20


class DeltaGrid(ui.aggrid):  # type: ignore[misc]
    """``shown`` names the fields that count as displayed text (for NiceGUI's test user, as a
    browser shows the cells; see :class:`~webui.components.data_table.DataTable`)."""

    def __init__(self, options: dict[str, Any], *, shown: Sequence[str]) -> None:
        super().__init__({**options, "rowData": []})
        self._shown = tuple(shown)
        #: Every row the browser's grid holds (or will, once connected).
        self.rows: list[dict[str, Any]] = []
        #: The last transactions sent to the browser, newest last (what a change costs).
        self.sent: list[dict[str, Any]] = []
        self.ready = False  # the browser is connected and has the rows
        ui.context.client.on_connect(self._connected)

    def apply(self, rows: list[dict[str, Any]], transaction: dict[str, Any]) -> None:
        """Hold ``rows`` (every row) and send the transaction that made them."""
        self.rows = rows
        # Referred to, not copied or wrapped, and no update: the transaction carries the change.
        dict.__setitem__(self.options, "rowData", rows)
        if not self.ready:
            return
        self.sent.append(transaction)
        del self.sent[:-SENT_KEPT]
        self.run_grid_method("applyTransaction", transaction)

    def _connected(self) -> None:
        """The browser's socket is up (again): the rows are sent whole, once; each change after
        this goes as a transaction. (What changed while a socket was down may not have reached
        the browser's grid: calls before the socket are lost.)"""
        self.ready = True
        self.update()

    def _displayed_contents(self, *, only_visible: bool) -> list[Any]:
        cells = [row.get(field) for row in self.rows for field in self._shown]
        return [*super()._displayed_contents(only_visible=only_visible), *cells]
