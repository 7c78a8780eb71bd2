"""The open positions of every account in one grid, with filters (account, symbol, mode, side),
and a close action per position.

Filled from an :class:`~webui.account_feeds.OpenPositionFeed`, whose open positions come again
re-marked every few seconds (with 100 engines, thousands of them). The page tells the table which
positions changed (:meth:`OpenPositionsTable.changed`) and, at most once per short window, asks it
to show them (:meth:`OpenPositionsTable.show`): only those rows are made again, and what differs
goes to the browser as one grid transaction (rows added, changed, removed), however many
positions the window's re-marks touched. Filters and sorting are the browser's own (see
:mod:`webui.components.position_grid`): they send no rows.

Prices and quantities are shown as the server sends them (the market's precision); notional and
PnL with the quote currency and its places; PnL % of the entry notional; how long each has been
open (counted on in the browser, without messages); times UTC.

Close sends ``EngineService.ClosePosition``. A pseudo position closes at once; a live one first
asks in a dialog naming the account, symbol, side and quantity, and only that dialog's button
sends ``confirm_live=true``. A refusal stays on the page, above the grid, until the next close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.backend import Backend, BackendError
from webui.components.confirm import confirm
from webui.components.overview_money import (
    UNKNOWN,
    amount,
    decimal_or_none,
    percent,
    quote_of,
)
from webui.components.position_grid import FILTERED, PositionGrid, filter_model
from webui.components.status import moment
from webui.components.stream_badge import show_live
from webui.feeds import PositionUpdate, UpdateKind

ALL = "all"
CLOSE_TIMEOUT_SECONDS = 120.0  # a live close waits for its market order to fill
SIDE_CLASSES = {"long": "text-positive", "short": "text-negative"}


def pnl_class(text: str) -> str:
    return {"+": "text-positive", "-": "text-negative"}.get(text[:1], "")


def position_row(position: pb.Position, account: str) -> dict[str, Any]:
    """One grid row; the notional at the mark (at the average price while unmarked). How long
    the position has been open is counted by the browser, from ``opened_us``."""
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
        "opened_at": moment(position.opened_at),
        "opened_us": position.opened_at.ToMicroseconds(),  # order (newest first) and duration
    }


# Rows made from the feed's messages, shared by every Overview open on the same feed: a re-mark's
# row is made once, however many tabs show it. Keyed by position id; a row is made again for a
# new message (a re-mark) or a renamed account.
_made: dict[str, tuple[pb.Position, str, dict[str, Any]]] = {}
MADE_KEPT = 50_000  # rows of positions that no tab saw close are dropped at this many


def shared_row(position: pb.Position, account: str) -> dict[str, Any]:
    """:func:`position_row`, made once per message and account name (not to be changed)."""
    made = _made.get(position.id)
    if made is not None and made[0] is position and made[1] == account:
        return made[2]
    if len(_made) >= MADE_KEPT:
        _made.clear()
    row = position_row(position, account)
    _made[position.id] = (position, account, row)
    return row


def forget_row(position_id: str) -> None:
    """The position is no longer open: its shared row goes."""
    _made.pop(position_id, None)


class PositionFilters:
    """What the table shows: one account, symbol, mode and side, or all of each."""

    def __init__(self) -> None:
        self.account = ALL
        self.symbol = ALL
        self.mode = ALL
        self.side = ALL

    def wanted(self) -> dict[str, str]:
        """The filters that pick something (not all)."""
        chosen = {
            "account": self.account,
            "symbol": self.symbol,
            "mode": self.mode,
            "side": self.side,
        }
        return {key: value for key, value in chosen.items() if value != ALL}

    def admits(self, row: dict[str, Any]) -> bool:
        """What the browser's grid shows under these filters (see :func:`filter_model`)."""
        return self.count([row]) == 1

    def count(self, rows: Iterable[dict[str, Any]]) -> int:
        """How many of the rows the browser's grid shows under these filters."""
        wanted = [(FILTERED[key], value) for key, value in self.wanted().items()]
        return sum(1 for row in rows if all(row[field] == value for field, value in wanted))


class OpenPositionsTable:
    def __init__(self, backend: Backend, token: str, *, may_close: bool) -> None:
        self._backend = backend
        self._token = token
        self.filters = PositionFilters()
        self.rows: dict[str, dict[str, Any]] = {}  # position id → its row, as the grid has it
        self._changed: set[str] = set()  # positions to show again
        self._everything = True  # a snapshot came (or nothing was shown yet): all of them
        self._names: dict[str, str] = {}  # the account names the rows show
        # How many rows each account and symbol has: the filters' choices change only when one
        # appears or goes (a pass over thousands of rows per fill cost ~10 ms a tab).
        self._held: Counter[tuple[str, str]] = Counter()
        self._closing: set[str] = set()  # asked to close, not answered yet
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
            self.grid = (
                PositionGrid(may_close=may_close)
                .classes("w-full h-[32rem]")
                .props('role="region" aria-label="Open positions of every account"')
                .mark("overview-positions")
            )
            if may_close:
                self.grid.on("close", lambda e: self.close(str(e.args)))
            self.empty = (
                ui.label()
                .classes("text-sm text-neutral")
                .props('role="status"')
                .mark("overview-positions-empty")
            )
            self._show_count()

    def _filter(self, label: str, key: str, options: dict[str, str]) -> ui.select:
        def pick(value: str | None) -> None:
            setattr(self.filters, key, value or ALL)
            self.grid.filter(filter_model(self.filters.wanted()))
            self._show_count()

        return (
            ui.select(options, value=ALL, label=label, on_change=lambda e: pick(e.value))
            .classes("w-48")
            .mark(f"overview-filter-{key}")
        )

    def show_stream(self, live: bool) -> None:
        show_live(self.stream, live)

    def changed(self, update: PositionUpdate) -> None:
        """Remember what the position stream changed, for the next :meth:`show`."""
        if update.kind is UpdateKind.RESET or update.position is None:
            self._everything = True
        else:
            self._changed.add(update.position.id)

    def show(self, positions: Mapping[str, pb.Position], names: Mapping[str, str]) -> None:
        """Show what changed since the last call as one grid transaction. ``positions``: the
        feed's positions by id (open ones are shown); ``names``: connection id → account name."""
        ids, self._changed = self._changed, set()
        if self._everything:
            ids |= positions.keys() | self.rows.keys()
            self._everything = False
        renamed = {
            c for c in self._names.keys() | names.keys() if self._names.get(c) != names.get(c)
        }
        if renamed:
            ids |= {i for i, row in self.rows.items() if row["connection_id"] in renamed}
            self._names = dict(names)
        add, update, remove = [], [], []
        chosen = False  # an account or symbol appeared or went: the filters' choices change
        for position_id in ids:
            position = positions.get(position_id)
            before = self.rows.get(position_id)  # as the grid has it
            if position is None or position.status != "open":
                forget_row(position_id)
                if before is not None:
                    remove.append({"id": position_id})
                    del self.rows[position_id]
                    chosen |= self._count_out(before)
                continue
            account = names.get(position.connection_id, position.connection_id)
            row = shared_row(position, account)
            if before is None:
                add.append(row)
                chosen |= self._count_in(row)
            elif row is not before and row != before:
                update.append(row)
            else:
                continue
            self.rows[position_id] = row
        if add or update or remove:
            transaction = {"add": add, "update": update, "remove": remove}
            self.grid.apply(list(self.rows.values()), transaction)
        if chosen or renamed:
            self._show_choices()
        if add or remove or renamed:
            self._show_count()

    def _count_in(self, row: dict[str, Any]) -> bool:
        """Count the row's account and symbol; True when either is new."""
        keys = (("account", row["connection_id"]), ("symbol", row["symbol"]))
        new = any(self._held[key] == 0 for key in keys)
        self._held.update(keys)
        return new

    def _count_out(self, row: dict[str, Any]) -> bool:
        """Count them out; True when either is gone."""
        keys = (("account", row["connection_id"]), ("symbol", row["symbol"]))
        self._held.subtract(keys)
        gone = [key for key in keys if self._held[key] <= 0]
        for key in gone:
            del self._held[key]
        return bool(gone)

    def _show_choices(self) -> None:
        """The filters offer only the accounts and symbols of open positions: a choice of 300
        account names would be of no help."""
        held = {value for kind, value in self._held if kind == "account"}
        names = {cid: self._names.get(cid, cid) for cid in held}
        accounts = sorted(names.items(), key=lambda pair: (pair[1], pair[0]))
        self._set_options(self.account, {ALL: "All accounts"} | dict(accounts))
        symbols = sorted(value for kind, value in self._held if kind == "symbol")
        self._set_options(self.symbol, {ALL: "All symbols"} | {s: s for s in symbols})

    @staticmethod
    def _set_options(select: ui.select, options: dict[str, str]) -> None:
        if options != select.options:
            # A filter on what is gone shows it still: no row rather than a silent reset.
            keep = {select.value: str(select.value)} if select.value not in options else {}
            select.set_options(options | keep, value=select.value)

    def _show_count(self) -> None:
        unfiltered = not self.filters.wanted()
        shown = len(self.rows) if unfiltered else self.filters.count(self.rows.values())
        self.count.set_text(f"{shown} of {len(self.rows)} open")
        nothing = bool(self.rows) and not shown
        self.empty.set_text("No open position matches the filters." if nothing else "")
        self.empty.set_visibility(nothing)

    def show_error(self, text: str) -> None:
        self.error.set_text(text)
        self.error.set_visibility(bool(text))

    async def close(self, position_id: str) -> None:
        row = self.rows.get(position_id)
        if row is None:
            self.show_error("That position is no longer open.")
            return
        if position_id in self._closing:  # a second click (or key) while the first is on its way
            return
        self._closing.add(position_id)
        try:
            await self._close(position_id, row)
        finally:
            self._closing.discard(position_id)

    async def _close(self, position_id: str, row: dict[str, Any]) -> None:
        mode, account, symbol, side = row["mode"], row["account"], row["symbol"], row["side"]
        what = f"{side} {row['quantity']} {symbol} on {account}"
        self.show_error("")
        if mode == "live" and not await confirm(
            f"Close the live position {symbol} on {account}?",
            f"Account {account}, {symbol}, {side}, quantity {row['quantity']}: "
            "a market order on the exchange closes it.",
            action="Close live position",
            danger=True,
        ):
            return
        request = pb.ClosePositionRequest(position_id=position_id, confirm_live=mode == "live")
        try:
            await self._backend.call(
                self._backend.engines.ClosePosition,
                request,
                self._token,
                timeout=CLOSE_TIMEOUT_SECONDS,
            )
        except BackendError as error:
            self.show_error(f"Could not close {mode} {what}: {error.message}")
            return
        ui.notify(f"Closed {mode} {what}", type="positive")
