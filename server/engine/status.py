"""An engine's state as clients see it: lifecycle, loading stages, error, cycle metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from server.engine.loading import Stage, StageProgress


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
class CycleMetrics:
    """The realtime cycles of a running engine."""

    cycles: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    last_cycle_at: datetime | None = None
    symbols: int = 0
    stale_cycles: int = 0  # cycles without fresh prices (the feed failed)


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

    @property
    def stage(self) -> Stage | None:
        """The stage being walked (or the last one reached)."""
        reached = [s for s in self.stages if s.state.value != "pending"]
        return reached[-1].stage if reached else None
