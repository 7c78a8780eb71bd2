"""Abuse limits of the API, apart from any transport: request rates per token and per client
address, open streams per token, and a slowdown of failed authentication per address.

Rates are token buckets: ``burst`` requests at once, refilled at ``per_second``. Failed
authentication (a token that was presented and did not verify) takes from its address's failure
bucket; once that is empty, the address's further attempts are refused without being checked
until it refills, except tokens this server has verified in the last ``vouched_seconds`` (so a
valid client behind the same address keeps working while a neighbour guesses). A missing or
malformed token is not a failure here: it costs no lookup and guesses nothing; the address rate
still limits it.

A refusal raises :class:`~server.errors.RateLimited` with the seconds to wait, or
:class:`~server.errors.ResourceExhausted` for the stream limit. Memory is bounded: each kind of
bucket keeps at most ``max_keys`` keys, dropping the least recently used (an idle bucket refills,
so dropping it forgets nothing that matters). Times are from a monotonic clock (injectable).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from server.errors import RateLimited, ResourceExhausted, retry_seconds

# The kinds of refusal (the label of the refusal counter).
TOKEN_RATE = "token_rate"
ADDRESS_RATE = "address_rate"
FAILED_AUTH = "failed_auth"
STREAMS = "streams"
KINDS = (TOKEN_RATE, ADDRESS_RATE, FAILED_AUTH, STREAMS)


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` at once, then ``per_second``; ``per_second`` 0 means no limit."""

    per_second: float
    burst: int

    @property
    def unlimited(self) -> bool:
        return self.per_second <= 0


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    token_rate: Rate = Rate(50, 100)
    address_rate: Rate = Rate(100, 200)
    failed_auth: Rate = Rate(1, 20)
    streams_per_token: int = 50  # 0: no limit
    max_keys: int = 10_000
    vouched_seconds: float = 3600.0


class Buckets:
    """Token buckets of one rate, keyed by a string, at most ``max_keys`` of them."""

    def __init__(self, rate: Rate, max_keys: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self._max = max_keys
        self._clock = clock
        self._level: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, at)

    def __len__(self) -> int:
        return len(self._level)

    def _now(self, key: str) -> tuple[float, float]:
        """The key's tokens now (refilled since last seen) and now."""
        now = self._clock()
        seen = self._level.get(key)
        if seen is None:
            return float(self.rate.burst), now
        tokens, at = seen
        return min(float(self.rate.burst), tokens + (now - at) * self.rate.per_second), now

    def wait(self, key: str) -> float:
        """Seconds until the key has a token (0: it has one now); takes nothing."""
        if self.rate.unlimited:
            return 0.0
        tokens, _ = self._now(key)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate.per_second

    def take(self, key: str) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there is one (nothing
        taken)."""
        if self.rate.unlimited:
            return 0.0
        tokens, now = self._now(key)
        if tokens < 1:
            self._store(key, tokens, now)
            return (1 - tokens) / self.rate.per_second
        self._store(key, tokens - 1, now)
        return 0.0

    def give_back(self, key: str) -> None:
        """Return a token taken a moment ago."""
        if not self.rate.unlimited and key in self._level:
            tokens, now = self._now(key)
            self._store(key, min(float(self.rate.burst), tokens + 1), now)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._level[key] = (tokens, now)
        self._level.move_to_end(key)
        while len(self._level) > self._max:
            self._level.popitem(last=False)


@dataclass(slots=True)
class _Vouched:
    """Digests of tokens verified lately, least recently verified first."""

    seconds: float
    max_keys: int
    until: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def add(self, digest: str, now: float) -> None:
        self.until[digest] = now + self.seconds
        self.until.move_to_end(digest)
        while len(self.until) > self.max_keys:
            self.until.popitem(last=False)

    def __contains__(self, item: tuple[str, float]) -> bool:
        digest, now = item
        until = self.until.get(digest)
        return until is not None and until > now


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Limits:
    """The API's abuse limits. ``on_refused`` callbacks get the kind of each refusal."""

    def __init__(
        self, config: LimitsConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config = config or LimitsConfig()
        self._clock = clock
        self._tokens = Buckets(config.token_rate, config.max_keys, clock)
        self._addresses = Buckets(config.address_rate, config.max_keys, clock)
        self._failures = Buckets(config.failed_auth, config.max_keys, clock)
        self._vouched = _Vouched(config.vouched_seconds, config.max_keys)
        self._streams: dict[str, int] = {}
        self.open_streams = 0
        self.on_refused: list[Callable[[str], None]] = []

    def admit_address(self, address: str) -> None:
        """Count a request from ``address`` (any request, with a token or not)."""
        wait = self._addresses.take(address)
        if wait:
            rate = self.config.address_rate
            self._refuse(
                ADDRESS_RATE,
                wait,
                f"too many requests from this address: at most {rate.burst} at once, then "
                f"{rate.per_second:g} per second",
            )

    def admit_attempt(self, address: str, token: str) -> None:
        """Before ``token`` is checked: refused while ``address`` has failed too often, unless
        the token is one verified lately."""
        wait = self._failures.wait(address)
        if wait and (_digest(token), self._clock()) not in self._vouched:
            rate = self.config.failed_auth
            self._refuse(
                FAILED_AUTH,
                wait,
                f"too many failed authentications from this address: at most {rate.burst}, "
                f"then {rate.per_second:g} per second",
            )

    def failed(self, address: str) -> None:
        """A token from ``address`` did not verify."""
        self._failures.take(address)

    def admit_token(self, key: str, token: str, address: str) -> None:
        """After ``token`` verified (``key``: the token's id, never the token): count the
        request against the token's rate. A request the token's rate refuses is given back to
        its address, so that a throttled client does not use up its neighbours' share."""
        self._vouched.add(_digest(token), self._clock())
        wait = self._tokens.take(key)
        if wait:
            self._addresses.give_back(address)
            rate = self.config.token_rate
            self._refuse(
                TOKEN_RATE,
                wait,
                f"too many requests for this token: at most {rate.burst} at once, then "
                f"{rate.per_second:g} per second",
            )

    def open_stream(self, key: str) -> Callable[[], None]:
        """Take one of the token's (``key``) open-stream places; returns what gives it back
        (once, however often it is called)."""
        most = self.config.streams_per_token
        held = self._streams.get(key, 0)
        if most and held >= most:
            self._count(STREAMS)
            raise ResourceExhausted(
                f"too many open streams: at most {most} per token; close one first",
                reason="TOO_MANY_STREAMS",
                metadata={"limit": STREAMS, "max_streams": str(most)},
            )
        self._streams[key] = held + 1
        self.open_streams += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self.open_streams -= 1
            left = self._streams[key] - 1
            if left:
                self._streams[key] = left
            else:
                del self._streams[key]

        return release

    def _refuse(self, kind: str, wait: float, message: str) -> None:
        self._count(kind)
        seconds = retry_seconds(wait)
        raise RateLimited(
            f"{message}; retry in {seconds} s",
            retry_after=wait,
            metadata={"limit": kind, "retry_after_seconds": str(seconds)},
        )

    def _count(self, kind: str) -> None:
        for callback in self.on_refused:
            callback(kind)
