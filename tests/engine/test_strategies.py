"""Strategies walking scripted price paths, and the presets.

Each walk feeds prices one by one and checks the exact orders at the exact steps, the state in
between and the Decimal PnL at the end. The arithmetic is in the comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from server.connections.vocabulary import PresetType
from server.engine.presets import (
    AGGRESSIVE,
    CONSERVATIVE,
    DEFAULT,
    BlockParams,
    DcaParams,
    DirectionParams,
    StrategyParams,
    TrailingParams,
    preset_for,
)
from server.engine.strategies import (
    Action,
    Add,
    Close,
    CloseReason,
    Open,
    Position,
    Side,
    open_position,
    realized_pnl,
    safety_order_deviation,
    step,
    unrealized_pnl,
)
from server.errors import InvalidArgument

D = Decimal


def walk(
    position: Position,
    params: StrategyParams,
    path: Sequence[tuple[str, bool]],
) -> tuple[list[Position | None], list[list[Action]]]:
    """Feed (price, signal_confirms) pairs; return the state and the actions after each."""
    states: list[Position | None] = []
    actions: list[list[Action]] = []
    state: Position | None = position
    for price, confirms in path:
        assert state is not None, "the walk goes on after a close"
        state, done = step(state, D(price), params, confirms)
        states.append(state)
        actions.append(done)
    return states, actions


# Trailing: arms at +3 %, trails 2 % behind the best price; TP 10 %, SL 5 % from the entry.

TRAILING = TrailingParams(
    base_value=D(100),
    take_profit=D("0.10"),
    stop_loss=D("0.05"),
    arm_at=D("0.03"),
    distance=D("0.02"),
)


def test_trailing_long_arms_follows_and_closes_on_the_retrace() -> None:
    # Volume factor 2: value 100 * 2 = 200 at 100 -> quantity 2.
    position, opened = open_position(Side.LONG, D(100), TRAILING, volume_factor=D(2))
    assert opened == [Open(Side.LONG, D(2))]
    states, actions = walk(
        position,
        TRAILING,
        [
            ("102", False),  # best 102 < arm level 100 * 1.03 = 103: not armed
            ("104", False),  # best 104 >= 103: armed; stop 104 * 0.98 = 101.92 < 104
            ("105", False),  # best 105; stop 105 * 0.98 = 102.90
            ("103", False),  # best stays 105; 103 > 102.90: hold
            ("102.9", False),  # 102.9 <= 102.90: trailing stop
        ],
    )
    assert actions == [[], [], [], [], [Close(CloseReason.TRAILING_STOP)]]
    first, second, third, fourth, closed = states
    assert first is not None and not first.trailing_armed and first.best_price == D(102)
    assert second is not None and second.trailing_armed and second.best_price == D(104)
    assert third is not None and third.trailing_armed and third.best_price == D(105)
    assert fourth == third  # a retrace short of the stop changes nothing
    assert closed is None
    # PnL: (102.9 - 100) * 2 = 5.8
    assert fourth is not None and realized_pnl(fourth, D("102.9")) == D("5.8")


def test_trailing_short_takes_profit() -> None:
    # 100 at 200 -> quantity 0.5. TP level 200 * (1 - 0.10) = 180; arm level 200 * 0.97 = 194.
    position, opened = open_position(Side.SHORT, D(200), TRAILING)
    assert opened == [Open(Side.SHORT, D("0.5"))]
    states, actions = walk(
        position,
        TRAILING,
        [
            ("195", False),  # best 195 > 194: not armed
            ("190", False),  # best 190: armed; stop 190 * 1.02 = 193.8
            ("185", False),  # best 185; stop 185 * 1.02 = 188.7
            ("180", False),  # 180 <= 180: take-profit
        ],
    )
    assert actions == [[], [], [], [Close(CloseReason.TAKE_PROFIT)]]
    last_open = states[2]
    assert last_open is not None and last_open.trailing_armed
    # Unrealized at 185: -1 * (185 - 200) * 0.5 = 7.5; realized at 180: -1 * (180 - 200) * 0.5 = 10
    assert unrealized_pnl(last_open, D(185)) == D("7.5")
    assert realized_pnl(last_open, D(180)) == D(10)


def test_trailing_stop_loss_before_arming() -> None:
    # SL level 100 * 0.95 = 95. Quantity 1.
    position, _ = open_position(Side.LONG, D(100), TRAILING)
    states, actions = walk(position, TRAILING, [("102", False), ("97", False), ("95", False)])
    assert actions == [[], [], [Close(CloseReason.STOP_LOSS)]]
    # PnL: (95 - 100) * 1 = -5, less 0.2 of fees = -5.2
    before = states[1]
    assert before is not None and realized_pnl(before, D(95), fees=D("0.2")) == D("-5.2")


# Block: 3 blocks at most; TP 25 %, SL 20 % from the average price.

BLOCK = BlockParams(base_value=D("76.5"), max_blocks=3, take_profit=D("0.25"), stop_loss=D("0.2"))


def test_block_adds_on_confirmation_and_stops_out_from_the_average() -> None:
    # Block value 76.5 * volume factor 2 = 153. At 90: 153 / 90 = 1.7.
    position, opened = open_position(Side.LONG, D(90), BLOCK, volume_factor=D(2))
    assert opened == [Open(Side.LONG, D("1.7"))]
    states, actions = walk(
        position,
        BLOCK,
        [
            ("95", False),  # no confirmation: nothing
            # 153 / 102 = 1.5; quantity 3.2; average (1.7 * 90 + 1.5 * 102) / 3.2
            # = (153 + 153) / 3.2 = 95.625
            ("102", True),
            # Exits first: SL 95.625 * 0.8 = 76.5 < 85, TP 119.53 > 85.
            # 153 / 85 = 1.8; quantity 5; average (3.2 * 95.625 + 1.8 * 85) / 5
            # = (306 + 153) / 5 = 91.8
            ("85", True),
            ("88", True),  # 3 blocks held = max_blocks: nothing
            ("73.44", False),  # SL 91.8 * 0.8 = 73.44: stop-loss
        ],
    )
    assert actions == [
        [],
        [Add(D("1.5"))],
        [Add(D("1.8"))],
        [],
        [Close(CloseReason.STOP_LOSS)],
    ]
    two, three = states[1], states[2]
    assert two is not None and two.blocks == 2 and two.quantity == D("3.2")
    assert two.average_price == D("95.625")
    assert three is not None and three.blocks == 3 and three.quantity == D(5)
    assert three.average_price == D("91.8")
    assert states[3] == three  # nothing changed at 88 (best price stays 102)
    assert states[4] is None
    # PnL: (73.44 - 91.8) * 5 = -18.36 * 5 = -91.8
    assert realized_pnl(three, D("73.44")) == D("-91.8")


def test_block_short_takes_profit_with_a_single_block() -> None:
    single = BlockParams(
        base_value=D(100), max_blocks=1, take_profit=D("0.05"), stop_loss=D("0.05")
    )
    # 100 at 100 -> quantity 1; TP level 100 * 0.95 = 95.
    position, _ = open_position(Side.SHORT, D(100), single)
    states, actions = walk(position, single, [("98", True), ("95", True)])
    assert actions == [[], [Close(CloseReason.TAKE_PROFIT)]]
    # PnL: -1 * (95 - 100) * 1 = 5
    held = states[0]
    assert held is not None and held.blocks == 1
    assert realized_pnl(held, D(95)) == D(5)


# DCA: first safety order 25 % below the entry, next step 1.2 times larger; sizes times 3.

DCA = DcaParams(
    base_value=D(100),
    step=D("0.25"),
    step_scale=D("1.2"),
    multiplier=D(3),
    max_safety_orders=2,
    take_profit=D("0.10"),
    stop_loss=D("0.10"),
)


def test_safety_order_deviations() -> None:
    # D_1 = 0.25; D_2 = 0.25 * (1 + 1.2) = 0.55; D_3 = 0.25 * (1 + 1.2 + 1.44) = 0.91
    assert [safety_order_deviation(n, DCA) for n in (1, 2, 3)] == [D("0.25"), D("0.55"), D("0.91")]


def dca_to_the_last_safety_order() -> tuple[Position, list[list[Action]]]:
    position, opened = open_position(Side.LONG, D(100), DCA)  # 100 / 100 = 1
    assert opened == [Open(Side.LONG, D(1))]
    states, actions = walk(
        position,
        DCA,
        [
            ("80", False),  # level 1 = 100 * (1 - 0.25) = 75: not reached
            # SO1 value 100 * 3 = 300, 300 / 75 = 4; quantity 5; average (100 + 300) / 5 = 80
            ("75", False),
            # -25 % from the average 80, beyond the 10 % stop-loss: no stop while safety
            # orders remain. Level 2 = 100 * (1 - 0.55) = 45: not reached. TP 80 * 1.1 = 88.
            ("60", False),
            # SO2 value 100 * 3**2 = 900, 900 / 45 = 20; quantity 25;
            # average (100 + 300 + 900) / 25 = 1300 / 25 = 52
            ("45", False),
        ],
    )
    assert actions == [[], [Add(D(4))], [], [Add(D(20))]]
    one = states[1]
    assert one is not None and one.safety_orders == 1 and one.average_price == D(80)
    last = states[3]
    assert last is not None and last.safety_orders == 2
    assert last.quantity == D(25) and last.average_price == D(52)
    return last, actions


def test_dca_takes_profit_from_the_average() -> None:
    position, _ = dca_to_the_last_safety_order()
    # TP 52 * 1.1 = 57.2; SL 52 * 0.9 = 46.8.
    states, actions = walk(position, DCA, [("50", False), ("57.2", False)])
    assert actions == [[], [Close(CloseReason.TAKE_PROFIT)]]
    held = states[0]
    assert held is not None
    # Unrealized at 50: (50 - 52) * 25 = -50; realized at 57.2: (57.2 - 52) * 25 = 130
    assert unrealized_pnl(held, D(50)) == D(-50)
    assert realized_pnl(held, D("57.2")) == D(130)


def test_dca_stops_out_only_after_the_last_safety_order() -> None:
    position, _ = dca_to_the_last_safety_order()
    states, actions = walk(position, DCA, [("46.8", False)])
    assert states == [None]
    assert actions == [[Close(CloseReason.STOP_LOSS)]]
    # PnL: (46.8 - 52) * 25 = -130
    assert realized_pnl(position, D("46.8")) == D(-130)


def test_dca_places_one_safety_order_per_step_after_a_gap() -> None:
    position, _ = open_position(Side.LONG, D(100), DCA)
    # 40 is past both levels (75 and 45): SO1 now (300 / 40 = 7.5), SO2 on the next step
    # (900 / 40 = 22.5), then nothing more (max 2).
    _, actions = walk(position, DCA, [("40", False), ("40", False), ("40", False)])
    assert actions == [[Add(D("7.5"))], [Add(D("22.5"))], []]


def test_dca_short_safety_order_above_the_entry() -> None:
    position, _ = open_position(Side.SHORT, D(100), DCA)
    # Short: level 1 = 100 * (1 + 0.25) = 125; SO1 300 / 125 = 2.4.
    states, actions = walk(position, DCA, [("124", False), ("125", False)])
    assert actions == [[], [Add(D("2.4"))]]
    added = states[1]
    assert added is not None and added.quantity == D("3.4")


# Guards.


def test_prices_and_volume_factor_must_be_positive() -> None:
    position, _ = open_position(Side.LONG, D(100), TRAILING)
    for bad in (D(0), D(-1), D("NaN"), D("Infinity")):
        with pytest.raises(InvalidArgument):
            step(position, bad, TRAILING, False)
    with pytest.raises(InvalidArgument):
        open_position(Side.LONG, D(0), TRAILING)
    with pytest.raises(InvalidArgument) as caught:
        open_position(Side.LONG, D(100), TRAILING, volume_factor=D(0))
    assert caught.value.violations[0].field == "volume_factor"


# Presets.


def test_preset_lookup() -> None:
    assert preset_for(PresetType.DEFAULT) is DEFAULT
    assert preset_for("conservative") is CONSERVATIVE
    assert preset_for("aggressive") is AGGRESSIVE
    for preset_type in PresetType:
        assert preset_for(preset_type).preset_type == preset_type
    with pytest.raises(InvalidArgument) as caught:
        preset_for("reckless")
    assert caught.value.violations[0].field == "preset_type"


def test_presets_order_by_risk() -> None:
    # Conservative trades smaller and demands more evidence than aggressive.
    assert CONSERVATIVE.block.base_value < DEFAULT.block.base_value < AGGRESSIVE.block.base_value
    assert CONSERVATIVE.optimal.min_positions > AGGRESSIVE.optimal.min_positions
    assert CONSERVATIVE.direction.threshold > AGGRESSIVE.direction.threshold


def test_parameters_are_validated() -> None:
    with pytest.raises(InvalidArgument) as caught:
        DirectionParams(fast=5, slow=5, threshold=0.01)
    assert caught.value.violations[0].field == "direction.slow"
    with pytest.raises(InvalidArgument):
        BlockParams(base_value=D(10), max_blocks=0, take_profit=D("0.1"), stop_loss=D("0.1"))
