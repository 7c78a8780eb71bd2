"""The circuit breaker on its own, in virtual time."""

from __future__ import annotations

from server.exchange.breaker import CircuitBreaker, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_then_probes_once_and_closes() -> None:
    clock = Clock()
    changes: list[CircuitState] = []
    breaker = CircuitBreaker(
        failure_threshold=3, cooldown_seconds=10, clock=clock, on_change=changes.append
    )
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    breaker.record_success()  # a success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is CircuitState.OPEN and not breaker.allow()
    assert breaker.retry_in == 10
    clock.now = 10
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    assert changes == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


def test_a_failed_probe_opens_it_again() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now = 5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert breaker.retry_in == 5


def test_neutral_outcomes_do_not_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    for _ in range(10):
        assert breaker.allow()
        breaker.record_neutral()
    assert breaker.state is CircuitState.CLOSED


def test_a_failing_listener_cannot_stop_the_probe_or_corrupt_the_state() -> None:
    """The defect: a listener raising inside the half-open change left the breaker probing for
    ever, so allow() said no for ever."""
    clock = Clock()
    told: list[CircuitState] = []

    def listener(state: CircuitState) -> None:
        told.append(state)
        raise ValueError("badly formed hexadecimal UUID string")

    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=5, clock=clock)
    breaker.on_change.add(listener)
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now = 5
    assert breaker.allow()  # the probe goes out although the listener raised
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    assert told == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now = 5
    assert breaker.allow() and not breaker.allow()
    breaker.abandon()  # the probe's call was cancelled: no outcome
    assert breaker.allow()


def test_a_probe_that_never_reports_stops_blocking_after_its_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        failure_threshold=1, cooldown_seconds=5, probe_timeout_seconds=2, clock=clock
    )
    breaker.record_failure()
    clock.now = 5
    assert breaker.allow()
    clock.now = 6.9
    assert not breaker.allow()
    clock.now = 7
    assert breaker.allow()
