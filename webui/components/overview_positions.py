"""The open positions of every account in one table, with filters (account, symbol, mode, side),
and a close action per position.

Filled from an :class:`~webui.account_feeds.OpenPositionFeed` (open positions come again
re-marked every few seconds; the page redraws at most once per burst). Prices and quantities
are shown as the server sends them (the market's precision); notional and PnL with the quote
currency and its places; PnL % of the entry notional; how long each has been open; times UTC.

Close sends ``EngineService.ClosePosition``. A pseudo position closes at once; a live one first
asks in a dialog naming the account, symbol, side and quantity, and only that dialog's button
sends ``confirm_live=true``. A refusal stays on the page, above the table, until the next close.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.backend import Backend, BackendError
from webui.components.confirm import confirm
from webui.components.data_table import DataTable, column
from webui.components.overview_money import (
    UNKNOWN,
    amount,
    decimal_or_none,
    held_for,
    moment,
    percent,
    quote_of,
)

ALL = "all"
COLUMNS = [
    column("account", "Account", sortable=True),
    column("symbol", "Symbol", sortable=True),
    column("mode", "Mode", sortable=True),
    column("side", "Side", sortable=True),
    column("quantity", "Quantity", align="right"),
    column("average_price", "Average", align="right"),
    column("mark_price", "Mark", align="right"),
    column("notional", "Notional", align="right", nowrap=True),
    column("pnl", "Unrealized PnL", align="right", nowrap=True),
    column("pnl_percent", "PnL %", align="right", nowrap=True),
    column("held", "Open for", nowrap=True),
    column("opened_at", "Opened (UTC)", sortable=True, nowrap=True),
]
CLOSE_COLUMN = column("close", "")
CLOSE_CELL = """
<q-td :props="props">
  <q-btn dense flat no-caps color="negative" label="Close"
    :aria-label="`Close ${props.row.mode} ${props.row.side} ${props.row.symbol}`
      + ` on ${props.row.account}`"
    @click="() => $parent.$emit('close', props.row.id)" />
</q-td>
"""
CLOSE_TIMEOUT_SECONDS = 120.0  # a live close waits for its market order to fill
ROWS_PER_PAGE = 15
SIDE_CLASSES = {"long": "text-positive", "short": "text-negative"}


def pnl_class(text: str) -> str:
    return {"+": "text-positive", "-": "text-negative"}.get(text[:1], "")


def position_row(position: pb.Position, account: str, now: datetime) -> dict[str, Any]:
    """One table row; the notional at the mark (at the average price while unmarked)."""
    currency = quote_of(position.symbol)
    quantity = decimal_or_none(position.quantity)
    average = decimal_or_none(position.average_price)
    mark = decimal_or_none(position.mark_price)
    price = mark if mark is not None else average
    notional = quantity * price if quantity is not None and price is not None else None
    entry = quantity * average if quantity is not None and average is not None else None
    pnl = amount(position.unrealized_pnl, currency, signed=True)
    return {
        "id": position.id,
        "connection_id": position.connection_id,
        "account": account,
        "symbol": position.symbol,
        "mode": position.mode,
        "side": position.side,
        "side_class": SIDE_CLASSES.get(position.side, ""),
        "quantity": position.quantity,
        "average_price": position.average_price,
        "mark_price": position.mark_price or UNKNOWN,
        "notional": amount(notional, currency),
        "pnl": pnl,
        "pnl_class": pnl_class(pnl),
        "pnl_percent": percent(decimal_or_none(position.unrealized_pnl), entry),
        "pnl_percent_class": pnl_class(pnl),
        "held": held_for(position.opened_at, now),
        "opened_at": moment(position.opened_at),
    }


class PositionFilters:
    """What the table shows: one account, symbol, mode and side, or all of each."""

    def __init__(self) -> None:
        self.account = ALL
        self.symbol = ALL
        self.mode = ALL
        self.side = ALL

    def admits(self, row: dict[str, Any]) -> bool:
        return all(
            wanted in (ALL, row[key])
            for key, wanted in (
                ("connection_id", self.account),
                ("symbol", self.symbol),
                ("mode", self.mode),
                ("side", self.side),
            )
        )


class OpenPositionsTable:
    def __init__(self, backend: Backend, token: str, *, may_close: bool) -> None:
        self._backend = backend
        self._token = token
        self.filters = PositionFilters()
        self.positions: dict[str, pb.Position] = {}
        self.rows: list[dict[str, Any]] = []
        with ui.card().classes("w-full gap-2").mark("overview-positions-card"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Open positions").classes("text-lg font-semibold")
                self.stream = ui.badge().mark("overview-positions-stream")
                self.count = ui.label().classes("text-sm text-neutral").mark("overview-count")
            with ui.row().classes("w-full gap-3 items-end"):
                self.account = self._filter("Account", "account", {ALL: "All accounts"})
                self.symbol = self._filter("Symbol", "symbol", {ALL: "All symbols"})
                self._filter("Mode", "mode", {ALL: "All", "pseudo": "Pseudo", "live": "Live"})
                self._filter("Side", "side", {ALL: "All", "long": "Long", "short": "Short"})
            self.error = (
                ui.label()
                .classes("text-sm text-negative")
                .props('role="alert"')
                .mark("overview-close-error")
            )
            self.error.set_visibility(False)
            columns = [*COLUMNS, CLOSE_COLUMN] if may_close else COLUMNS
            self.table: DataTable = (
                DataTable(rows=[], columns=columns, row_key="id", pagination=ROWS_PER_PAGE)
                .props('dense flat no-data-label="No open positions"')
                .classes("w-full")
                .mark("overview-positions")
                .color("side", "pnl", "pnl_percent")
            )
            if may_close:
                self.table.add_slot("body-cell-close", CLOSE_CELL)
                self.table.on("close", lambda e: self.close(str(e.args)))

    def _filter(self, label: str, key: str, options: dict[str, str]) -> ui.select:
        def pick(value: str | None) -> None:
            setattr(self.filters, key, value or ALL)
            self._show_rows()

        return (
            ui.select(options, value=ALL, label=label, on_change=lambda e: pick(e.value))
            .classes("w-48")
            .mark(f"overview-filter-{key}")
        )

    def show_stream(self, live: bool) -> None:
        self.stream.set_text("Live" if live else "Reconnecting…")
        self.stream.props(f"color={'positive' if live else 'caution'}")

    def show(self, positions: Iterable[pb.Position], names: dict[str, str]) -> None:
        """The table from the open positions; ``names``: connection id → account name."""
        now = datetime.now(UTC)
        self.positions = {p.id: p for p in positions}
        self.rows = [
            position_row(p, names.get(p.connection_id, p.connection_id), now)
            for p in self.positions.values()
        ]
        # Only accounts that hold a position: a choice of 300 names would be of no help.
        held = {p.connection_id for p in self.positions.values()}
        choices = sorted(((names.get(c, c), c) for c in held), key=lambda pair: pair[0])
        self._set_options(self.account, {ALL: "All accounts"} | {c: n for n, c in choices})
        symbols = sorted({p.symbol for p in self.positions.values()})
        self._set_options(self.symbol, {ALL: "All symbols"} | {s: s for s in symbols})
        self._show_rows()

    @staticmethod
    def _set_options(select: ui.select, options: dict[str, str]) -> None:
        if options != select.options:
            # A filter on what is gone shows it still: no row rather than a silent reset.
            keep = {select.value: str(select.value)} if select.value not in options else {}
            select.set_options(options | keep, value=select.value)

    def _show_rows(self) -> None:
        shown = [row for row in self.rows if self.filters.admits(row)]
        self.table.show(shown)
        self.count.set_text(f"{len(shown)} of {len(self.rows)} open")

    def show_error(self, text: str) -> None:
        self.error.set_text(text)
        self.error.set_visibility(bool(text))

    async def close(self, position_id: str) -> None:
        position = self.positions.get(position_id)
        if position is None:
            self.show_error("That position is no longer open.")
            return
        row = next(r for r in self.rows if r["id"] == position_id)
        what = f"{position.side} {position.quantity} {position.symbol} on {row['account']}"
        self.show_error("")
        if position.mode == "live" and not await confirm(
            f"Close the live position {position.symbol} on {row['account']}?",
            f"Account {row['account']}, {position.symbol}, {position.side}, quantity "
            f"{position.quantity}: a market order on the exchange closes it.",
            action="Close live position",
            danger=True,
        ):
            return
        request = pb.ClosePositionRequest(
            position_id=position.id, confirm_live=position.mode == "live"
        )
        try:
            await self._backend.call(
                self._backend.engines.ClosePosition,
                request,
                self._token,
                timeout=CLOSE_TIMEOUT_SECONDS,
            )
        except BackendError as error:
            self.show_error(f"Could not close {position.mode} {what}: {error.message}")
            return
        ui.notify(f"Closed {position.mode} {what}", type="positive")
