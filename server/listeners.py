"""Listeners: who is told about a change of state, and the one rule for telling them.

A component whose state changes (a circuit breaker, exchange access, the engine coordinator)
tells its listeners only *after* the change is complete, and a listener's failure is logged and
swallowed here: whatever a health monitor, a metrics hook or any other listener does, it can
never leave the component that told it half-changed, nor fail the call that caused the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

log = logging.getLogger("cts.listeners")

P = ParamSpec("P")


class Listeners(Generic[P]):
    """Callbacks told about one kind of change, in the order they were added."""

    __slots__ = ("_callbacks", "_what")

    def __init__(self, what: str) -> None:
        self._what = what  # names the change in the log line of a failing listener
        self._callbacks: list[Callable[P, object]] = []

    def add(self, callback: Callable[P, object]) -> None:
        self._callbacks.append(callback)

    def remove(self, callback: Callable[P, object]) -> None:
        self._callbacks.remove(callback)

    def __len__(self) -> int:
        return len(self._callbacks)

    def tell(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Tell every listener; one that raises is logged and the others are still told."""
        for callback in tuple(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception:
                log.exception("a listener of %s failed (the change itself stands)", self._what)
