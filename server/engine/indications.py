"""Indications: per-symbol signals computed from recent bars, for many symbols at once.

Inputs are 2-D arrays shaped (symbols, bars), oldest bar first, the last column the latest
closed bar. Every result holds one value per symbol (row), and each row's value depends only
on that row, so the answer for a symbol is the same whether it is computed alone or with others.
Signal math is float64 (indicators, not money); Optimal judges money results, in Decimal.

Rules shared by every indication:
- A symbol with fewer bars than the indication needs gets no signal (side 0, strength 0,
  False).
- A symbol with any close in the bars used that is NaN, infinite, zero or negative gets no
  signal; NaN never reaches a result.
- Thresholds are strict ("more than"), except the volume surge, which is "at least".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from server.engine.presets import (
    ActiveAdvancedParams,
    ActiveParams,
    DirectionParams,
    MoveParams,
    OptimalParams,
)
from server.errors import InvalidArgument

Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]
Sides = NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class SideSignal:
    """Per symbol: ``side`` +1 long, -1 short, 0 none; ``strength`` the size of the measured
    fraction (never negative; 0 without data). Strength is reported below the threshold too."""

    side: Sides
    strength: Floats


@dataclass(frozen=True, slots=True)
class ActiveSignal:
    """Per symbol: whether the market is active, and the volatility that decided it."""

    active: Flags
    volatility: Floats


@dataclass(frozen=True, slots=True)
class ActiveAdvancedSignal:
    """Per symbol: ``active`` is all three confirmations together."""

    active: Flags
    base_active: Flags
    higher_active: Flags
    volume_surge: Flags


def _matrix(values: ArrayLike, field: str) -> Floats:
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2:
        raise InvalidArgument.field(field, "must be a 2-D array shaped (symbols, bars)")
    return matrix


def _usable(window: Floats) -> Flags:
    """Rows whose every price is finite and positive."""
    usable: Flags = np.all(np.isfinite(window) & (window > 0), axis=1)
    return usable


def _side_signal(fraction: Floats, usable: Flags, threshold: float) -> SideSignal:
    fraction = np.where(usable, fraction, 0.0)
    strength = np.abs(fraction)
    side = np.where(strength > threshold, np.sign(fraction), 0.0).astype(np.int8)
    return SideSignal(side=side, strength=strength)


def _no_side(symbols: int) -> SideSignal:
    return SideSignal(side=np.zeros(symbols, np.int8), strength=np.zeros(symbols, np.float64))


def direction(closes: ArrayLike, params: DirectionParams) -> SideSignal:
    """Trend side and strength.

    ``fraction = (SMA(fast) - SMA(slow)) / last close``, where SMA(n) is the mean of the last n
    closes. Side is the sign of the fraction when ``|fraction| > threshold``, else 0; strength
    is ``|fraction|``. Needs ``slow`` bars.
    """
    matrix = _matrix(closes, "closes")
    symbols, bars = matrix.shape
    if bars < params.slow:
        return _no_side(symbols)
    window = matrix[:, -params.slow :]
    usable = _usable(window)
    window = np.where(usable[:, None], window, 1.0)  # keeps NaN out of the arithmetic
    fast = window[:, -params.fast :].mean(axis=1)
    slow = window.mean(axis=1)
    return _side_signal((fast - slow) / window[:, -1], usable, params.threshold)


def move(closes: ArrayLike, params: MoveParams) -> SideSignal:
    """Side of a large recent move.

    ``fraction = close[-1] / close[-1 - window] - 1`` (close to close over ``window`` bars).
    Side is its sign when ``|fraction| > threshold``, else 0; strength is ``|fraction|``.
    Needs ``window + 1`` bars, all usable.
    """
    matrix = _matrix(closes, "closes")
    symbols, bars = matrix.shape
    if bars < params.window + 1:
        return _no_side(symbols)
    window = matrix[:, -(params.window + 1) :]
    usable = _usable(window)
    window = np.where(usable[:, None], window, 1.0)
    return _side_signal(window[:, -1] / window[:, 0] - 1.0, usable, params.threshold)


def active(closes: ArrayLike, params: ActiveParams) -> ActiveSignal:
    """Whether the market moves enough to trade.

    ``volatility`` is the sample standard deviation (ddof=1) of the last ``window`` simple
    returns ``r_t = close_t / close_{t-1} - 1``; active when ``volatility > threshold``.
    Needs ``window + 1`` bars, all usable.
    """
    matrix = _matrix(closes, "closes")
    symbols, bars = matrix.shape
    if bars < params.window + 1:
        return ActiveSignal(np.zeros(symbols, np.bool_), np.zeros(symbols, np.float64))
    window = matrix[:, -(params.window + 1) :]
    usable = _usable(window)
    window = np.where(usable[:, None], window, 1.0)
    returns = window[:, 1:] / window[:, :-1] - 1.0
    volatility = np.where(usable, returns.std(axis=1, ddof=1), 0.0)
    return ActiveSignal(active=volatility > params.threshold, volatility=volatility)


def aggregate_closes(closes: ArrayLike, factor: int) -> Floats:
    """Closes of bars ``factor`` times longer, anchored at the last bar.

    Higher bar j ends at base bar ``bars - 1 - factor * j``, so the latest higher bar is the
    last ``factor`` base bars and always complete; its close is the close of its last base bar.
    Columns are oldest first. (No timestamps here, so no wall-clock alignment.)
    """
    matrix = _matrix(closes, "closes")
    bars = matrix.shape[1]
    if bars == 0:
        return matrix
    return matrix[:, (bars - 1) % factor :: factor]


def volume_surge(volumes: ArrayLike, lookback: int, multiplier: float) -> Flags:
    """``volume[-1] >= multiplier * mean(volume[-1 - lookback : -1])`` and ``volume[-1] > 0``.

    Needs ``lookback + 1`` bars, each finite and not negative (zero volume is allowed).
    """
    matrix = _matrix(volumes, "volumes")
    symbols, bars = matrix.shape
    if bars < lookback + 1:
        return np.zeros(symbols, np.bool_)
    window = matrix[:, -(lookback + 1) :]
    usable = np.all(np.isfinite(window) & (window >= 0), axis=1)
    window = np.where(usable[:, None], window, 0.0)
    last = window[:, -1]
    reference = window[:, :-1].mean(axis=1)
    surge: Flags = usable & (last > 0) & (last >= multiplier * reference)
    return surge


def active_advanced(
    closes: ArrayLike, volumes: ArrayLike, params: ActiveAdvancedParams
) -> ActiveAdvancedSignal:
    """Active, confirmed on a higher timeframe and by volume.

    Active if all three hold: ``active(closes, params.active)``;
    ``active(aggregate_closes(closes, factor), params.higher)``; and
    ``volume_surge(volumes, volume_lookback, volume_multiplier)``.
    Closes and volumes must have the same shape.
    """
    close_matrix = _matrix(closes, "closes")
    volume_matrix = _matrix(volumes, "volumes")
    if close_matrix.shape != volume_matrix.shape:
        raise InvalidArgument.field("volumes", "must have the same shape as closes")
    base = active(close_matrix, params.active).active
    higher = active(aggregate_closes(close_matrix, params.factor), params.higher).active
    surge = volume_surge(volume_matrix, params.volume_lookback, params.volume_multiplier)
    return ActiveAdvancedSignal(
        active=base & higher & surge, base_active=base, higher_active=higher, volume_surge=surge
    )


# Optimal: which parameter sets of the signals above performed best.

INFINITE = Decimal("Infinity")


def profit_factor(pnls: Sequence[Decimal]) -> Decimal:
    """Gross profit / gross loss of closed positions' PnLs.

    Gross profit is the sum of the positive PnLs, gross loss the negated sum of the negative
    ones. No losses: ``Infinity`` if there was any profit, else 0 (nothing earned).
    """
    gross_profit = sum((p for p in pnls if p > 0), Decimal(0))
    gross_loss = -sum((p for p in pnls if p < 0), Decimal(0))
    if gross_loss == 0:
        return INFINITE if gross_profit > 0 else Decimal(0)
    return gross_profit / gross_loss


def optimal(results: Mapping[str, Sequence[Decimal]], params: OptimalParams) -> tuple[str, ...]:
    """Ids of the optimal parameter sets, best first.

    ``results`` maps a parameter set's id to its closed pseudo positions' PnLs, oldest first.
    Only each set's last ``lookback`` PnLs are judged. A set is eligible when it has at least
    ``min_positions`` of them (also when it has no losses) and its profit factor is at least
    ``min_profit_factor``. Eligible sets are ranked by profit factor, then net PnL (higher
    first), then id (for a stable order); the first ``top_k`` are optimal.
    """
    ranked: list[tuple[Decimal, Decimal, str]] = []
    for set_id, pnls in results.items():
        recent = list(pnls)[-params.lookback :]
        if len(recent) < params.min_positions:
            continue
        factor = profit_factor(recent)
        if factor >= params.min_profit_factor:
            ranked.append((-factor, -sum(recent, Decimal(0)), set_id))
    ranked.sort()
    return tuple(set_id for _, _, set_id in ranked[: params.top_k])
