"""Indications against hand-computed numbers, several symbols at once.

Each vectorised test also computes every symbol alone (a one-row matrix) and checks the answer
is identical: a symbol's signal never depends on the other rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pytest

from server.engine.indications import (
    INFINITE,
    ActiveSignal,
    SideSignal,
    active,
    active_advanced,
    aggregate_closes,
    direction,
    move,
    optimal,
    profit_factor,
    volume_surge,
)
from server.engine.presets import (
    ActiveAdvancedParams,
    ActiveParams,
    DirectionParams,
    MoveParams,
    OptimalParams,
)
from server.errors import InvalidArgument

NAN = math.nan


def assert_side_rows_alone(fn: Callable[[np.ndarray], SideSignal], closes: np.ndarray) -> None:
    together = fn(closes)
    for row in range(closes.shape[0]):
        alone = fn(closes[row : row + 1])
        assert alone.side[0] == together.side[row]
        assert alone.strength[0] == together.strength[row]


# Direction (fast=2, slow=4, threshold=0.01).

DIRECTION = DirectionParams(fast=2, slow=4, threshold=0.01)


def test_direction_per_symbol() -> None:
    closes = np.array(
        [
            # Only the last 4 bars count (the 50 is ignored).
            # fast = (12 + 12) / 2 = 12; slow = (10 + 10 + 12 + 12) / 4 = 11
            # fraction = (12 - 11) / 12 = 0.08333 > 0.01 -> long
            [50.0, 10, 10, 12, 12],
            # fast = 10; slow = 11; fraction = (10 - 11) / 10 = -0.1 -> short
            [0.0, 12, 12, 10, 10],
            # fast = (100 + 100.5) / 2 = 100.25; slow = 400.5 / 4 = 100.125
            # fraction = 0.125 / 100.5 = 0.0012438 <= 0.01 -> none (strength still reported)
            [100.0, 100, 100, 100, 100.5],
        ]
    )
    signal = direction(closes, DIRECTION)
    assert signal.side.tolist() == [1, -1, 0]
    assert signal.strength.tolist() == pytest.approx([1 / 12, 0.1, 0.125 / 100.5])
    assert_side_rows_alone(lambda m: direction(m, DIRECTION), closes)


def test_direction_edge_cases() -> None:
    # Three bars are fewer than slow=4: no signal for anyone.
    short = direction(np.array([[10.0, 11, 12], [12.0, 11, 10]]), DIRECTION)
    assert short.side.tolist() == [0, 0]
    assert short.strength.tolist() == [0.0, 0.0]
    closes = np.array(
        [
            [7.0, 7, 7, 7],  # flat: fast = slow = 7, fraction 0
            [10.0, 0, 12, 12],  # a zero price in the window
            [10.0, NAN, 12, 12],  # a NaN in the window
            [10.0, 10, 12, -12],  # a negative price
            [10.0, 10, 12, 12],  # usable: long, as in the test above
        ]
    )
    signal = direction(closes, DIRECTION)
    assert signal.side.tolist() == [0, 0, 0, 0, 1]
    assert signal.strength.tolist()[:4] == [0.0, 0.0, 0.0, 0.0]
    assert not np.isnan(signal.strength).any()
    # A NaN before the window does not matter.
    before = direction(np.array([[NAN, 10, 10, 12, 12]]), DIRECTION)
    assert before.side.tolist() == [1]


def test_direction_threshold_is_strict() -> None:
    # fast = 12, slow = 11.5 (closes 11, 11, 12, 12 -> 46 / 4), fraction = 0.5 / 12 = 0.041666
    # Exactly at the threshold: no side; just below it: long.
    closes = np.array([[11.0, 11, 12, 12]])
    at = DirectionParams(fast=2, slow=4, threshold=0.5 / 12)
    assert direction(closes, at).side.tolist() == [0]
    below = DirectionParams(fast=2, slow=4, threshold=0.04)
    assert direction(closes, below).side.tolist() == [1]


def test_input_must_be_a_matrix() -> None:
    with pytest.raises(InvalidArgument) as caught:
        direction(np.array([1.0, 2, 3, 4]), DIRECTION)
    assert caught.value.violations[0].field == "closes"


# Move (window=3, threshold=0.05).

MOVE = MoveParams(window=3, threshold=0.05)


def test_move_per_symbol() -> None:
    closes = np.array(
        [
            # window + 1 = 4 bars: 110 / 100 - 1 = 0.10 > 0.05 -> up
            [90.0, 100, 104, 106, 110],
            # 180 / 200 - 1 = -0.10 -> down
            [100.0, 200, 190, 185, 180],
            # 52 / 50 - 1 = 0.04 <= 0.05 -> none, strength 0.04
            [10.0, 50, 51, 52, 52],
        ]
    )
    signal = move(closes, MOVE)
    assert signal.side.tolist() == [1, -1, 0]
    assert signal.strength.tolist() == pytest.approx([0.10, 0.10, 0.04])
    assert_side_rows_alone(lambda m: move(m, MOVE), closes)


def test_move_edge_cases() -> None:
    # Three bars, window + 1 = 4 needed.
    assert move(np.array([[100.0, 50, 10]]), MOVE).side.tolist() == [0]
    closes = np.array(
        [
            [5.0, 5, 5, 5],  # flat
            [0.0, 100, 104, 110],  # zero where the move starts: no division by zero
            [100.0, 104, NAN, 110],  # NaN inside the window
            [100.0, 104, 106, math.inf],  # infinity
        ]
    )
    signal = move(closes, MOVE)
    assert signal.side.tolist() == [0, 0, 0, 0]
    assert signal.strength.tolist() == [0.0, 0.0, 0.0, 0.0]


# Active (window=3 returns, threshold=0.01).

ACTIVE = ActiveParams(window=3, threshold=0.01)


def test_active_per_symbol() -> None:
    closes = np.array(
        [
            # Last 4 closes 100, 110, 99, 108.9 -> returns r = 0.1, -0.1, 0.1.
            # mean = 0.1 / 3; deviations 0.2/3, -0.4/3, 0.2/3; squares sum = 0.24 / 9
            # sample variance = (0.24 / 9) / 2 = 0.013333; std = 0.2 / sqrt(3) = 0.11547 > 0.01
            [1.0, 100, 110, 99, 108.9],
            # Flat: returns 0, 0, 0 -> std 0 -> not active.
            [3.0, 100, 100, 100, 100],
            # A steady trend, +1 % each bar: returns 0.01, 0.01, 0.01 -> std 0 (float noise).
            [1.0, 100, 101, 102.01, 103.0301],
        ]
    )
    signal = active(closes, ACTIVE)
    assert signal.active.tolist() == [True, False, False]
    assert signal.volatility[0] == pytest.approx(0.2 / math.sqrt(3))
    assert signal.volatility[1] == 0.0
    assert signal.volatility[2] == pytest.approx(0.0, abs=1e-12)
    for row in range(closes.shape[0]):
        alone: ActiveSignal = active(closes[row : row + 1], ACTIVE)
        assert alone.active[0] == signal.active[row]
        assert alone.volatility[0] == signal.volatility[row]


def test_active_edge_cases() -> None:
    # window + 1 = 4 closes needed, 3 given.
    short = active(np.array([[100.0, 120, 80]]), ACTIVE)
    assert short.active.tolist() == [False]
    closes = np.array(
        [
            [100.0, 0, 110, 99],  # zero price
            [100.0, 110, NAN, 99],  # NaN
        ]
    )
    signal = active(closes, ACTIVE)
    assert signal.active.tolist() == [False, False]
    assert signal.volatility.tolist() == [0.0, 0.0]


# Active Advanced.


def test_aggregate_closes_is_anchored_at_the_last_bar() -> None:
    # 7 bars, factor 3: higher bars end at bars 6, 3, 0 -> closes 1, 4, 7.
    assert aggregate_closes(np.array([[1.0, 2, 3, 4, 5, 6, 7]]), 3).tolist() == [[1, 4, 7]]
    # 8 bars: they end at bars 7, 4, 1 -> closes 2, 5, 8 (the latest is bars 6..8, complete).
    assert aggregate_closes(np.array([[1.0, 2, 3, 4, 5, 6, 7, 8]]), 3).tolist() == [[2, 5, 8]]


def test_volume_surge() -> None:
    volumes = np.array(
        [
            # Reference = mean(10, 20, 30) = 20; 120 >= 2 * 20 -> surge
            [5.0, 10, 20, 30, 120],
            # 40 >= 40: "at least" -> surge
            [5.0, 10, 20, 30, 40],
            # 39 < 40 -> no surge
            [5.0, 10, 20, 30, 39],
            # No volume at all: never a surge (0 >= 2 * 0 would be meaningless)
            [0.0, 0, 0, 0, 0],
            # Volume after none: reference 0, 5 > 0 -> surge
            [0.0, 0, 0, 0, 5],
            # NaN in the lookback
            [5.0, 10, NAN, 30, 120],
        ]
    )
    surge = volume_surge(volumes, lookback=3, multiplier=2.0)
    assert surge.tolist() == [True, True, False, False, True, False]
    for row in range(volumes.shape[0]):
        assert volume_surge(volumes[row : row + 1], 3, 2.0)[0] == surge[row]
    # lookback + 1 = 4 bars needed.
    assert volume_surge(np.array([[1.0, 1, 100]]), 3, 2.0).tolist() == [False]


ADVANCED = ActiveAdvancedParams(
    active=ActiveParams(window=2, threshold=0.01),
    factor=2,
    higher=ActiveParams(window=2, threshold=0.01),
    volume_lookback=2,
    volume_multiplier=2.0,
)


def test_active_advanced_needs_all_three() -> None:
    # Base: last 3 closes. Higher (factor 2, 5 bars): bars 0, 2, 4.
    # Sample std of two returns (a, b) is |a - b| / sqrt(2).
    closes = np.array(
        [
            # base 100, 100, 110: returns 0, 0.1 -> std 0.0707 > 0.01 active
            # higher 100, 100, 110: the same -> active
            [100.0, 105, 100, 100, 110],
            # base 100, 110, 100: returns 0.1, -0.0909 -> std 0.135 active
            # higher 100, 100, 100: returns 0, 0 -> std 0 -> not active
            [100.0, 100, 100, 110, 100],
            # As the first symbol, but without a volume surge.
            [100.0, 105, 100, 100, 110],
        ]
    )
    volumes = np.array(
        [
            [1.0, 1, 10, 10, 50],  # reference mean(10, 10) = 10; 50 >= 20 -> surge
            [1.0, 1, 10, 10, 50],  # surge
            [1.0, 1, 10, 10, 15],  # 15 < 20 -> none
        ]
    )
    signal = active_advanced(closes, volumes, ADVANCED)
    assert signal.base_active.tolist() == [True, True, True]
    assert signal.higher_active.tolist() == [True, False, True]
    assert signal.volume_surge.tolist() == [True, True, False]
    assert signal.active.tolist() == [True, False, False]
    for row in range(closes.shape[0]):
        alone = active_advanced(closes[row : row + 1], volumes[row : row + 1], ADVANCED)
        assert alone.active[0] == signal.active[row]


def test_active_advanced_edge_cases() -> None:
    # 4 bars: the higher timeframe has only 2 closes (bars 1, 3); 3 are needed.
    closes = np.array([[105.0, 100, 100, 110]])
    volumes = np.array([[1.0, 10, 10, 50]])
    signal = active_advanced(closes, volumes, ADVANCED)
    assert signal.base_active.tolist() == [True]
    assert signal.higher_active.tolist() == [False]
    assert signal.active.tolist() == [False]
    with pytest.raises(InvalidArgument) as caught:
        active_advanced(closes, np.array([[1.0, 2, 3]]), ADVANCED)
    assert caught.value.violations[0].field == "volumes"


# Optimal.

D = Decimal


def test_profit_factor() -> None:
    # gross profit 10 + 10 + 5 = 25, gross loss 5 -> 5
    assert profit_factor([D(10), D(-5), D(10), D(5)]) == D(5)
    # 20 / (10 + 5) = 1.3333...
    assert profit_factor([D(10), D(-10), D(10), D(-5)]) == D(20) / D(15)
    assert profit_factor([D(3), D(3)]) == INFINITE  # no losses
    assert profit_factor([D(0), D(0)]) == D(0)  # nothing earned, nothing lost
    assert profit_factor([]) == D(0)
    assert profit_factor([D(-1)]) == D(0)


OPTIMAL = OptimalParams(lookback=4, min_positions=3, min_profit_factor=D("1.5"), top_k=2)

RESULTS = {
    # The -100 is older than the last 4 and ignored: [10, -5, 10, 5] -> PF 25 / 5 = 5, net 20
    "a": [D(-100), D(10), D(-5), D(10), D(5)],
    # No losses, 3 positions (the minimum) -> PF infinite, net 9: the best
    "b": [D(3), D(3), D(3)],
    # No losses but only 2 positions < 3: not judged, however good
    "c": [D(50), D(50)],
    # PF 20 / 15 = 1.33 < 1.5: not good enough
    "d": [D(10), D(-10), D(10), D(-5)],
    # PF 40 / 4 = 10, net 36
    "e": [D(20), D(-4), D(20)],
}


def test_optimal_ranks_by_profit_factor_and_keeps_top_k() -> None:
    # Eligible: b (inf), e (10), a (5); top 2.
    assert optimal(RESULTS, OPTIMAL) == ("b", "e")
    wider = OptimalParams(lookback=4, min_positions=3, min_profit_factor=D("1.5"), top_k=10)
    assert optimal(RESULTS, wider) == ("b", "e", "a")


def test_optimal_minimum_sample_applies_to_sets_without_losses() -> None:
    # With a minimum of 2, "c" (infinite PF, net 100) beats "b" (infinite PF, net 9).
    two = OptimalParams(lookback=4, min_positions=2, min_profit_factor=D("1.5"), top_k=2)
    assert optimal(RESULTS, two) == ("c", "b")
    # A minimum of 4: only "a" (4 judged of 5) and "d" (PF too low) have enough.
    four = OptimalParams(lookback=4, min_positions=4, min_profit_factor=D("1.5"), top_k=2)
    assert optimal(RESULTS, four) == ("a",)


def test_optimal_ties_break_on_net_pnl_then_id() -> None:
    results = {
        "x": [D(10), D(-5), D(10)],  # PF 20 / 5 = 4, net 15
        "y": [D(20), D(-10), D(20)],  # PF 40 / 10 = 4, net 30
        "w": [D(10), D(-5), D(10)],  # same as x
    }
    params = OptimalParams(lookback=3, min_positions=3, min_profit_factor=D(1), top_k=3)
    assert optimal(results, params) == ("y", "w", "x")


def test_optimal_with_nothing_eligible() -> None:
    assert optimal({}, OPTIMAL) == ()
    assert optimal({"d": RESULTS["d"]}, OPTIMAL) == ()
