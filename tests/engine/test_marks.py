"""Re-marks: a view marked at a price is exactly the view with that mark, and an engine's
marks event holds only the positions whose mark or running state moved since it last told."""

from __future__ import annotations

import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime
from decimal import Decimal as D

from server.engine.marks import Marker
from server.engine.positions import Mode, PositionView, Status
from server.engine.strategies import Position, Side


def view(symbol: str = "BTC/USDT", **changes: object) -> PositionView:
    state = Position(Side.LONG, D("0.5"), D("100.5"), D("100"), D("50"), D("101"), 2, True)
    made = PositionView(
        id=uuid.uuid4(),
        connection_id=str(uuid.uuid4()),
        mode=Mode.LIVE,
        set_id="trend/trailing",
        symbol=symbol,
        state=state,
        fees=D("0.03"),
        status=Status.CLOSED,
        exit_price=D("102"),
        realized_pnl=D("0.72"),
        close_reason="take_profit",
        follows=uuid.uuid4(),
        opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        closed_at=datetime(2026, 12, 2, tzinfo=UTC),
        mark_price=D("99"),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_marked_at_is_replace_with_the_mark_and_keeps_every_other_field() -> None:
    original = view()
    marked = original.marked_at(D("103.25"))
    assert marked == replace(original, mark_price=D("103.25"))
    assert marked is not original and original.mark_price == D("99")
    for f in fields(PositionView):
        if f.name != "mark_price":
            assert getattr(marked, f.name) is getattr(original, f.name), f.name


def test_restated_is_replace_with_the_state_and_the_mark_and_keeps_every_other_field() -> None:
    original = view()
    state = replace(original.state, best_price=D("107.5"), trailing_armed=True)
    restated = original.restated(state, D("106"))
    assert restated == replace(original, state=state, mark_price=D("106"))
    assert original.mark_price == D("99") and original.state is not state
    for f in fields(PositionView):
        if f.name not in ("state", "mark_price"):
            assert getattr(restated, f.name) is getattr(original, f.name), f.name


def test_a_marker_tells_only_what_moved_and_forgets_closed_positions() -> None:
    marker = Marker()
    a, b = view(status=Status.OPEN), view("ETH/USDT", status=Status.OPEN)
    assert marker.moved([a, b]) == [a, b]  # never told
    assert marker.moved([a, b]) == []  # nothing moved
    a2 = a.marked_at(D("104"))
    b2 = replace(b, state=replace(b.state, best_price=D("105")))  # a new best, same mark
    assert marker.moved([a2, b2]) == [a2, b2]
    b3 = replace(b2, state=replace(b2.state, trailing_armed=False))
    assert marker.moved([a2, b3]) == [b3]
    assert marker.moved([a2]) == []  # b closed
    assert marker.moved([a2, b3]) == [b3]  # told again had it come back: it was forgotten
