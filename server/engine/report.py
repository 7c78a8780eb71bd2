"""What an engine reports of its cycles and positions, and when it publishes that.

**Figures: per run or lifetime.** One rule for every figure of an engine's status:
- *per run* — since the engine last started (its loading stages began): the cycle figures
  (``metrics.cycles``, ``stale_cycles``, the cycle percentiles), and the activity counts of
  the run (``trades``, ``live_orders``, ``failed_orders``, ``unresolved_orders``,
  ``skipped_by_limits``) and ``realized_pnl``;
- *lifetime* — what storage holds for the connection, across restarts: ``closed_pseudo``,
  ``closed_live``; and the open positions (``open_pseudo``, ``open_live``) and their unrealised
  PnL, which are the state now.
A restart so starts every per-run figure from 0 (with the loading stages), and the lifetime
ones go on. ``started_at`` says when the run began.

**Publication, coalesced.** A cycle that changes something a user acts on publishes the status
at once: a fill (the trading counts), a signal's side or gate, the optimal sets, fresh prices
after staleness, a state or stage. A cycle that only moves the running figures (cycle count and
percentiles, signal strengths, unrealised PnL, ``prices_at``) publishes them every
``status_cycles`` cycles — each engine at its own phase, so a thousand engines spread their
updates over the period instead of sending them together. Reading one status
(``GetEngineStatus``) gives the figures of the last cycle; lists and stream snapshots
(``ListEngineStatuses``, ``WatchEngines``) give the statuses as last published, so that a
snapshot of a thousand engines costs no figure computation.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from server.engine.book import Book
from server.engine.exposure import Allowance
from server.engine.live import LiveDesk
from server.engine.status import CycleMetrics, TradingMetrics
from server.engine.timings import Timings


@dataclass
class CycleClock:
    """The timings of an engine's run, and when its running figures are next published."""

    connection_id: str
    status_cycles: int
    realtime: Timings
    indication: Timings
    strategy: Timings
    stale_cycles: int = 0
    symbols: int = 0
    last_cycle_at: datetime | None = None
    _phase: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.status_cycles > 1:
            self._phase = zlib.crc32(self.connection_id.encode()) % self.status_cycles

    def due(self) -> bool:
        """True on the cycles that publish the running figures (every ``status_cycles``, at
        this engine's own phase)."""
        if self.status_cycles <= 1:
            return True
        return self.realtime.count % self.status_cycles == self._phase

    def metrics(self) -> CycleMetrics:
        realtime = self.realtime.timing()
        return CycleMetrics(
            cycles=realtime.cycles,
            p50_ms=realtime.p50_ms,
            p99_ms=realtime.p99_ms,
            last_cycle_at=self.last_cycle_at,
            symbols=self.symbols,
            stale_cycles=self.stale_cycles,
            indication=self.indication.timing(),
            strategy=self.strategy.timing(),
        )


def trading(
    book: Book,
    desk: LiveDesk,
    *,
    closed_before: Mapping[str, int],
    optimal: tuple[str, ...],
    allowance: Allowance,
    prices: Mapping[str, Decimal],
) -> TradingMetrics:
    """The trading figures of an engine now (see the module docstring for per run/lifetime)."""
    live_open = [p for p in desk.positions.values() if p.state.quantity]
    return TradingMetrics(
        open_pseudo=len(book.open),
        closed_pseudo=closed_before["pseudo"] + book.closed_count,
        open_live=len(live_open),
        closed_live=closed_before["live"] + desk.closed,
        trades=book.trades,
        live_orders=desk.orders,
        failed_orders=desk.failed_orders,
        unresolved_orders=desk.unresolved_orders,
        skipped_by_limits=desk.skipped,
        realized_pnl=book.realized_pnl,
        unrealized_pnl=book.unrealized_pnl(prices),
        live_unrealized_pnl=sum((p.unrealized_pnl or Decimal(0) for p in live_open), Decimal(0)),
        live_trading=allowance.on,
        optimal_sets=optimal,
        last_live_error=desk.last_error,
    )
