"""One trading engine: the life of one connection's engine, from loading to its cycles.

An engine walks the loading stages (:mod:`server.engine.loading`), then runs its realtime
cycle on every round of its exchange's shared market feed: the round's prices update the
current bar of each symbol, and the indications of the connection's preset are computed for
all symbols at once (vectorised). Pause keeps the cycle running (open positions stay managed)
and opens nothing new. A failure — in loading or in a cycle — puts the engine in ``error`` with
the reason; it retries with exponential back-off (2 s, 4 s, ... up to a minute) while its user
still wants it running, and never touches any other engine.

Every change of its status is handed to ``publish`` (the coordinator's topic).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from server.engine import indications
from server.engine.loading import Loaded, Loading, LoadPlan, StageProgress
from server.engine.presets import Preset
from server.engine.status import CycleMetrics, Desired, EngineState, EngineStatus
from server.exchange.access import ExchangeAccess, Target
from server.exchange.errors import ExchangeError
from server.exchange.model import Ticker

log = logging.getLogger("cts.engine")
CYCLE_SAMPLES = 1000
TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}


class PriceRound(Protocol):
    """One round of a market feed."""

    @property
    def prices(self) -> Mapping[str, Ticker]: ...

    @property
    def ok(self) -> bool: ...


class PriceSubscription(Protocol):
    async def next(self) -> PriceRound: ...

    def close(self) -> None: ...


#: Subscribes to the shared market feed of a target's market, for some symbols.
Subscribe = Callable[[Target, tuple[str, ...]], PriceSubscription]


@dataclass(frozen=True, slots=True)
class Signals:
    """The latest indications of one symbol."""

    direction: int
    direction_strength: float
    move: int
    move_strength: float
    active: bool
    active_advanced: bool


@dataclass
class Bars:
    """Closes and volumes of the engine's symbols: (symbols, bars), oldest first."""

    symbols: tuple[str, ...]
    closes: np.ndarray
    volumes: np.ndarray
    bar_start: float  # when the newest bar began (unix seconds)
    seconds: int

    @classmethod
    def of(cls, loaded: Loaded, timeframe: str) -> Bars:
        seconds = TIMEFRAME_SECONDS.get(timeframe, 60)
        depth = min((len(c) for c in loaded.history.values()), default=0)
        closes = np.array(
            [[float(c.close) for c in loaded.history[s][-depth:]] for s in loaded.symbols],
            dtype=np.float64,
        ).reshape(len(loaded.symbols), depth)
        volumes = np.array(
            [[float(c.volume) for c in loaded.history[s][-depth:]] for s in loaded.symbols],
            dtype=np.float64,
        ).reshape(len(loaded.symbols), depth)
        newest = max(
            (loaded.history[s][-1].time_ms for s in loaded.symbols if loaded.history[s]),
            default=0,
        )
        return cls(loaded.symbols, closes, volumes, newest / 1000, seconds)

    def update(self, prices: Mapping[str, Ticker], now: float) -> None:
        """The round's last prices close the current bar; a new period starts a new bar."""
        if self.closes.shape[1] == 0:
            return
        if now >= self.bar_start + self.seconds:
            self.closes = np.roll(self.closes, -1, axis=1)
            self.volumes = np.roll(self.volumes, -1, axis=1)
            self.closes[:, -1] = self.closes[:, -2]
            self.volumes[:, -1] = 0.0
            self.bar_start += self.seconds * ((now - self.bar_start) // self.seconds)
        for row, symbol in enumerate(self.symbols):
            ticker = prices.get(symbol)
            if ticker is not None:
                self.closes[row, -1] = float(ticker.last)


class Engine:
    def __init__(
        self,
        connection_id: str,
        *,
        access: ExchangeAccess,
        target: Callable[[], Awaitable[Target]],
        preset: Callable[[], Preset],
        plan: LoadPlan,
        subscribe: Subscribe,
        publish: Callable[[EngineStatus], None],
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 60.0,
    ) -> None:
        self.connection_id = connection_id
        self._access = access
        self._target = target
        self._preset = preset
        self._plan = plan
        self._subscribe = subscribe
        self._publish = publish
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._task: asyncio.Task[None] | None = None
        self._durations: deque[float] = deque(maxlen=CYCLE_SAMPLES)
        self.signals: dict[str, Signals] = {}
        self.status = EngineStatus(connection_id, updated_at=datetime.now(UTC))

    # -- commands (idempotent) ----------------------------------------------------------------

    def run(self, desired: Desired) -> None:
        """Bring the engine to ``desired``: running, paused (both keep it going), stopped."""
        if desired is Desired.STOPPED:
            raise ValueError("use stop() to stop an engine")
        state = self.status.state
        if state is EngineState.RUNNING and desired is Desired.PAUSED:
            self._set(state=EngineState.PAUSED, desired=desired)
        elif state is EngineState.PAUSED and desired is Desired.RUNNING:
            self._set(state=EngineState.RUNNING, desired=desired)
        else:
            self._set(desired=desired)
        if self._task is None or self._task.done():
            self._set(state=EngineState.STARTING, stages=(), error="")
            self._task = asyncio.ensure_future(self._main())

    async def stop(self, desired: Desired = Desired.STOPPED) -> None:
        """Stop; ``desired`` is what its user still wants (running, when the connection was
        switched off rather than the engine stopped)."""
        if self._task is None or self._task.done():
            self._set(state=EngineState.STOPPED, desired=desired, retry_at=None)
            return
        self._set(state=EngineState.STOPPING, desired=desired, retry_at=None)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._set(state=EngineState.STOPPED, error="")

    # -- the engine's life --------------------------------------------------------------------

    async def _main(self) -> None:
        while True:
            try:
                target = await self._target()
                await self._cycles(target, await self._load(target))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one engine's failure never reaches the others
                reason = (
                    exc.message
                    if isinstance(exc, ExchangeError)
                    else (f"internal error ({type(exc).__name__})")
                )
                if not isinstance(exc, ExchangeError):
                    log.exception("engine %s failed", self.connection_id)
                attempts = self.status.attempts + 1
                delay = min(self._retry_max, self._retry_base * 2 ** (attempts - 1))
                self._set(
                    state=EngineState.ERROR,
                    error=reason,
                    attempts=attempts,
                    retry_at=datetime.now(UTC) + timedelta(seconds=delay),
                )
                await asyncio.sleep(delay)  # the back-off itself

    async def _load(self, target: Target) -> Loaded:
        self._set(
            state=EngineState.STARTING,
            started_at=datetime.now(UTC),
            stages=(),
            retry_at=None,
            metrics=CycleMetrics(),
        )

        def progress(stages: tuple[StageProgress, ...]) -> None:
            self._set(stages=stages)

        return await Loading(self._access, target, self._plan, progress).run()

    async def _cycles(self, target: Target, loaded: Loaded) -> None:
        bars = Bars.of(loaded, self._plan.timeframe)
        self._set(
            state=EngineState.PAUSED
            if self.status.desired is Desired.PAUSED
            else (EngineState.RUNNING),
            symbols=loaded.symbols,
            attempts=0,
            error="",
        )
        subscription = self._subscribe(target, loaded.symbols)
        try:
            while True:
                round_ = await subscription.next()
                started = time.perf_counter()
                if not round_.ok:
                    self._count(started, stale=True)
                    continue
                bars.update(round_.prices, time.time())
                self.signals = compute(bars, self._preset())
                self._count(started, stale=False)
        finally:
            subscription.close()

    def _count(self, started: float, *, stale: bool) -> None:
        self._durations.append((time.perf_counter() - started) * 1000)
        ordered = sorted(self._durations)
        metrics = self.status.metrics
        self._set(
            metrics=CycleMetrics(
                cycles=metrics.cycles + 1,
                p50_ms=round(ordered[len(ordered) // 2], 3),
                p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
                last_cycle_at=datetime.now(UTC),
                symbols=len(self.status.symbols),
                stale_cycles=metrics.stale_cycles + int(stale),
            )
        )

    def _set(self, **changes: Any) -> None:
        self.status = replace(self.status, updated_at=datetime.now(UTC), **changes)
        self._publish(self.status)


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
