"""What every exchange dialect of the simulator provides.

A dialect owns the URL paths of one exchange's REST API and speaks its wire format: it checks
signatures and timestamps exactly as the exchange does, turns requests into :class:`Ledger`
calls, and answers with the exchange's response shapes and error codes — closely enough that
unmodified ccxt cannot tell the difference for the calls CTS makes.

The simulator's middleware applies faults and rate limits before a dialect's handlers run, and
asks the dialect for the exchange's own bodies for those cases.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aiohttp import web

from server.simulator.ledger import Account, Ledger

if TYPE_CHECKING:
    from server.simulator.server import Simulator


class Dialect(ABC):
    #: the exchange, as CTS names it ("binance", "bybit", "okx")
    name: str
    #: URL path prefixes this dialect answers (e.g. "/api/v3/", "/sapi/", "/fapi/")
    prefixes: tuple[str, ...]

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    @property
    def ledger(self) -> Ledger:
        return self.simulator.ledgers[self.name]

    def now_ms(self) -> int:
        """The exchange's clock in ms (skewed when a clock-skew fault is set)."""
        return self.simulator.exchange_time_ms(self.name)

    def account(self, api_key: str | None) -> Account | None:
        """The account of a key of this exchange, if any."""
        return self.ledger.accounts.get(api_key or "")

    @abstractmethod
    def api_key_of(self, request: web.Request) -> str | None:
        """The API key a request carries (header), or None for public requests."""

    @abstractmethod
    def routes(self) -> Iterable[web.RouteDef]:
        """The handlers of this exchange's paths."""

    @abstractmethod
    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        """The exchange's answer to too many requests (HTTP 429 and its body and headers);
        ``retry_after_seconds`` 0 or less: without a ``Retry-After`` header."""

    @abstractmethod
    def unavailable(self) -> web.Response:
        """The exchange's answer when it is down (a 5xx)."""

    @abstractmethod
    def maintenance(self) -> web.Response:
        """The exchange's answer while it is under maintenance."""

    def banned(self, caller: str, now: float) -> web.Response | None:
        """The exchange's answer to a request of a caller (API key, else client address) it
        has banned for going over its limits, or None: not banned (the default: most
        exchanges only refuse the requests beyond the limit)."""
        return None

    def over_limit(self, caller: str, now: float) -> web.Response:
        """The exchange's answer to a request beyond the simulator's limits for ``caller``."""
        return self.rate_limited(1.0)

    def not_found(self, request: web.Request) -> web.Response:
        """An unknown path under this exchange's prefixes."""
        return web.json_response(
            {"error": f"no such endpoint: {request.method} {request.path}"}, status=404
        )


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header in whole seconds (at least 1), or none for 0 or less."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))} if seconds > 0 else {}
