"""The position figures of one account and mode, kept up to date change by change.

They start from storage (:mod:`server.accounts.store`: the open positions, and the realised PnL
today and in total as SQL sums) and then follow the position stream: an open position's every
fill and re-mark replaces it; a close moves its realised PnL (net of all its fees, as the book
and the live desk store it) into today's and the total — counted once, only for a position that
was open here, so a close that storage already summed is never added again. "Today" is since
00:00 UTC: :meth:`ModeFigures.roll` starts a new day at zero.

Live positions whose opening order has not filled yet (quantity 0) are not open positions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from server.accounts.model import ZERO, Figures
from server.engine.positions import PositionView, Status


@dataclass
class ModeFigures:
    day: date
    realized_today: Decimal = ZERO
    realized_total: Decimal = ZERO
    open: dict[uuid.UUID, PositionView] = field(default_factory=dict)

    def roll(self, today: date) -> bool:
        """Start ``today`` when it is a new day; whether that changed anything."""
        if today <= self.day:
            return False
        self.day = today
        changed = self.realized_today != 0
        self.realized_today = ZERO
        return changed

    def apply(self, position: PositionView) -> bool:
        """Take one change of a position; whether it was a fill (opened, added, closed) rather
        than a re-mark."""
        before = self.open.get(position.id)
        if position.status is Status.CLOSED:
            if before is None:
                return False
            del self.open[position.id]
            pnl = position.realized_pnl or ZERO
            self.realized_total += pnl
            closed_at = position.closed_at
            if closed_at is None or closed_at.date() >= self.day:
                self.realized_today += pnl
            return True
        if not position.state.quantity:
            return False
        self.open[position.id] = position
        return before is None or before.state.quantity != position.state.quantity

    def figures(self) -> Figures:
        unrealized: Decimal | None = ZERO
        notional = ZERO
        for position in self.open.values():
            state = position.state
            notional += state.quantity * (position.mark_price or state.average_price)
            pnl = position.unrealized_pnl
            unrealized = None if unrealized is None or pnl is None else unrealized + pnl
        return Figures(
            open_positions=len(self.open),
            realized_pnl_today=self.realized_today,
            realized_pnl_total=self.realized_total,
            unrealized_pnl=unrealized,
            open_notional=notional,
        )
