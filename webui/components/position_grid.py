"""The AG Grid behind the Overview's open positions: its columns, the Close button of each row and
the filters, all done in the browser.

Rows reach the browser as deltas (``applyTransaction``: rows added, changed, removed, by position
id), never as every row again; the rows are also kept in the grid's options without sending them,
so a reconnecting browser and NiceGUI's test user see the same rows. Filtering (account, symbol,
mode, side) is the grid's own: a filter change sends a filter model of a few bytes, no rows.
Sorting is the grid's own too, newest opened first; the grid draws only the rows in view. How long
each position has been open is counted in the browser: it stays right without a message.

The Close button of a row is named after what it closes ("Close pseudo long BTC/USDT on Demo").
It is reached by keyboard as any cell of the grid is (Tab into the grid, arrows to the Close
column; Enter or Space closes), and clicked as a button.
"""

from __future__ import annotations

from typing import Any

from webui.components.delta_grid import DeltaGrid
from webui.components.overview_accounts import NUMERIC


def owner(node: str) -> str:
    """The grid element that holds a DOM node: its Vue component receives the "close" event."""
    return f"getElement({node}.closest('.nicegui-aggrid'))"


# The Close cell's value is the button's name: a renamed account draws the button again.
CLOSE_NAME = "p => `Close ${p.data.mode} ${p.data.side} ${p.data.symbol} on ${p.data.account}`"
CLOSE_BUTTON = f"""params => {{
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Close';
  button.className = 'cts-close text-negative font-medium px-2 rounded';
  button.setAttribute('aria-label', params.value);
  button.addEventListener('click', () => {owner("button")}.$emit('close', params.node.id));
  return button;
}}"""
# Enter or Space on the focused Close cell (not on its button, which clicks by itself).
CLOSE_KEY = f"""params => {{
  const key = params.event.key, cell = params.event.target;
  if (params.column.getColId() !== 'close' || !['Enter', ' '].includes(key)) return;
  if (cell.tagName === 'BUTTON') return;
  params.event.preventDefault();
  {owner("cell")}.$emit('close', params.node.id);
}}"""
# Newest opened first, ties by id: the order the server's feeds use.
NEWEST = (
    "(a, b, x, y) => (x.data.opened_us - y.data.opened_us)"
    " || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)"
)
# How long a position has been open, as overview_money.held_for says it: "45 s", "12 min",
# "3 h 05 min", "2 d 04 h"; by the browser's clock, counted on every second (HELD_TICK).
HELD = """p => {
  const s = Math.max(0, Math.floor((Date.now() * 1000 - p.data.opened_us) / 1e6));
  const m = Math.floor(s / 60), h = Math.floor(s / 3600), d = Math.floor(s / 86400);
  const two = n => String(n).padStart(2, '0');
  if (s < 60) return `${s} s`;
  if (h === 0) return `${m} min`;
  if (d === 0) return `${h} h ${two(m % 60)} min`;
  return `${d} d ${two(h % 24)} h`;
}"""
# Only the cells in view are drawn, and only those whose text changed are drawn again.
HELD_TICK = """p => {
  const tick = setInterval(() => p.api.isDestroyed()
    ? clearInterval(tick) : p.api.refreshCells({columns: ['held']}), 1000);
}"""
# Equality, as PositionFilters.admits compares: the filters never send rows.
EXACT = {
    "filter": "agTextColumnFilter",
    "filterParams": {"caseSensitive": True},
    "suppressHeaderFilterButton": True,
}
PNL_CELL = "p => 'ag-right-aligned-cell ' + p.data.pnl_class"
FILTERED = {"account": "connection_id", "symbol": "symbol", "mode": "mode", "side": "side"}

COLUMN_DEFS: list[dict[str, Any]] = [
    {"headerName": "Account", "field": "account", "minWidth": 130},
    {"headerName": "Symbol", "field": "symbol", "minWidth": 150, **EXACT},
    {"headerName": "Mode", "field": "mode", "minWidth": 95, **EXACT},
    {"headerName": "Side", "field": "side", "minWidth": 90, ":cellClass": "p => p.data.side_class"}
    | EXACT,
    {"headerName": "Quantity", "field": "quantity", **NUMERIC},
    {"headerName": "Average", "field": "average_price", **NUMERIC},
    {"headerName": "Mark", "field": "mark_price", **NUMERIC},
    {"headerName": "Notional", "field": "notional", "minWidth": 140, **NUMERIC},
    {"headerName": "Unrealized PnL", "field": "pnl", "minWidth": 150, **NUMERIC}
    | {":cellClass": PNL_CELL},
    {"headerName": "PnL %", "field": "pnl_percent", **NUMERIC} | {":cellClass": PNL_CELL},
    {"headerName": "Open for", "colId": "held", ":valueGetter": HELD, "sortable": False},
    {
        "headerName": "Opened (UTC)",
        "field": "opened_at",
        "minWidth": 200,
        "sort": "desc",
        ":comparator": NEWEST,
    },
    {"headerName": "Account id", "field": "connection_id", "hide": True, **EXACT},
]
CLOSE_DEF: dict[str, Any] = {
    "headerName": "Close",
    "colId": "close",
    ":valueGetter": CLOSE_NAME,
    ":cellRenderer": CLOSE_BUTTON,
    "sortable": False,
    "minWidth": 100,
}
#: What a row shows (for NiceGUI's test user, as a browser shows the cells).
SHOWN = [d["field"] for d in COLUMN_DEFS if "field" in d and not d.get("hide")]


def filter_model(wanted: dict[str, str]) -> dict[str, Any]:
    """The grid's filter model for the wanted values (account → connection id, symbol, mode,
    side); a key left out is not filtered."""
    return {
        FILTERED[key]: {"filterType": "text", "type": "equals", "filter": value}
        for key, value in wanted.items()
    }


class PositionGrid(DeltaGrid):
    """The open positions' grid, with the filters the browser's grid applies."""

    #: The filter model the browser's grid applies.
    filters: dict[str, Any]

    def __init__(self, *, may_close: bool) -> None:
        columns = [*COLUMN_DEFS, CLOSE_DEF] if may_close else COLUMN_DEFS
        super().__init__(
            {
                "columnDefs": columns,
                ":getRowId": "params => params.data.id",
                "defaultColDef": {
                    "sortable": True,
                    "resizable": True,
                    "minWidth": 110,
                    "suppressHeaderMenuButton": True,
                },
                # Every row's Close cell is drawn, however wide the screen.
                "suppressColumnVirtualisation": True,
                ":onCellKeyDown": CLOSE_KEY,
                ":onGridReady": HELD_TICK,
                "overlayNoRowsTemplate": "No open positions",
                "initialState": {"filter": {"filterModel": {}}},
            },
            shown=SHOWN,
        )
        self.filters = {}

    def filter(self, model: dict[str, Any]) -> None:
        """Show only the rows the model admits (kept for a reconnecting browser)."""
        self.filters = model
        with self._props.suspend_updates():
            self.options["initialState"] = {"filter": {"filterModel": model}}
        if self.ready:
            self.run_grid_method("setFilterModel", model)
