"""How a module says what a log record is about: its connection, its category, context values.

``log.info("…", extra=about(connection_id, Category.ORDER, symbol="BTC/USDT"))``; or, for
everything a task logs, :func:`concerning` sets the connection once (engines and connection
tests do, so exchange access, feeds and stores log with the connection they work for).
"""

from __future__ import annotations

import contextvars
from typing import Any

from server.monitoring.logs.entry import Category
from server.monitoring.logs.scrub import scrub

CONNECTION = "cts_connection"
CATEGORY = "cts_category"
CONTEXT = "cts_context"

connection_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cts_log_connection", default=None
)


def about(
    connection_id: str | None = None, category: Category | None = None, **context: object
) -> dict[str, Any]:
    """The ``extra`` of a logging call (context values are kept as strings, scrubbed: ``extra``
    is set on a record after the scrubbing record factory ran)."""
    extra: dict[str, Any] = {}
    if connection_id:
        extra[CONNECTION] = str(connection_id)
    if category is not None:
        extra[CATEGORY] = category
    if context:
        extra[CONTEXT] = {key: scrub(str(value)) for key, value in context.items()}
    return extra


def concerning(connection_id: str | None) -> None:
    """Everything the current task (and the tasks it starts) logs concerns this connection."""
    connection_scope.set(connection_id)
