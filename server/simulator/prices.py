"""Prices of the simulated markets: a seeded, mean-reverting random walk per asset, or a script.

A simulated price is a function of (seed, asset, wall-clock time) only, never of when the
simulator started: two simulators with the same seed quote the same price at the same second,
and a restarted simulator continues the markets where they were (a restart is not a market
event). Spot and perp markets of an asset share its price.

The log of an asset's price relative to its ``start_price`` (its *level*) is defined on whole
Unix seconds, floored, in two layers:

* **Hourly anchors.** At each whole hour ``h`` (Unix time ``3600 h``) the level is an anchor
  ``A(h)`` of a stationary AR(1) process, ``A(h) = phi A(h-1) + c e(h)``, written as its
  moving average truncated to 6,000 hours: ``A(h) = c * sum(phi**i * e(h-i), i < 6000)``. The
  ``e`` are standard normal draws made 1,000 hours at a time by a generator keyed by (seed,
  asset, block), so an anchor anywhere in time costs one dot product. The anchors have a
  stationary standard deviation of 0.4 around 0 (the price keeps to a band around its start
  price forever, two-thirds of the time within a factor 1.5 of it, and drifts neither to 0 nor
  to infinity), and ``phi`` is chosen so that an hour's change of the anchors has the variance
  of 3,600 one-second steps: ``2 * 0.4**2 * (1 - phi) = 3600 * volatility**2``. At the default
  volatility ``1 - phi`` is 1/356: a departure from the start price decays over about two
  weeks. (``1 - phi`` is kept between 1/800 and 1/2; for a volatility below 3.3e-4 or above
  6.7e-3 the band narrows or widens in proportion instead.)
* **A Brownian bridge inside each hour.** Second ``j`` (0 to 3599) of hour ``h`` has the level
  ``A(h) + j/3600 (A(h+1) - A(h)) + W(j) - j/3600 W(3600)``, where ``W`` is the running sum of
  3,600 normal steps of standard deviation ``volatility`` from a generator keyed by (seed,
  asset, hour). The path passes through every anchor, so it is continuous: the step into a new
  hour is drawn like any other, and every one-second log-return has standard deviation
  ``volatility``.

The price is ``start_price * exp(level)`` rounded onto the asset's price tick (at least one
tick). Draws, anchors and hours are made on demand and cached, so reading any time, past or
future and in any order, costs at most one hour of steps and two anchors.

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

HOUR = 3600  # seconds per hour: the steps of one bridge, drawn together
LEVEL_STD = 0.4  # stationary standard deviation of the hourly anchors (log-price)
ANCHOR_WINDOW = 6000  # hours of draws summed into one anchor
ANCHOR_BLOCK = 1000  # hours of anchor draws made by one generator
REVERSION = (1 / 800, 1 / 2)  # bounds of 1 - phi, per hour (phi**6000 <= 6e-4 at the slowest)
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
    ) -> None:
        """``volatility`` is the standard deviation of one second's log-return."""
        if not volatility >= 0:
            raise ValueError(f"volatility must be at least 0, not {volatility!r}")
        self.seed = seed
        self.volatility = volatility
        self.clock = clock
        self._scripts: dict[str, Script] = {}
        self._volume_factors: dict[str, Decimal] = {}

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

    def scale_volume(self, base: str, factor: Decimal | str | int) -> None:
        """Multiply the traded volume of ``base`` by ``factor`` from now on (a market everyone
        trades: engines that choose by 24 h volume choose it)."""
        self._asset(base)
        value = Decimal(str(factor))
        if not value > 0:
            raise ValueError(f"a volume factor must be above 0, not {factor!r}")
        self._volume_factors[base] = value

    # -- reading ------------------------------------------------------------------------------

    def price(self, base: str, at: float | None = None) -> Decimal:
        """The price of ``base`` at time ``at`` (default: now), on the asset's price grid."""
        t = self.clock() if at is None else at
        script = self._scripts.get(base)
        if script is not None:
            return script.at(t)
        return Decimal(int(self._ticks(base, np.array([t]))[0])) * self._tick(base)

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
                _volume(self.seed, base, int(start), interval_seconds)
                * self._volume_factors.get(base, Decimal(1)),
            )
            for start, row in zip(starts, ticks, strict=True)
        ]

    # -- internals ----------------------------------------------------------------------------

    def _asset(self, base: str):  # type: ignore[no-untyped-def]
        try:
            return ASSET_BY_CODE[base]
        except KeyError:
            raise KeyError(f"no simulated asset {base!r}") from None

    def _tick(self, base: str) -> Decimal:
        return self._asset(base).price_tick  # type: ignore[no-any-return]

    def _ticks(self, base: str, times: np.ndarray) -> np.ndarray:
        """Prices at many times at once, as whole numbers of price ticks (vectorised)."""
        script = self._scripts.get(base)
        tick = self._tick(base)
        if script is not None:
            return np.array([int(script.at(float(t)) / tick) for t in times], dtype=np.int64)
        asset = self._asset(base)
        hours, offsets = np.divmod(np.floor(times).astype(np.int64), HOUR)
        levels = np.empty(len(times))
        for hour in np.unique(hours):
            mask = hours == hour
            levels[mask] = _hour_levels(self.seed, base, int(hour), self.volatility)[offsets[mask]]
        raw = float(asset.start_price) * np.exp(levels)
        return np.maximum(1, np.rint(raw / float(tick))).astype(np.int64)


def _rng(seed: int, base: str, index: int, salt: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{base}:{index}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@lru_cache(maxsize=16)
def _anchor_weights(volatility: float) -> np.ndarray:
    """``c * phi**i`` for the draws of hours ``h - 5999 .. h`` (oldest first)."""
    hourly_variance = HOUR * volatility**2
    reversion = min(max(hourly_variance / (2 * LEVEL_STD**2), REVERSION[0]), REVERSION[1])
    phi = 1.0 - reversion
    stationary_variance = hourly_variance / (2 * reversion)  # LEVEL_STD**2 within the bounds
    scale = math.sqrt(stationary_variance * (1.0 - phi * phi))
    weights = scale * phi ** np.arange(ANCHOR_WINDOW - 1, -1, -1, dtype=float)
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=512)
def _anchor_draws(seed: int, base: str, block: int) -> np.ndarray:
    """The standard normal draws of hours ``1000 block .. 1000 block + 999``."""
    draws = _rng(seed, base, block, "anchors").standard_normal(ANCHOR_BLOCK)
    draws.flags.writeable = False
    return draws


@lru_cache(maxsize=8192)
def _anchor(seed: int, base: str, hour: int, volatility: float) -> float:
    """The level at the start of ``hour`` (Unix time ``3600 hour``)."""
    first = hour - ANCHOR_WINDOW + 1
    blocks = range(first // ANCHOR_BLOCK, hour // ANCHOR_BLOCK + 1)
    draws = np.concatenate([_anchor_draws(seed, base, block) for block in blocks])
    skip = first - blocks[0] * ANCHOR_BLOCK
    return float(np.dot(_anchor_weights(volatility), draws[skip : skip + ANCHOR_WINDOW]))


@lru_cache(maxsize=1024)
def _hour_levels(seed: int, base: str, hour: int, volatility: float) -> np.ndarray:
    """The levels of the 3,600 seconds of ``hour``: a Brownian bridge between its anchors."""
    start = _anchor(seed, base, hour, volatility)
    end = _anchor(seed, base, hour + 1, volatility)
    walk = np.zeros(HOUR + 1)
    np.cumsum(_rng(seed, base, hour, "seconds").normal(0.0, volatility, HOUR), out=walk[1:])
    fraction = np.arange(HOUR) / HOUR
    levels: np.ndarray = start + fraction * (end - start) + (walk[:-1] - fraction * walk[-1])
    levels.flags.writeable = False
    return levels


def _volume(seed: int, base: str, start: int, interval: int) -> Decimal:
    draw = _rng(seed, base, start, "volume").lognormal(0.0, 0.5)
    return Decimal(str(round(draw * interval / 60 * 10, 4)))
