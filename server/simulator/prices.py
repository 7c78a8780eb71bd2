"""Prices of the simulated markets: a seeded random walk per asset, or a scripted path.

The walk is defined on whole seconds counted from the simulator's origin (its start, rounded
down): the log-price moves by one normally distributed step per second. Steps are drawn in
chunks of an hour from a generator keyed by (seed, asset, chunk), so the path is the same for
the same seed, can be read at any second in the past or future in any order, and costs nothing
for seconds nobody asks about. Spot and perp markets of an asset share its price.

A scripted path replaces the walk of one asset with given prices, one per step from a start
time (the last price holds afterwards); tests use it to make markets do exactly what they need.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np

from server.simulator.instruments import ASSET_BY_CODE

CHUNK = 3600  # steps (seconds) per generated chunk
CANDLE_SAMPLES = 60  # price points examined per candle for its high and low


@dataclass(frozen=True, slots=True)
class Candle:
    open_time: int  # ms
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Script:
    prices: tuple[Decimal, ...]
    start: float
    step_seconds: float

    def at(self, t: float) -> Decimal:
        index = 0 if t < self.start else int((t - self.start) // self.step_seconds)
        return self.prices[min(index, len(self.prices) - 1)]


class PriceBook:
    def __init__(
        self,
        seed: int = 0,
        *,
        volatility: float = 5e-4,
        clock: Callable[[], float] = time.time,
        origin: float | None = None,
    ) -> None:
        """``volatility`` is the standard deviation of one second's log-return."""
        self.seed = seed
        self.volatility = volatility
        self.clock = clock
        self.origin = math.floor(clock() if origin is None else origin)
        self._scripts: dict[str, Script] = {}
        self._chunk_start: dict[tuple[str, int], float] = {}

    # -- control ------------------------------------------------------------------------------

    def script(
        self,
        base: str,
        prices: Sequence[Decimal | str | int],
        *,
        start: float | None = None,
        step_seconds: float = 1.0,
    ) -> None:
        """Make ``base`` follow ``prices``, one per step from ``start`` (default: now)."""
        if not prices:
            raise ValueError("a price script needs at least one price")
        self._asset(base)
        self._scripts[base] = Script(
            tuple(Decimal(str(p)) for p in prices),
            self.clock() if start is None else start,
            step_seconds,
        )

    def set_price(self, base: str, price: Decimal | str | int) -> None:
        """Hold ``base`` at ``price`` from now on."""
        self.script(base, [price])

    def unscript(self, base: str) -> None:
        self._scripts.pop(base, None)

    # -- reading ------------------------------------------------------------------------------

    def price(self, base: str, at: float | None = None) -> Decimal:
        """The price of ``base`` at time ``at`` (default: now), on the asset's price grid."""
        t = self.clock() if at is None else at
        script = self._scripts.get(base)
        if script is not None:
            return script.at(t)
        asset = self._asset(base)
        raw = float(asset.start_price) * math.exp(self._level(base, self._index(t)))
        return _on_grid(raw, asset.price_tick)

    def candles(
        self, base: str, interval_seconds: int, *, since: float | None = None, limit: int = 100
    ) -> list[Candle]:
        """Up to ``limit`` candles of ``interval_seconds`` from ``since`` (default: the latest
        ``limit``), never past now. The last candle is the one in progress."""
        if interval_seconds <= 0 or limit <= 0:
            return []
        now = self.clock()
        current = math.floor(now / interval_seconds) * interval_seconds
        first = current - (limit - 1) * interval_seconds
        if since is not None:
            first = math.floor(since / interval_seconds) * interval_seconds
        count = min(limit, (current - first) // interval_seconds + 1)
        if count <= 0:
            return []
        starts = first + interval_seconds * np.arange(count)
        samples = max(2, min(CANDLE_SAMPLES, interval_seconds))
        ends = np.minimum(starts + interval_seconds, now)
        fractions = np.linspace(0.0, 1.0, samples)
        points = starts[:, None] + (ends - starts)[:, None] * fractions[None, :]
        ticks = self._ticks(base, points.ravel()).reshape(points.shape)
        if starts[-1] + interval_seconds > now:  # the candle in progress ends at the current price
            ticks[-1, -1] = self._ticks(base, np.array([now]))[0]
        tick = self._tick(base)
        return [
            Candle(
                int(start) * 1000,
                Decimal(int(row[0])) * tick,
                Decimal(int(row.max())) * tick,
                Decimal(int(row.min())) * tick,
                Decimal(int(row[-1])) * tick,
                _volume(self.seed, base, int(start), interval_seconds),
            )
            for start, row in zip(starts, ticks, strict=True)
        ]

    # -- internals ----------------------------------------------------------------------------

    def _asset(self, base: str):  # type: ignore[no-untyped-def]
        try:
            return ASSET_BY_CODE[base]
        except KeyError:
            raise KeyError(f"no simulated asset {base!r}") from None

    def _index(self, t: float) -> int:
        return math.floor(t - self.origin)

    def _level(self, base: str, index: int) -> float:
        chunk, offset = divmod(index, CHUNK)
        return self._start_of(base, chunk) + float(
            _cumulative(self.seed, base, chunk, self.volatility)[offset]
        )

    def _start_of(self, base: str, chunk: int) -> float:
        """The log-level just before chunk ``chunk`` (0 before chunk 0), walked from 0."""
        key = (base, chunk)
        cached = self._chunk_start.get(key)
        if cached is not None:
            return cached
        direction = 1 if chunk > 0 else -1
        current, level = 0, 0.0
        # Start from the cached chunk nearest to ``chunk`` on the way from 0.
        for candidate in range(chunk, 0, -direction):
            if (base, candidate) in self._chunk_start:
                current, level = candidate, self._chunk_start[(base, candidate)]
                break
        while current != chunk:
            if direction > 0:
                level += _chunk_sum(self.seed, base, current, self.volatility)
                current += 1
            else:
                current -= 1
                level -= _chunk_sum(self.seed, base, current, self.volatility)
            self._chunk_start[(base, current)] = level
        return level

    def _tick(self, base: str) -> Decimal:
        return self._asset(base).price_tick  # type: ignore[no-any-return]

    def _ticks(self, base: str, times: np.ndarray) -> np.ndarray:
        """Prices at many times at once, as whole numbers of price ticks (vectorised)."""
        script = self._scripts.get(base)
        tick = self._tick(base)
        if script is not None:
            return np.array([int(script.at(float(t)) / tick) for t in times], dtype=np.int64)
        asset = self._asset(base)
        indices = np.floor(times - self.origin).astype(np.int64)
        chunks, offsets = np.divmod(indices, CHUNK)
        levels = np.empty(len(indices))
        for chunk in np.unique(chunks):
            mask = chunks == chunk
            cumulative = _cumulative(self.seed, base, int(chunk), self.volatility)
            levels[mask] = self._start_of(base, int(chunk)) + cumulative[offsets[mask]]
        raw = float(asset.start_price) * np.exp(levels)
        return np.maximum(1, np.rint(raw / float(tick))).astype(np.int64)


def _on_grid(price: float, tick: Decimal) -> Decimal:
    steps = max(1, round(price / float(tick)))
    return Decimal(steps) * tick


def _rng(seed: int, base: str, chunk: int, salt: str = "") -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{base}:{chunk}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@lru_cache(maxsize=512)
def _cumulative(seed: int, base: str, chunk: int, volatility: float) -> np.ndarray:
    steps = _rng(seed, base, chunk).normal(0.0, volatility, CHUNK)
    return np.cumsum(steps)


@lru_cache(maxsize=65536)
def _chunk_sum(seed: int, base: str, chunk: int, volatility: float) -> float:
    return float(_cumulative(seed, base, chunk, volatility)[-1])


def _volume(seed: int, base: str, start: int, interval: int) -> Decimal:
    draw = _rng(seed, base, start, "volume").lognormal(0.0, 0.5)
    return Decimal(str(round(draw * interval / 60 * 10, 4)))
