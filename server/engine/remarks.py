"""What an engine stores and tells of its positions between and beside their fills.

A fill is stored and streamed at once (:meth:`Keeper.keep` with ``announce``). Every
``mark_seconds`` the engine re-marks its open positions at the last prices and
(:meth:`Keeper.mark`):
- tells the ones whose mark or running state moved, in one event (:mod:`server.engine.marks`);
- stores, behind the cycle, the trailing positions whose running state (best price, armed
  stop) changed — the state a crash must not lose. Block and DCA decide nothing on their best
  price; the rest of their state changes only with fills, stored at once. Theirs is stored with
  the rest when the engine stops (``force``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from server.engine.book import Book
from server.engine.live import LiveDesk
from server.engine.marks import Marker, PositionEvent, PositionMarks
from server.engine.positions import PositionView
from server.engine.store import PositionWriter
from server.engine.strategies import Position


def holdings(book: Book | None, desk: LiveDesk | None) -> list[PositionView]:
    """Every open position of a book and a desk (pseudo, then live), with their last marks."""
    held = list(book.open.values()) if book is not None else []
    if desk is not None:
        held.extend(desk.positions.values())
    return held


class Keeper:
    """One engine's position writes and marks (see the module docstring)."""

    def __init__(
        self,
        connection_id: str,
        writer: PositionWriter,
        publish: Callable[[PositionEvent], None],
        mark_seconds: float,
    ) -> None:
        self._connection_id = connection_id
        self._writer = writer
        self._publish = publish
        self._mark_seconds = mark_seconds
        self._marked_at = 0.0
        self._marker = Marker()
        self._saved: dict[uuid.UUID, Position] = {}  # position id -> state last stored

    def taken_back(self, positions: Iterable[PositionView]) -> None:
        """The positions as storage holds them (at an engine's start)."""
        self._saved = {p.id: p.state for p in positions}

    def keep(self, positions: list[PositionView], *, announce: bool) -> None:
        """Store the positions behind the cycle (and stream each, with ``announce``)."""
        if positions:
            self._writer.put(positions, announce=announce)
            self._saved.update({p.id: p.state for p in positions})

    def mark(
        self,
        book: Book | None,
        desk: LiveDesk | None,
        prices: Mapping[str, Decimal],
        *,
        force: bool = False,
    ) -> None:
        """Re-mark, tell and store as the module docstring says, once every ``mark_seconds``
        (or now, with ``force``)."""
        now = time.monotonic()
        if book is None or (not force and now - self._marked_at < self._mark_seconds):
            return
        self._marked_at = now
        book.marked(prices)
        if desk is not None:
            for followed, live in list(desk.positions.items()):
                price = prices.get(live.symbol)
                if price is not None and live.state.quantity and price != live.mark_price:
                    desk.positions[followed] = live.marked_at(price)
        changed = [
            p
            for p in book.open.values()
            if (force or p.set_id.endswith("/trailing")) and self._saved.get(p.id) != p.state
        ]
        if changed:  # (their fills were kept whole: only their running state moved since)
            self._writer.put_running(changed)
            self._saved.update({p.id: p.state for p in changed})
        moved = self._marker.moved(holdings(book, desk))
        if moved:
            self._publish(PositionMarks(self._connection_id, tuple(moved)))

    async def flush(
        self, book: Book | None, desk: LiveDesk | None, prices: Mapping[str, Decimal]
    ) -> None:
        """Mark now, then wait until every position change so far is stored (and told)."""
        self.mark(book, desk, prices, force=True)
        await self.stored()

    async def stored(self) -> None:
        """Wait until every position change so far is stored (and told), without a mark."""
        await self._writer.flush()


__all__ = ["Keeper", "holdings"]
