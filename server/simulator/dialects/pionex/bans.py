"""Pionex's answer to a caller beyond its rate limits: a ban.

Pionex (openapi.yaml and openapi_futures.yaml, "Rate Limits"): exceeding the limit is answered
HTTP 429 and "the violating IP or account receives a 60-second ban"; "repeated violations
extend the ban duration by 10 seconds per additional request". So each request during a ban is
refused with 429 and pushes its end 10 s further. Pionex documents no ``Retry-After`` header
and no body for the 429: the simulator sends its envelope with code ``RATE_LIMIT`` and no
header. A caller is an API key, or the client's address for public requests, as the
simulator's windows count them.
"""

from __future__ import annotations

BAN_SECONDS = 60.0
EXTENSION_SECONDS = 10.0


class Bans:
    """When each banned caller's ban ends (simulator clock, seconds)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def start(self, caller: str, now: float) -> None:
        """The caller went over the limit: banned for 60 s from now."""
        self._until[caller] = max(self._until.get(caller, 0.0), now + BAN_SECONDS)

    def refuses(self, caller: str, now: float) -> bool:
        """Whether a request of ``caller`` at ``now`` falls in a ban (which it then extends)."""
        until = self._until.get(caller)
        if until is None:
            return False
        if until <= now:
            del self._until[caller]
            return False
        self._until[caller] = until + EXTENSION_SECONDS
        return True

    def remaining(self, caller: str, now: float) -> float:
        """Seconds left of the caller's ban (0: not banned)."""
        return max(0.0, self._until.get(caller, now) - now)
