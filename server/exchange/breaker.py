"""A circuit breaker per exchange account.

Closed: calls go through. After ``failure_threshold`` consecutive exchange-side failures
(unavailable, timeout, unusable answers) it opens: calls fail at once, without touching the
exchange, for ``cooldown_seconds``. Then it is half-open: one probe call goes through; success
closes it, failure opens it again for another cool-down. Failures that are the request's own
fault (bad credentials, unknown symbol, insufficient funds) do not count.

A probe always ends: its caller reports success, failure or a neutral outcome, and a probe
abandoned without any report (its call was cancelled) is given up with :meth:`abandon`. As a
last guard, a probe that has not reported within ``probe_timeout_seconds`` no longer blocks the
next one. Listeners (``on_change``) are told after a state change is complete, and a listener
that raises cannot undo or block it (:class:`~server.listeners.Listeners`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from server.listeners import Listeners


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
        probe_timeout_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitState], object] | None = None,
    ) -> None:
        """``probe_timeout_seconds`` defaults to the cool-down."""
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._probe_timeout = (
            cooldown_seconds if probe_timeout_seconds is None else probe_timeout_seconds
        )
        self._clock = clock
        self.on_change: Listeners[[CircuitState]] = Listeners("a circuit breaker's state")
        if on_change is not None:
            self.on_change.add(on_change)
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started: float | None = None  # when the probe in flight was let through

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

    @property
    def cooldown_seconds(self) -> float:
        return self._cooldown

    @property
    def probing(self) -> bool:
        """A probe is in flight (and has not outlived ``probe_timeout_seconds``)."""
        started = self._probe_started
        return started is not None and self._clock() - started < self._probe_timeout

    def allow(self) -> bool:
        """May a call go to the exchange now? In half-open state only one probe at a time."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self.probing:
            self._probe_started = self._clock()
            self._set(CircuitState.HALF_OPEN)
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._probe_started = None
        self._set(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        was_probe = self._probe_started is not None
        self._probe_started = None
        if was_probe or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._set(CircuitState.OPEN)

    def record_neutral(self) -> None:
        """A call that says nothing about the exchange's health (e.g. bad credentials)."""
        self._probe_started = None

    def abandon(self) -> None:
        """A call ended without an outcome (it was cancelled): a probe it was is given up, so
        the next call may probe."""
        self._probe_started = None

    def _set(self, state: CircuitState) -> None:
        if state is not self._state:
            self._state = state  # complete before anyone is told
            self.on_change.tell(state)
