"""What engines that see the same market share: history at loading, bars and signals per round.

Engines on one market source (exchange, API type, testnet, simulated) see the same prices, so
work that depends only on those prices is done once for all of them:

- **History** (:class:`SharedHistory`): a symbol's candles are fetched once per source,
  symbol, timeframe and depth, and shared until the newest of them closes. Closed bars never
  change, and the open bar is overwritten by every round's price anyway. Engines that load at
  the same time wait for the one fetch in flight; a failed fetch is not kept (each waiter gets
  its failure, and the next load fetches again). So are the source's **tickers**, which a
  loading engine reads to choose its symbols by 24 h volume, for a minute: a thousand engines
  starting together asked the exchange for every ticker a thousand times.
- **Bars and signals** (:class:`Board`): engines with the same source, timeframe and symbols
  share one board. The first of them to act on a round moves the board's bars to that round;
  each preset's signals are computed once per round (one vectorised pass over all symbols) and
  the same immutable result goes to every engine of that preset. A board lives while engines
  use it (:class:`Boards`); the first engine builds it from its loaded history, and an engine
  that joins later takes the board's bars as they are (they are its history moved on by every
  round since).

What stays per engine: its positions, its volume factor, its live orders, its status.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from server.engine.presets import Preset
from server.engine.signals import TIMEFRAME_SECONDS, Bars, Signals, compute
from server.exchange.model import Candle, Ticker

if TYPE_CHECKING:
    from server.exchange.access import Target

#: The part of a symbol's signals that decides anything (sides and gates, not strengths).
Fingerprint = tuple[tuple[int, int, bool, bool], ...]
Source = tuple[str, str, bool, bool]  # exchange, API type, testnet, simulated


def source_of(target: Target) -> Source:
    """The market source of a connection (its credentials play no part)."""
    return (target.exchange, target.api_type, target.testnet, target.simulated)


@dataclass(frozen=True, slots=True)
class BoardKey:
    source: Source
    timeframe: str
    symbols: tuple[str, ...]


class Board:
    """The bars and per-preset signals shared by the engines of one key."""

    def __init__(self, key: BoardKey, bars: Bars) -> None:
        self.key = key
        self.bars = bars
        self.engines = 0
        self._round = 0  # the feed's number of the round on the board
        self._signals: dict[str, tuple[Mapping[str, Signals], Fingerprint]] = {}
        self._fingerprints: dict[str, Fingerprint] = {}
        self.computations = 0  # signal passes run (one per preset and round)

    @property
    def bar_start(self) -> float:
        """When the newest bar began (changes when a round starts a new bar)."""
        return self.bars.bar_start

    def advance(self, prices: Mapping[str, Ticker], round_: int, at: float) -> None:
        """Move the bars to round number ``round_`` of the feed (its prices asked for at
        ``at``), once per round."""
        if round_ <= self._round:
            return  # this round (or a newer one) is on the board already
        self.bars.update(prices, at)
        self._round = round_
        self._signals = {}

    def signals(self, preset: Preset) -> tuple[Mapping[str, Signals], Fingerprint]:
        """The preset's signals of the board's current round, and their fingerprint (the same
        object as long as no side or gate changed, so a change is an identity check)."""
        name = str(preset.preset_type)
        found = self._signals.get(name)
        if found is None:
            signals = MappingProxyType(compute(self.bars, preset))
            self.computations += 1
            fingerprint = tuple(
                (s.direction, s.move, s.active, s.active_advanced) for s in signals.values()
            )
            previous = self._fingerprints.get(name)
            if previous is not None and previous == fingerprint:
                fingerprint = previous
            self._fingerprints[name] = fingerprint
            found = self._signals[name] = (signals, fingerprint)
        return found


class Boards:
    """The boards in use, by key."""

    def __init__(self) -> None:
        self._boards: dict[BoardKey, Board] = {}

    def join(self, key: BoardKey, make: Callable[[], Bars]) -> Board:
        """The board of ``key`` (built with ``make`` when none is in use), counted as used."""
        board = self._boards.get(key)
        if board is None:
            board = self._boards[key] = Board(key, make())
        board.engines += 1
        return board

    def leave(self, board: Board) -> None:
        board.engines -= 1
        if board.engines <= 0 and self._boards.get(board.key) is board:
            del self._boards[board.key]

    def __len__(self) -> int:
        return len(self._boards)


HistoryKey = tuple[Source, str, str, int]  # source, symbol, timeframe, bars
V = TypeVar("V")
#: How long a source's tickers, read by an engine loading to choose its symbols by 24 h volume,
#: serve the other engines of the source loading after it.
TICKERS_SECONDS = 60.0


class SharedHistory:
    """What engines of one source read at loading, fetched once and shared (see the module
    docstring): candles per source, symbol, timeframe and depth until the newest closes; the
    source's tickers for ``TICKERS_SECONDS``."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}
        self.fetches = 0

    async def candles(
        self, key: HistoryKey, fetch: Callable[[], Awaitable[list[Candle]]]
    ) -> tuple[Candle, ...]:
        async def candles() -> tuple[tuple[Candle, ...], float]:
            fetched = tuple(await fetch())
            seconds = TIMEFRAME_SECONDS.get(key[2], 60)
            return fetched, fetched[-1].time_ms / 1000 + seconds if fetched else 0.0

        result: tuple[Candle, ...] = await self._shared(key, candles)
        return result

    async def tickers(
        self, source: Source, fetch: Callable[[], Awaitable[Mapping[str, Ticker]]]
    ) -> Mapping[str, Ticker]:
        async def tickers() -> tuple[Mapping[str, Ticker], float]:
            fetched = MappingProxyType(dict(await fetch()))
            return fetched, self._clock() + TICKERS_SECONDS

        result: Mapping[str, Ticker] = await self._shared(("tickers", source), tickers)
        return result

    async def _shared(self, key: Hashable, fetch: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        """``fetch``'s value (with the time it is good until), fetched once for every load
        asking meanwhile; a failed fetch is not kept."""
        while (entry := self._entries.get(key)) is not None:
            until, future = entry
            if future.done() and self._clock() >= until:
                break  # outdated: fetch again
            try:
                shared: V = await asyncio.shield(future)
                return shared
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # this load itself is cancelled
                # The engine whose fetch this was stopped: fetch here (its entry is gone).
        self._sweep()
        future = asyncio.get_running_loop().create_future()
        self._entries[key] = (math.inf, future)
        self.fetches += 1
        try:
            value, until = await fetch()
        except BaseException as error:
            self._entries.pop(key, None)
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # the waiters, if any, get it; none is fine too
            raise
        self._entries[key] = (until, future)
        future.set_result(value)
        return value

    def _sweep(self) -> None:
        now = self._clock()
        for key, (until, future) in list(self._entries.items()):
            if future.done() and now >= until:
                del self._entries[key]
