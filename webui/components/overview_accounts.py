"""Every connection's account as one row of a sortable, searchable grid, and totals per quote
currency under it.

A row joins three streams: the connection (name, exchange and API type, health score and band,
live trading on or off), its engine (state) and its account summary (balance with the time it was
read and the read's error, open positions, realised PnL today and in total, unrealised PnL,
pseudo and live apart). Without a summary (none yet, or a server without AccountService) the
money columns say ``—``.

The grid is an AG Grid that keeps working with hundreds of rows: a change reaches the browser as
a row delta (``applyTransaction`` with the rows that changed), never as every row again. The rows
are kept on the Python side too (without sending them), so a reconnecting browser and NiceGUI's
test user see the same rows. Searching (name or exchange) is done here and sent as rows removed
and added; sorting is the grid's own (by name at first), by the number a cell starts with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cts.connection.v1 import account_pb2 as apb
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as epb
from nicegui import ui

from webui.account_totals import SummaryTotals
from webui.components.data_table import DataTable, column
from webui.components.delta_grid import DeltaGrid
from webui.components.overview_money import UNKNOWN, amount
from webui.components.status import moment
from webui.components.stream_badge import show_live

# Sort "+1,234.50 USDT" or "92 · operational" by its leading number; "—" last.
SORT_BY_NUMBER = (
    "(a, b) => { const n = v => { const x = parseFloat(String(v).replaceAll(',', '')); "
    "return Number.isNaN(x) ? -Infinity : x; }; const d = n(a) - n(b); "
    "return Number.isNaN(d) ? 0 : d; }"
)
NUMERIC = {
    ":comparator": SORT_BY_NUMBER,
    "type": "rightAligned",
}
MODES = ("pseudo", "live")


def money_group(header: str, key: str) -> dict[str, Any]:
    return {
        "headerName": header,
        "children": [
            {"headerName": mode.capitalize(), "field": f"{key}_{mode}", **NUMERIC} for mode in MODES
        ],
    }


COLUMN_DEFS: list[dict[str, Any]] = [
    {"headerName": "Account", "field": "name", "pinned": "left", "minWidth": 140, "sort": "asc"},
    {"headerName": "Exchange · type", "field": "market", "minWidth": 220},
    {"headerName": "Health", "field": "health", "minWidth": 170, **NUMERIC},
    {"headerName": "Equity", "field": "equity", "minWidth": 150, **NUMERIC},
    {"headerName": "Balance read (UTC)", "field": "balance_read", "minWidth": 210},
    {"headerName": "Engine", "field": "engine"},
    {"headerName": "Open pseudo / live", "field": "open", "minWidth": 160},
    money_group("Realized today (since 00:00 UTC)", "today"),
    money_group("Realized total", "realized"),
    money_group("Unrealized", "unrealized"),
    {"headerName": "Live trading", "field": "live_trading"},
]
FIELDS = [
    child["field"]
    for definition in COLUMN_DEFS
    for child in definition.get("children", [definition])
]
TOTAL_COLUMNS = [
    column("currency", "Currency"),
    column("accounts", "Accounts", align="right"),
    column("equity", "Equity", align="right"),
    column("today", "Realized today pseudo / live", align="right"),
    column("realized", "Realized total pseudo / live", align="right"),
    column("unrealized", "Unrealized pseudo / live", align="right"),
    column("open", "Open pseudo / live", align="right"),
]


def health_text(health: cpb.ConnectionHealth) -> str:
    """``92 · operational``; ``—`` while the server knows nothing of it."""
    if not health.HasField("score"):
        return UNKNOWN
    return f"{health.score.value} · {health.score.band.replace('_', ' ')}"


def balance_text(balance: apb.AccountBalance) -> str:
    """When the balance was read, why the last read failed (if it did), and which held assets
    the equity leaves out (no known price)."""
    parts = [moment(balance.read_at) if balance.HasField("read_at") else "never read"]
    if balance.error:
        parts.append(f"failed: {balance.error}")
    if balance.unvalued_assets:  # held, but without a price: not in the equity
        parts.append(f"not valued: {', '.join(balance.unvalued_assets)}")
    return " · ".join(parts)


def account_row(
    connection: cpb.Connection, engine: epb.EngineStatus, summary: apb.AccountSummary | None
) -> dict[str, Any]:
    """One grid row; every value a string as shown."""
    row: dict[str, Any] = {
        "id": connection.id,
        "name": connection.name,
        "market": f"{connection.exchange} · {connection.api_type}",
        "health": health_text(connection.health),
        "engine": engine.state or "stopped",
        "live_trading": "on" if connection.is_live_trade else "off",
    }
    if summary is None:
        return row | {field: UNKNOWN for field in FIELDS if field not in row}
    currency, balance = summary.quote_currency, summary.balance
    row["equity"] = amount(balance.equity, currency) if balance.HasField("read_at") else UNKNOWN
    row["balance_read"] = balance_text(balance)
    row["open"] = f"{summary.pseudo.open_positions} / {summary.live.open_positions}"
    for mode in MODES:
        figures: apb.PositionFigures = getattr(summary, mode)
        row[f"today_{mode}"] = amount(figures.realized_pnl_today, currency, signed=True)
        row[f"realized_{mode}"] = amount(figures.realized_pnl_total, currency, signed=True)
        row[f"unrealized_{mode}"] = amount(figures.unrealized_pnl, currency, signed=True)
    return row


def matches(row: dict[str, Any], query: str) -> bool:
    """The search: name or exchange contains the query, ignoring case."""
    wanted = query.strip().lower()
    return not wanted or wanted in row["name"].lower() or wanted in row["market"].lower()


class AccountsTable:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}  # every account, as shown when visible
        self.shown: dict[str, dict[str, Any]] = {}  # the ones the grid holds (the search's)
        self.query = ""
        with ui.card().classes("w-full gap-2").mark("overview-accounts-card"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Accounts").classes("text-lg font-semibold")
                self.stream = ui.badge().mark("overview-summary-stream")
                ui.space()
                self.search = (
                    ui.input("Search name or exchange", on_change=lambda e: self.find(e.value))
                    .props("dense clearable")
                    .classes("w-64")
                    .mark("overview-search")
                )
            self.unavailable = (
                ui.label()
                .classes("text-sm text-negative")
                .props('role="status"')
                .mark("overview-summary-error")
            )
            self.unavailable.set_visibility(False)
            self.grid = (
                DeltaGrid(
                    {
                        "columnDefs": COLUMN_DEFS,
                        ":getRowId": "params => params.data.id",
                        "defaultColDef": {"sortable": True, "resizable": True, "minWidth": 120},
                        "suppressCellFocus": True,
                    },
                    shown=FIELDS,
                )
                .classes("w-full h-[32rem]")
                .props('role="region" aria-label="Accounts: one row per connection"')
                .mark("overview-accounts")
            )
            self.empty = ui.label().classes("text-sm text-neutral").mark("overview-empty")
            ui.label("Totals per quote currency").classes("text-sm font-semibold text-neutral")
            self.totals = (
                DataTable(rows=[], columns=TOTAL_COLUMNS, row_key="currency")
                .props('dense flat no-data-label="No account figures yet"')
                .classes("w-full")
                .mark("overview-totals")
            )

    def show_stream(self, live: bool) -> None:
        show_live(self.stream, live)

    def show_unavailable(self, text: str) -> None:
        """Why balances and PnL are missing (the account stream was refused), inline."""
        self.unavailable.set_text(text)
        self.unavailable.set_visibility(bool(text))
        if text:
            self.stream.set_text("Unavailable")
            self.stream.props("color=negative")

    def show_totals(self, totals: SummaryTotals) -> None:
        self.totals.show(totals.rows())

    def put(self, row: dict[str, Any]) -> None:
        """Add or change one account's row (nothing is sent when it is unchanged)."""
        self.rows[row["id"]] = row
        self._sync([row["id"]])

    def remove(self, connection_id: str) -> None:
        self.rows.pop(connection_id, None)
        self._sync([connection_id])

    def replace(self, rows: list[dict[str, Any]]) -> None:
        """Every row at once (a snapshot): only the differences are sent."""
        before = set(self.rows)
        self.rows = {row["id"]: row for row in rows}
        self._sync(before | set(self.rows))

    def find(self, query: str | None) -> None:
        self.query = query or ""
        self._sync(list(self.rows) + list(self.shown))

    def _sync(self, ids: Iterable[str]) -> None:
        add, update, remove = [], [], []
        for connection_id in dict.fromkeys(ids):
            row = self.rows.get(connection_id)
            wanted = row if row is not None and matches(row, self.query) else None
            held = self.shown.get(connection_id)
            if wanted is None and held is not None:
                remove.append({"id": connection_id})
                del self.shown[connection_id]
            elif wanted is not None and held is None:
                add.append(wanted)
                self.shown[connection_id] = wanted
            elif wanted is not None and wanted != held:
                update.append(wanted)
                self.shown[connection_id] = wanted
        if add or update or remove:
            self._send({"add": add, "update": update, "remove": remove})
        self._show_empty()

    def _send(self, transaction: dict[str, Any]) -> None:
        self.grid.apply(list(self.shown.values()), transaction)

    def _show_empty(self) -> None:
        if not self.rows:
            text = "No connections yet."
        elif not self.shown:
            text = f"No account matches “{self.query.strip()}”."
        else:
            text = ""
        self.empty.set_text(text)
        self.empty.set_visibility(bool(text))
