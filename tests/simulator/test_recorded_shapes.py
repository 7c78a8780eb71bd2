"""The simulator's bodies against the key structure of real responses that ccxt's repository
records (``ts/src/test/static/response/<id>.json``), per exchange and endpoint CTS uses.

Each body comes from a real ``Simulator`` through unmodified ccxt, built as CTS builds it
(``create_ccxt``), making the calls CTS makes. Every key path of the recording must be in the
simulator's body, except the shape's ``left_out`` keys, each with its reason (also listed in
the README); a left-out key the simulator now sends fails the test too, so the list stays true.
"""

from __future__ import annotations

import pytest

from tests.simulator.recorded.capture import captured
from tests.simulator.recorded.registry import SHAPES
from tests.simulator.recorded.shapes import Shape


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.id)
def test_simulator_sends_the_recorded_keys(shape: Shape) -> None:
    bodies = captured(shape.exchange, shape.api_type).get((shape.call, shape.endpoint))
    assert bodies, f"ccxt's {shape.call} made no {shape.endpoint} request"
    sent: set[str] = set().union(*(shape.paths(body) for body in bodies))
    missing = shape.recorded - sent - set(shape.left_out)
    assert not missing, f"{shape.endpoint} lacks {sorted(missing)} (recorded: {shape.source})"
    stale = set(shape.left_out) & sent
    assert not stale, f"{sorted(stale)} are sent now: take them off the left-out list"


def test_left_out_keys_are_recorded_keys_with_reasons() -> None:
    assert len({shape.id for shape in SHAPES}) == len(SHAPES)
    for shape in SHAPES:
        assert set(shape.left_out) <= shape.recorded, shape.id
        assert all(reason.strip() for reason in shape.left_out.values()), shape.id
