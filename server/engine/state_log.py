"""What an engine writes to its connection's log: its state changes and its staleness."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.engine.status import EngineState, EngineStatus
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category

log = logging.getLogger("cts.engine")


def log_state(status: EngineStatus) -> None:
    """Every change of an engine's state is an entry of its connection's log."""
    state = status.state.value
    where = about(status.connection_id, Category.ENGINE, state=state)
    if status.state is EngineState.ERROR:
        retry = f"; retrying at {status.retry_at:%H:%M:%S}" if status.retry_at else ""
        log.error("engine error: %s%s", status.error, retry, extra=where)
    else:
        log.info("engine %s", state, extra=where)


def log_staleness(status: EngineStatus, stale_since: datetime | None) -> None:
    where = about(status.connection_id, Category.ENGINE, stale=str(status.stale).lower())
    if status.stale_since is not None:
        log.warning("prices stale: no fresh market data; opening nothing", extra=where)
    elif stale_since is not None:
        seconds = (datetime.now(UTC) - stale_since).total_seconds()
        log.info("prices fresh again after %.0f s stale", seconds, extra=where)
