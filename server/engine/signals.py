"""Signals of an engine's symbols: the bars they are computed from, and one vectorised pass.

:class:`Bars` holds closes and volumes shaped (symbols, bars) — the loaded history, with the
current bar updated by every round of prices; :func:`compute` runs every indication of the
connection's preset over all symbols at once and returns each symbol's :class:`Signals`.
Engines that see the same bars share them (:mod:`server.engine.board`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from server.engine import indications
from server.engine.presets import Preset
from server.exchange.model import Candle, Ticker

TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}


@dataclass(frozen=True, slots=True)
class Signals:
    """The latest indications of one symbol."""

    direction: int
    direction_strength: float
    move: int
    move_strength: float
    active: bool
    active_advanced: bool
    # Optimal: the optimal parameter sets whose entry fires on this symbol now.
    optimal: tuple[str, ...] = ()


@dataclass
class Bars:
    """Closes and volumes of the engine's symbols: (symbols, bars), oldest first."""

    symbols: tuple[str, ...]
    closes: np.ndarray
    volumes: np.ndarray
    bar_start: float  # when the newest bar began (unix seconds)
    seconds: int

    @classmethod
    def of(
        cls,
        symbols: Sequence[str],
        history: Mapping[str, Sequence[Candle]],
        timeframe: str,
    ) -> Bars:
        """The bars of ``symbols`` from their loaded candles (the same depth for all)."""
        seconds = TIMEFRAME_SECONDS.get(timeframe, 60)
        depth = min((len(history[s]) for s in symbols), default=0)
        closes = np.array(
            [[float(c.close) for c in history[s][-depth:]] for s in symbols] if depth else [],
            dtype=np.float64,
        ).reshape(len(symbols), depth)
        volumes = np.array(
            [[float(c.volume) for c in history[s][-depth:]] for s in symbols] if depth else [],
            dtype=np.float64,
        ).reshape(len(symbols), depth)
        newest = max((history[s][-1].time_ms for s in symbols if history[s]), default=0)
        return cls(tuple(symbols), closes, volumes, newest / 1000, seconds)

    def update(self, prices: Mapping[str, Ticker], now: float) -> bool:
        """The round's last prices close the current bar; a new period starts a new bar.
        True when this round started a new bar (the one before it closed)."""
        if self.closes.shape[1] == 0:
            return False
        new_bar = now >= self.bar_start + self.seconds
        if new_bar:
            self.closes = np.roll(self.closes, -1, axis=1)
            self.volumes = np.roll(self.volumes, -1, axis=1)
            self.closes[:, -1] = self.closes[:, -2]
            self.volumes[:, -1] = 0.0
            self.bar_start += self.seconds * ((now - self.bar_start) // self.seconds)
        for row, symbol in enumerate(self.symbols):
            ticker = prices.get(symbol)
            if ticker is not None:
                self.closes[row, -1] = float(ticker.last)
        return new_bar


def compute(bars: Bars, preset: Preset) -> dict[str, Signals]:
    """Every indication of the preset for every symbol, in one vectorised pass."""
    direction = indications.direction(bars.closes, preset.direction)
    moved = indications.move(bars.closes, preset.move)
    active = indications.active(bars.closes, preset.active)
    advanced = indications.active_advanced(bars.closes, bars.volumes, preset.active_advanced)
    return {
        symbol: Signals(
            direction=int(direction.side[i]),
            direction_strength=float(direction.strength[i]),
            move=int(moved.side[i]),
            move_strength=float(moved.strength[i]),
            active=bool(active.active[i]),
            active_advanced=bool(advanced.active[i]),
        )
        for i, symbol in enumerate(bars.symbols)
    }
