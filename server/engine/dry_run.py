"""A dry run of an engine's loading stages for a connection (``POST /api/trade-engine/test``).

It walks the same stages as an engine that starts (see :mod:`server.engine.loading`) with the
connection's preset and the engine settings, reports each stage's progress, timing and outcome,
and changes nothing: no engine starts, no order is placed, nothing is stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from server.connections.service import Connections
from server.engine.loading import Loading, LoadPlan, StageProgress
from server.exchange.access import ExchangeAccess
from server.exchange.errors import ExchangeError


@dataclass(frozen=True, slots=True)
class DryRunResult:
    connection_id: str
    status: str  # success | failed
    stages: tuple[StageProgress, ...]
    symbols: tuple[str, ...]
    history_bars: int
    open_orders: int | None
    positions: int | None
    duration_ms: int
    tested_at: datetime
    error_reason: str
    error_message: str
    simulated: bool


class EngineDryRun:
    def __init__(self, connections: Connections, access: ExchangeAccess, plan: LoadPlan) -> None:
        self._connections = connections
        self._access = access
        self._plan = plan

    async def run(self, connection_id: str) -> DryRunResult:
        """Walk the loading stages; NotFound for unknown ids, exchange failures in the result."""
        view = await self._connections.get(connection_id)
        target = await self._connections.target(connection_id)
        loading = Loading(self._access, target, self._plan)
        tested_at = datetime.now(UTC)
        started = time.perf_counter()
        failure: ExchangeError | None = None
        try:
            loaded = await loading.run()
        except ExchangeError as error:
            failure = error
        duration_ms = int((time.perf_counter() - started) * 1000)
        stages = tuple(loading.stages.values())
        if failure is not None:
            return DryRunResult(
                connection_id=str(view.id),
                status="failed",
                stages=stages,
                symbols=(),
                history_bars=0,
                open_orders=None,
                positions=None,
                duration_ms=duration_ms,
                tested_at=tested_at,
                error_reason=failure.failure.value,
                error_message=failure.message,
                simulated=view.is_simulated,
            )
        return DryRunResult(
            connection_id=str(view.id),
            status="success",
            stages=stages,
            symbols=loaded.symbols,
            history_bars=sum(len(c) for c in loaded.history.values()),
            open_orders=loaded.open_orders,
            positions=loaded.positions,
            duration_ms=duration_ms,
            tested_at=tested_at,
            error_reason="",
            error_message="",
            simulated=view.is_simulated,
        )
