"""An engine's state as clients see it: lifecycle, loading stages, error, cycle metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from server.engine.loading import Stage, StageProgress
from server.engine.signals import Signals


class EngineState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"  # walking the loading stages
    RUNNING = "running"
    PAUSED = "paused"  # manages what is open, opens nothing new
    STOPPING = "stopping"
    ERROR = "error"  # with the reason; retried with back-off


class Desired(StrEnum):
    """What the user asked for (stored; survives restarts)."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Timing:
    """Count and duration percentiles (over the last 1,000) of one kind of cycle."""

    cycles: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class CycleMetrics:
    """The cycles of a running engine.

    A realtime cycle runs on every round of the market feed; within it the indication cycle
    computes the signals and the strategy cycle manages the positions (stale rounds, without
    prices, run neither). ``cycles``/``p50_ms``/``p99_ms`` are the realtime cycle's.
    """

    cycles: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    last_cycle_at: datetime | None = None
    symbols: int = 0
    stale_cycles: int = 0  # cycles without fresh prices (the feed failed)
    indication: Timing = field(default_factory=Timing)
    strategy: Timing = field(default_factory=Timing)


@dataclass(frozen=True, slots=True)
class TradingMetrics:
    """What an engine's positions did. PnL in the quote currency, Decimal."""

    open_pseudo: int = 0
    closed_pseudo: int = 0
    open_live: int = 0
    closed_live: int = 0
    trades: int = 0  # pseudo fills since the engine started
    live_orders: int = 0  # live orders sent since the engine started
    failed_orders: int = 0
    unresolved_orders: int = 0  # live orders whose outcome could not be learnt (left pending)
    skipped_by_limits: int = 0  # live opens and adds refused by the notional limits
    realized_pnl: Decimal = Decimal(0)  # pseudo, since the engine started
    unrealized_pnl: Decimal = Decimal(0)  # pseudo, open positions at the last prices
    live_unrealized_pnl: Decimal = Decimal(0)
    live_trading: bool = False  # live trading is on for this engine now
    optimal_sets: tuple[str, ...] = ()
    last_live_error: str = ""


@dataclass(frozen=True, slots=True)
class EngineStatus:
    connection_id: str
    state: EngineState = EngineState.STOPPED
    desired: Desired = Desired.STOPPED
    stages: tuple[StageProgress, ...] = ()
    error: str = ""
    attempts: int = 0  # failed starts in a row
    retry_at: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    symbols: tuple[str, ...] = ()
    metrics: CycleMetrics = field(default_factory=CycleMetrics)
    trading: TradingMetrics = field(default_factory=TradingMetrics)
    signals: Mapping[str, Signals] = field(default_factory=lambda: MappingProxyType({}))
    # Set while the engine has had no fresh prices for its stale threshold: since when. The
    # state stays running or paused; nothing opens and exits wait for fresh prices.
    stale_since: datetime | None = None
    prices_at: datetime | None = None  # when its last fresh prices were asked for

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    @property
    def stage_progress(self) -> StageProgress | None:
        """The progress of the stage being walked (or of the last one reached)."""
        return next((s for s in reversed(self.stages) if s.state.value != "pending"), None)

    @property
    def stage(self) -> Stage | None:
        """The stage being walked (or the last one reached)."""
        progress = self.stage_progress
        return progress.stage if progress is not None else None
