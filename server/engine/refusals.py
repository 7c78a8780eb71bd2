"""Why the engines refuse a request: the domain errors the coordinator and engines share."""

from __future__ import annotations

from server.errors import FailedPrecondition


def engine_not_running(connection_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the engine of connection '{connection_id}' is not running",
        reason="ENGINE_NOT_RUNNING",
        metadata={"connection_id": connection_id},
    )


def confirmation_required(why: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"confirm_live: must be true to close this position: {why} (a real order)",
        reason="LIVE_CONFIRMATION_REQUIRED",
        metadata={"field": "confirm_live"},
    )
