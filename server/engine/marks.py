"""Open positions re-marked at the last prices: one event per engine, every ``mark_seconds``.

A fill goes out at once as the position it changed (:class:`PositionView`). Between fills an
open position changes only by the market moving: its mark (the last price, and the unrealised
PnL there) and, for a trailing stop, its best price and whether the stop is armed. An engine
tells those every ``mark_seconds`` in one :class:`PositionMarks` event, holding only the
positions whose mark or running state moved since it last told them. A thousand engines with
sixty open positions each then publish a thousand events per period, not sixty thousand, and
every watcher renders and receives one message per engine.

Marks are passing figures: the position stream does not keep them for replay
(``retain=False``), so they take no room from the fills a resuming client must not miss; a
resumed client has fresh marks within one period.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from server.engine.positions import PositionView
from server.streams.topic import Topic


@dataclass(frozen=True, slots=True)
class PositionMarks:
    """One engine's open positions whose mark or running state moved, as it holds them now."""

    connection_id: str
    positions: tuple[PositionView, ...]


#: What the position stream carries: a position changed by a fill, or an engine's re-marks.
PositionEvent = PositionView | PositionMarks

_Told = tuple[Decimal | None, Decimal, bool]


class Marker:
    """What one engine last told of each of its open positions' marks."""

    __slots__ = ("_told",)

    def __init__(self) -> None:
        self._told: dict[uuid.UUID, _Told] = {}

    def moved(self, held: Iterable[PositionView]) -> list[PositionView]:
        """The positions of ``held`` (every open one) whose mark, best price or armed stop
        differs from what was last told; remembers them as told (and forgets closed ones)."""
        told, now = self._told, {}
        moved = []
        for position in held:
            state = position.state
            figures = (position.mark_price, state.best_price, state.trailing_armed)
            now[position.id] = figures
            if told.get(position.id) != figures:
                moved.append(position)
        self._told = now
        return moved


def publish_position_event(topic: Topic[PositionEvent], event: PositionEvent) -> None:
    """Publish on the position stream: a position under its id (kept for replay), an engine's
    marks under its connection (not kept)."""
    if isinstance(event, PositionMarks):
        topic.publish(("marks", event.connection_id), event, retain=False)
    else:
        topic.publish(event.id, event)


__all__ = ["Marker", "PositionEvent", "PositionMarks", "publish_position_event"]
