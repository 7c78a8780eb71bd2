"""One connection's positions, pseudo (paper) and live (real orders) apart, open and closed.

Filled from a :class:`~webui.feeds.PositionFeed`: every fill arrives on the position stream at
once, and open positions come again re-marked every few seconds (mark and unrealised PnL).
Prices and quantities are shown as the server sends them (exact decimal strings); PnL rounded
to four places in Decimal.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui import theme
from webui.components.data_table import DataTable, column
from webui.components.status import moment, money, words
from webui.components.stream_badge import show_live
from webui.feeds import PositionFeed

MODES = (("pseudo", "Pseudo (paper)"), ("live", "Live (real orders)"))
OPEN_COLUMNS = [
    column("set_id", "Set", sortable=True),
    column("symbol", "Symbol", sortable=True),
    column("side", "Side"),
    column("quantity", "Quantity", align="right"),
    column("average_price", "Average", align="right"),
    column("entry_price", "Entry", align="right"),
    column("mark_price", "Mark", align="right"),
    column("unrealized_pnl", "Unrealized PnL", align="right"),
    column("opened_at", "Opened", sortable=True),
]
CLOSED_COLUMNS = [
    column("set_id", "Set", sortable=True),
    column("symbol", "Symbol", sortable=True),
    column("side", "Side"),
    column("quantity", "Quantity", align="right"),
    column("average_price", "Average", align="right"),
    column("exit_price", "Exit", align="right"),
    column("realized_pnl", "Realized PnL", align="right"),
    column("close_reason", "Reason"),
    column("opened_at", "Opened", sortable=True),
    column("closed_at", "Closed", sortable=True),
]
ROWS_PER_PAGE = 10
SIDE_CLASSES = {side: theme.text(tone) for side, tone in theme.SIDES.items()}


def pnl_class(text: str) -> str:
    sign = money(text)[:1]
    return {"+": "text-positive", "-": "text-negative"}.get(sign, "")


def base_row(position: pb.Position) -> dict[str, Any]:
    return {
        "id": position.id,
        "set_id": position.set_id,
        "symbol": position.symbol,
        "side": position.side,
        "side_class": SIDE_CLASSES.get(position.side, ""),
        "quantity": position.quantity,
        "average_price": position.average_price,
        "opened_at": moment(position.opened_at),
    }


def open_row(position: pb.Position) -> dict[str, Any]:
    return {
        **base_row(position),
        "entry_price": position.entry_price,
        "mark_price": position.mark_price or "—",
        "unrealized_pnl": money(position.unrealized_pnl),
        "unrealized_pnl_class": pnl_class(position.unrealized_pnl),
    }


def closed_row(position: pb.Position) -> dict[str, Any]:
    return {
        **base_row(position),
        "exit_price": position.exit_price or "—",
        "realized_pnl": money(position.realized_pnl),
        "realized_pnl_class": pnl_class(position.realized_pnl),
        "close_reason": words(position.close_reason) if position.close_reason else "—",
        "closed_at": moment(position.closed_at) if position.HasField("closed_at") else "—",
    }


def realized_total(positions: list[pb.Position]) -> str:
    """The sum of the positions' realised PnL, in Decimal, as a decimal string."""
    total = Decimal(0)
    for position in positions:
        try:
            total += Decimal(position.realized_pnl or 0)
        except InvalidOperation:
            continue
    return str(total)


def positions_table(columns: list[dict[str, Any]], marker: str, empty: str) -> DataTable:
    table: DataTable = (
        DataTable(rows=[], columns=columns, row_key="id", pagination=ROWS_PER_PAGE)
        .props(f'dense flat no-data-label="{empty}"')
        .classes("w-full")
        .mark(marker)
    )
    return table.color("side", "unrealized_pnl", "realized_pnl")


class ModeTables:
    """The open and the closed positions of one mode."""

    def __init__(self, mode: str) -> None:
        ui.label("Open").classes("text-sm font-semibold text-gray-700")
        self.open = positions_table(OPEN_COLUMNS, f"positions-{mode}-open", "No open positions")
        ui.label("Closed").classes("text-sm font-semibold text-gray-700")
        self.closed = positions_table(
            CLOSED_COLUMNS, f"positions-{mode}-closed", "No closed positions"
        )


class PositionsPanel:
    def __init__(self) -> None:
        self.tables: dict[str, ModeTables] = {}
        self.tabs: dict[str, ui.tab] = {}
        with ui.card().classes("w-full gap-2").mark("positions-card") as self.card:
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Positions").classes("text-lg font-semibold")
                self.stream = ui.badge().mark("positions-stream")
            self.waiting = ui.label("Loading positions…").classes("text-sm text-gray-500")
            with ui.tabs().classes("w-full").props("align=left dense no-caps") as tabs:
                for mode, label in MODES:
                    self.tabs[mode] = ui.tab(mode, label).mark(f"positions-tab-{mode}")
            with ui.tab_panels(tabs, value="pseudo").classes("w-full"):
                for mode, _ in MODES:
                    with ui.tab_panel(mode).classes("gap-1 p-0"):
                        self.tables[mode] = ModeTables(mode)

    def show_stream(self, live: bool) -> None:
        show_live(self.stream, live)

    def show(self, feed: PositionFeed | None) -> None:
        """Every table from the feed (empty without one)."""
        self.waiting.set_visibility(feed is not None and not feed.synced)
        self.show_stream(feed is not None and feed.live)
        for mode, label in MODES:
            opened = feed.select(mode, "open") if feed else []
            closed = feed.select(mode, "closed") if feed else []
            tables = self.tables[mode]
            tables.open.show([open_row(p) for p in opened])
            tables.closed.show([closed_row(p) for p in closed])
            tab = self.tabs[mode]
            title = f"{label} · {len(opened)} open · {len(closed)} closed"
            if tab.label != title:
                tab.set_label(title)
