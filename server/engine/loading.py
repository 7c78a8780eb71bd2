"""An engine's loading stages: what it loads from its exchange before it can trade.

The stages, in order, each with progress (items done of items total) and timing:

1. ``initializing`` — the connection's exchange session (one ccxt instance) is ready.
2. ``loading_symbols`` — the markets of the connection's API type; the engine trades the
   ``symbols`` most traded ones quoted in USDT, or USD where there are none (24 h quote
   volume, then name; with a :class:`~server.engine.board.SharedHistory`, the tickers read
   for it serve every engine of the same market source loading within a minute).
3. ``loading_indications`` — the indication parameter sets of the connection's preset, one set
   of indications per symbol.
4. ``loading_strategies`` — the strategies of the preset, per symbol.
5. ``loading_history`` — ``bars`` candles of ``timeframe`` per symbol (one request each; with a
   :class:`~server.engine.board.SharedHistory`, one request per symbol for every engine of the
   same market source loading within the same bar).
6. ``syncing`` — with credentials: the account's open orders (and positions on derivatives),
   which a running engine reconciles with its own; without credentials: skipped.
7. ``ready``.

Every exchange call goes through exchange access, within the account's limits. Loading only
reads: it never places, changes or cancels anything, so a dry run is the same walk.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from server.engine.board import source_of
from server.engine.sets import SET_IDS
from server.exchange.access import ExchangeAccess, Target
from server.exchange.adapter import ExchangeAdapter
from server.exchange.errors import ExchangeError
from server.exchange.model import Candle, Market, OrderInfo, Ticker

if TYPE_CHECKING:
    from server.engine.board import SharedHistory

T = TypeVar("T")

# Quote currencies an engine trades in, in order of preference (Kraken Futures settles in USD).
QUOTES = ("USDT", "USD")
MARKET_TYPE = {"spot": "spot", "margin": "spot", "perpetual_futures": "swap", "unified": "swap"}


class Stage(StrEnum):
    INITIALIZING = "initializing"
    LOADING_SYMBOLS = "loading_symbols"
    LOADING_INDICATIONS = "loading_indications"
    LOADING_STRATEGIES = "loading_strategies"
    LOADING_HISTORY = "loading_history"
    SYNCING = "syncing"
    READY = "ready"


class StageState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StageProgress:
    stage: Stage
    state: StageState = StageState.PENDING
    done: int = 0
    total: int = 0
    duration_ms: int = 0
    detail: str = ""


# What an engine computes per symbol; each has its parameters in the preset (presets.py).
INDICATIONS = ("direction", "move", "active", "active_advanced", "optimal")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to load: how many symbols, which bars, and the preset's indications and
    parameter sets (entry/strategy; one of each per symbol)."""

    symbols: int
    timeframe: str
    bars: int
    indications: Sequence[str] = INDICATIONS
    # The parameter sets whose pseudo positions run (entry/strategy; see server.engine.book).
    sets: tuple[str, ...] = SET_IDS
    # Pseudo fills are this fraction worse than the last price.
    slippage: Decimal = Decimal("0.0005")


@dataclass(frozen=True, slots=True)
class Loaded:
    symbols: tuple[str, ...]
    history: Mapping[str, tuple[Candle, ...]]
    open_orders: int | None  # None: not synced (no credentials)
    positions: int | None
    markets: Mapping[str, Market] = field(default_factory=dict)  # of the symbols


@dataclass
class Loading:
    """One walk through the stages; ``progress`` is told every change as it happens."""

    access: ExchangeAccess
    target: Target
    plan: LoadPlan
    progress: Callable[[tuple[StageProgress, ...]], None] = lambda _stages: None
    history: SharedHistory | None = None  # shared candles (engines); None: fetch own
    stages: dict[Stage, StageProgress] = field(init=False)
    _started: dict[Stage, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.stages = {stage: StageProgress(stage) for stage in Stage}

    async def run(self) -> Loaded:
        """Walk every stage; an exchange failure marks its stage failed and is raised."""
        self._begin(Stage.INITIALIZING, 1)
        # The session is built on first use; reading the clock proves the exchange answers.
        await self._call(lambda a: a.server_time())
        self._finish(Stage.INITIALIZING, 1, f"{self.target.exchange} {self.target.api_type}")

        self._begin(Stage.LOADING_SYMBOLS, 1)
        markets = await self._call(lambda a: a.markets())
        tickers = await self._tickers()
        symbols = choose_symbols(markets, tickers, self.target.api_type, self.plan.symbols)
        self._finish(Stage.LOADING_SYMBOLS, 1, f"{len(symbols)} of {len(markets)} markets")

        for stage, names in (
            (Stage.LOADING_INDICATIONS, self.plan.indications),
            (Stage.LOADING_STRATEGIES, self.plan.sets),
        ):
            total = len(symbols) * len(names)
            self._begin(stage, total)
            self._finish(stage, total, ", ".join(names))

        history: dict[str, tuple[Candle, ...]] = {}
        self._begin(Stage.LOADING_HISTORY, len(symbols))
        for done, symbol in enumerate(symbols, start=1):
            history[symbol] = await self._candles(symbol)
            self._advance(Stage.LOADING_HISTORY, done)
        bars = sum(len(c) for c in history.values())
        self._finish(Stage.LOADING_HISTORY, len(symbols), f"{bars} {self.plan.timeframe} bars")

        open_orders = positions = None
        if self.target.credentials is None:
            self._skip(Stage.SYNCING, "no credentials: nothing to reconcile")
        else:
            derivatives = MARKET_TYPE.get(self.target.api_type) == "swap"
            self._begin(Stage.SYNCING, 2 if derivatives else 1)
            open_orders = len(await self._call(self._open_orders_of(symbols)))
            self._advance(Stage.SYNCING, 1)
            detail = f"{open_orders} open orders"
            if derivatives:
                positions = len(await self._call(lambda a: a.positions()))
                detail += f", {positions} positions"
            self._finish(Stage.SYNCING, 2 if derivatives else 1, detail)

        self._begin(Stage.READY, 1)
        self._finish(Stage.READY, 1, "")
        chosen = {m.symbol: m for m in markets if m.symbol in history}
        return Loaded(tuple(symbols), history, open_orders, positions, chosen)

    def _open_orders_of(
        self, symbols: Sequence[str]
    ) -> Callable[[ExchangeAdapter], Awaitable[list[OrderInfo]]]:
        """The account's open orders; on an exchange that lists them one symbol at a time, the
        open orders of the engine's symbols."""

        async def load(adapter: ExchangeAdapter) -> list[OrderInfo]:
            if not adapter.open_orders_per_symbol:
                return await adapter.open_orders()
            return [order for symbol in symbols for order in await adapter.open_orders(symbol)]

        return load

    async def _tickers(self) -> Mapping[str, Ticker]:
        def fetch() -> Awaitable[Mapping[str, Ticker]]:
            return self.access.call(self.target, lambda a: a.tickers())

        if self.history is None:
            return await self._failing(fetch())
        return await self._failing(self.history.tickers(source_of(self.target), fetch))

    async def _candles(self, symbol: str) -> tuple[Candle, ...]:
        def fetch() -> Awaitable[list[Candle]]:
            return self.access.call(
                self.target, lambda a: a.candles(symbol, self.plan.timeframe, limit=self.plan.bars)
            )

        if self.history is None:
            return tuple(await self._failing(fetch()))
        key = (source_of(self.target), symbol, self.plan.timeframe, self.plan.bars)
        return await self._failing(self.history.candles(key, fetch))

    # -- progress -----------------------------------------------------------------------------

    async def _call(self, operation: Callable[[ExchangeAdapter], Awaitable[T]]) -> T:
        return await self._failing(self.access.call(self.target, operation))

    async def _failing(self, work: Awaitable[T]) -> T:
        """``work``'s result; an exchange failure marks the running stage failed (and is raised)."""
        try:
            return await work
        except ExchangeError as error:
            running = next(s for s in self.stages.values() if s.state is StageState.RUNNING)
            self._set(
                replace(
                    running,
                    state=StageState.FAILED,
                    duration_ms=self._elapsed(running.stage),
                    detail=error.message,
                )
            )
            raise

    def _begin(self, stage: Stage, total: int) -> None:
        self._started[stage] = time.perf_counter()
        self._set(replace(self.stages[stage], state=StageState.RUNNING, total=total))

    def _advance(self, stage: Stage, done: int) -> None:
        self._set(replace(self.stages[stage], done=done, duration_ms=self._elapsed(stage)))

    def _finish(self, stage: Stage, done: int, detail: str) -> None:
        self._set(
            replace(
                self.stages[stage],
                state=StageState.DONE,
                done=done,
                duration_ms=self._elapsed(stage),
                detail=detail,
            )
        )

    def _skip(self, stage: Stage, detail: str) -> None:
        self._set(replace(self.stages[stage], state=StageState.SKIPPED, detail=detail))

    def _set(self, progress: StageProgress) -> None:
        self.stages[progress.stage] = progress
        self.progress(tuple(self.stages.values()))

    def _elapsed(self, stage: Stage) -> int:
        return int((time.perf_counter() - self._started.get(stage, time.perf_counter())) * 1000)


def choose_symbols(
    markets: Sequence[Market], tickers: Mapping[str, Ticker], api_type: str, count: int
) -> list[str]:
    """The ``count`` markets of the API type's market type with the most 24 h volume, quoted in
    USDT (in USD where the exchange has no USDT markets of that type)."""
    kind = MARKET_TYPE.get(api_type, "spot")
    eligible: list[str] = []
    for quote in QUOTES:
        eligible = [m.symbol for m in markets if m.quote == quote and m.type == kind]
        if eligible:
            break

    def volume(symbol: str) -> Decimal:
        ticker = tickers.get(symbol)
        return ticker.quote_volume or Decimal(0) if ticker is not None else Decimal(0)

    return sorted(eligible, key=lambda s: (-volume(s), s))[:count]
