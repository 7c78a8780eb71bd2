"""The quiet band: the prices at which a strategy step changes nothing, exactly.

The engine skips positions whose price stays inside their band, so the band must never hold a
price at which :func:`step` would do anything (property-tested over every preset's parameters,
both sides, armed or not, any adds), and it must be tight: just beyond either bound, the step
does something.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.connections.vocabulary import PresetType
from server.engine.presets import StrategyParams, preset_for
from server.engine.strategies import Position, Side, quiet_band, step

D = Decimal
PARAMS: list[StrategyParams] = [
    getattr(preset_for(kind), strategy)
    for kind in PresetType
    for strategy in ("trailing", "block", "dca")
]
prices = st.decimals(min_value=D("50"), max_value=D("150"), places=4)


@st.composite
def positions(draw: st.DrawFn) -> tuple[Position, StrategyParams]:
    params = draw(st.sampled_from(PARAMS))
    side = draw(st.sampled_from([Side.LONG, Side.SHORT]))
    entry = draw(prices)
    average = draw(st.one_of(st.just(entry), prices))
    # The best price seen is at or beyond the entry in the position's favour.
    beyond = draw(st.decimals(min_value=D(0), max_value=D("0.05"), places=4))
    best = entry * (1 + side * beyond)
    position = Position(
        side=side,
        quantity=draw(st.decimals(min_value=D("0.001"), max_value=D(10), places=6)),
        average_price=average,
        entry_price=entry,
        order_value=D(10),
        best_price=best,
        adds=draw(st.integers(min_value=0, max_value=4)),
        trailing_armed=draw(st.booleans()),
    )
    return position, params


@settings(max_examples=300, deadline=None)
@given(positions(), prices)
def test_a_price_inside_the_band_changes_nothing(
    held: tuple[Position, StrategyParams], price: Decimal
) -> None:
    position, params = held
    band = quiet_band(position, params)
    if band is None or not band[0] < position.side * price < band[1]:
        return  # outside the band the engine steps as before: nothing to check here
    assert step(position, price, params, False) == (position, [])


@settings(max_examples=300, deadline=None)
@given(positions())
def test_just_beyond_either_bound_the_step_does_something(
    held: tuple[Position, StrategyParams],
) -> None:
    position, params = held
    band = quiet_band(position, params)
    if band is None:
        return
    low, high = band
    nudge = D("0.0001")
    for favourable in (high + nudge, low - nudge):
        price = position.side * favourable
        if not price > 0 or not favourable.is_finite():
            continue
        assert step(position, price, params, False) != (position, [])


def test_a_trailing_stop_still_to_arm_on_its_best_price_has_no_band() -> None:
    params = preset_for("default").trailing
    at = D(100)
    best = at * (1 + params.arm_at)  # reached the arming level, not armed yet
    position = Position(Side.LONG, D(1), at, at, D(10), best)
    assert quiet_band(position, params) is None
    state, actions = step(position, best, params, False)
    assert actions == [] and state is not None and state.trailing_armed
