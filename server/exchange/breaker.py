"""A circuit breaker per exchange account.

Closed: calls go through. After ``failure_threshold`` consecutive exchange-side failures
(unavailable, timeout, unusable answers) it opens: calls fail at once, without touching the
exchange, for ``cooldown_seconds``. Then it is half-open: one probe call goes through; success
closes it, failure opens it again for another cool-down. Failures that are the request's own
fault (bad credentials, unknown symbol, insufficient funds) do not count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitState], None] | None = None,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self._cooldown:
            return CircuitState.HALF_OPEN
        return self._state

    @property
    def retry_in(self) -> float:
        """Seconds until an open circuit lets a probe through (0 unless open)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def allow(self) -> bool:
        """May a call go to the exchange now? In half-open state only one probe at a time."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            self._set(CircuitState.HALF_OPEN)
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._probing = False
        self._set(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        was_probe = self._probing
        self._probing = False
        if was_probe or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._set(CircuitState.OPEN)

    def record_neutral(self) -> None:
        """A call that says nothing about the exchange's health (e.g. bad credentials)."""
        if self._probing:
            self._probing = False

    def _set(self, state: CircuitState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)
