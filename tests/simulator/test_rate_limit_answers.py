"""The 429 answer of every dialect: with a Retry-After in whole seconds, or none when the fault
asks for none (how a storm without Retry-After is simulated)."""

from __future__ import annotations

import pytest

from server.simulator.server import Simulator


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
@pytest.mark.parametrize(("seconds", "header"), [(2.5, "3"), (0.2, "1"), (0, None)])
def test_a_429_carries_retry_after_only_when_asked(
    exchange: str, seconds: float, header: str | None
) -> None:
    dialect = next(d for d in Simulator(seed=1).dialects if d.name == exchange)
    answer = dialect.rate_limited(seconds)
    assert answer.status == 429
    assert answer.headers.get("Retry-After") == header
