"""Fault injection, switchable at run time per exchange or per account (API key)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace
from typing import Any

FAULT_FIELDS = (
    "latency_ms",
    "error_rate",
    "rate_limit_burst",
    "retry_after_seconds",
    "down",
    "hang",
    "maintenance",
    "clock_skew_ms",
    "lose_answers",
)


@dataclass
class Faults:
    """What goes wrong. All off by default.

    - ``latency_ms``: added to every response.
    - ``error_rate``: fraction of requests answered with a 5xx at random.
    - ``rate_limit_burst``: the next N requests are answered 429 (counts down).
    - ``retry_after_seconds``: what those 429s ask the client to wait (0: no ``Retry-After``).
    - ``down``: every request is answered 5xx (the exchange is down).
    - ``hang``: requests are never answered (the client's timeout must fire).
    - ``maintenance``: the exchange's maintenance answer.
    - ``clock_skew_ms``: the exchange's clock runs this far ahead (negative: behind).
    - ``lose_answers``: the next N state-changing requests (POST or DELETE: orders placed or
      cancelled, leverage set) are carried out, and then their answers are lost on the way back:
      the client gets the exchange's 5xx instead, as when a gateway drops the answer (counts
      down). The order is really in the ledger; only the client does not know it.
    Revoking a key is an account property (``Account.revoked``), not a fault.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_burst: int = 0
    retry_after_seconds: float = 1.0
    down: bool = False
    hang: bool = False
    maintenance: bool = False
    clock_skew_ms: int = 0
    lose_answers: int = 0

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}")
            setattr(self, name, type(getattr(self, name))(value))


@dataclass
class FaultBoard:
    """Faults per exchange and per API key; a request meets both."""

    by_exchange: dict[str, Faults] = field(default_factory=dict)
    by_key: dict[str, Faults] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def set(
        self, values: dict[str, Any], *, exchange: str | None = None, api_key: str | None = None
    ) -> None:
        if (exchange is None) == (api_key is None):
            raise ValueError("faults apply to one exchange or one api_key")
        table, name = (self.by_exchange, exchange) if exchange else (self.by_key, api_key)
        assert name is not None
        table.setdefault(name, Faults()).update(values)

    def clear(self) -> None:
        self.by_exchange.clear()
        self.by_key.clear()

    def effective(self, exchange: str, api_key: str | None) -> Faults:
        """The faults a request meets (a copy; use :meth:`take_rate_limit` and
        :meth:`take_lost_answer` to consume bursts and lost answers)."""
        mine = self.by_exchange.get(exchange, Faults())
        theirs = self.by_key.get(api_key or "", Faults())
        return replace(
            mine,
            latency_ms=mine.latency_ms + theirs.latency_ms,
            error_rate=max(mine.error_rate, theirs.error_rate),
            rate_limit_burst=mine.rate_limit_burst + theirs.rate_limit_burst,
            retry_after_seconds=max(mine.retry_after_seconds, theirs.retry_after_seconds),
            down=mine.down or theirs.down,
            hang=mine.hang or theirs.hang,
            maintenance=mine.maintenance or theirs.maintenance,
            clock_skew_ms=mine.clock_skew_ms + theirs.clock_skew_ms,
            lose_answers=mine.lose_answers + theirs.lose_answers,
        )

    def take_rate_limit(self, exchange: str, api_key: str | None) -> bool:
        """Consume one request of a pending 429 burst; True when this request is refused."""
        for faults in (self.by_key.get(api_key or ""), self.by_exchange.get(exchange)):
            if faults is not None and faults.rate_limit_burst > 0:
                faults.rate_limit_burst -= 1
                return True
        return False

    def take_lost_answer(self, exchange: str, api_key: str | None) -> bool:
        """Consume one pending lost answer; True when this request's answer is to be lost."""
        for faults in (self.by_key.get(api_key or ""), self.by_exchange.get(exchange)):
            if faults is not None and faults.lose_answers > 0:
                faults.lose_answers -= 1
                return True
        return False

    def random_error(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate
