"""Exchange access: every call CTS makes to an exchange goes through :class:`ExchangeAccess`.

For each call it applies, in order: the account's circuit breaker (fail fast while open), the
account's throttle (queue for an in-flight place, and every HTTP request of the call for room in
the per-second and per-minute windows), a timeout on each request (the exchange's time, not
the time spent queueing), and the translation of failures. A
rate-limit answer pauses the account (Retry-After, else exponential back-off) and the call is
retried, up to ``max_retries`` times — except on an exchange that bans accounts going over its
limits (``AccessConfig.rate_limit_bans``: Pionex): there the account is banned for the ban's
length, the call fails with ``rate_limited`` at once, and so does every call of the account
until the ban is over, without a request (each one would lengthen the ban).
Each account's calls are counted for health: response times, successes and errors; and every
attempt of a call, and every wait for the limits, is told to listeners (metrics), by exchange.

An account is an exchange plus an API key: two connections with the same key share limits,
breaker and statistics. Connections without a key share their exchange's public account.
Each connection has its own adapter (one ccxt instance), rebuilt when the connection's
exchange, API type, endpoints or credentials change, and closed when no longer used.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from server.exchange.adapter import CcxtAdapter, ExchangeAdapter, MarketCache
from server.exchange.breaker import CircuitBreaker, CircuitState
from server.exchange.ccxt_factory import (
    HttpPool,
    UnsupportedConnection,
    create_ccxt,
    gate_requests,
)
from server.exchange.errors import EXCHANGE_SIDE, ExchangeError, ExchangeFailure
from server.exchange.throttle import (
    DEFAULT_LIMITS,
    RATE_LIMIT_BANS,
    Banned,
    RateLimitBan,
    RateLimits,
    Throttle,
    Usage,
)
from server.listeners import Listeners
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category

log = logging.getLogger("cts.exchange")

T = TypeVar("T")
RECENT_CALLS = 200
OK = "ok"  # the outcome of a call that succeeded (the others: ExchangeFailure values)


def public_account_id(exchange: str) -> str:
    """The account of calls without a key (market data): one per exchange."""
    return f"{exchange}:public"


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:  # never print secrets, not even in a debugger or a log
        return "Credentials(****)"


@dataclass(frozen=True, slots=True)
class Target:
    """The connection a call is for: where it goes and with which credentials."""

    connection_id: str
    exchange: str
    api_type: str
    testnet: bool = False
    simulated: bool = False
    credentials: Credentials | None = None

    @property
    def account_id(self) -> str:
        """Exchange + hash of the key: the unit that limits, breaker and statistics belong to."""
        if self.credentials is None:
            return public_account_id(self.exchange)
        digest = hashlib.sha256(self.credentials.api_key.encode()).hexdigest()[:16]
        return f"{self.exchange}:{digest}"

    @property
    def fingerprint(self) -> str:
        parts = [self.exchange, self.api_type, str(self.testnet), str(self.simulated)]
        if self.credentials is not None:
            c = self.credentials
            parts.append(
                hashlib.sha256(f"{c.api_key}\0{c.secret}\0{c.passphrase}".encode()).hexdigest()
            )
        return "|".join(parts)


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One call of an account: when it ended (epoch seconds), how long it took from getting its
    in-flight place to its end (waits for the request windows and 429 pauses included), and
    its failure's kind ("" when it succeeded)."""

    at: float
    seconds: float
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure


@dataclass
class CallStats:
    """What the calls of one account did: counts and the most recent outcomes."""

    successes: int = 0
    errors: int = 0
    recent: deque[CallOutcome] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))
    last_error: str = ""

    def record(self, ok: bool, seconds: float, error: str = "") -> None:
        if ok:
            self.successes += 1
        else:
            self.errors += 1
            self.last_error = error
        failure = "" if ok else error or ExchangeFailure.OTHER.value
        self.recent.append(CallOutcome(time.time(), seconds, failure))

    def average_ms(self) -> float:
        times = [c.seconds for c in self.recent if c.ok]
        return 1000 * sum(times) / len(times) if times else 0.0


@dataclass
class Account:
    throttle: Throttle
    breaker: CircuitBreaker
    stats: CallStats = field(default_factory=CallStats)
    connections: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """A snapshot of one account's health, as exchange access sees it."""

    circuit: CircuitState
    circuit_retry_in: float
    successes: int
    errors: int
    average_ms: float
    usage: Usage
    last_error: str
    recent: tuple[CallOutcome, ...] = ()  # the last calls' outcomes, oldest first
    settles_in: float | None = None  # see Throttle.settles_in


@dataclass(frozen=True)
class AccessConfig:
    limits: Mapping[str, RateLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    timeout_seconds: float = 10.0
    max_retries: int = 5
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0
    throttle_guard_seconds: float = 0.05
    simulator_url: str | None = None
    #: Exchanges that ban an account going over their limits, and how.
    rate_limit_bans: Mapping[str, RateLimitBan] = field(
        default_factory=lambda: dict(RATE_LIMIT_BANS)
    )

    def limits_for(self, exchange: str) -> RateLimits:
        return self.limits.get(exchange) or DEFAULT_LIMITS.get(exchange) or DEFAULT_LIMITS["pionex"]


class RateLimitBanned(ExchangeError):
    """A call refused without a request: the exchange bans the account for a while."""


class ExchangeAccess:
    def __init__(
        self, config: AccessConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``clock`` (of the throttles and breakers) is injectable for tests in virtual time."""
        self.config = config
        self._clock = clock
        #: Told (account id, its connection ids, new state) when an account's circuit changes.
        self.on_circuit_change: Listeners[[str, set[str], CircuitState]] = Listeners(
            "an exchange account's circuit"
        )
        #: Told (exchange, outcome, seconds) after every attempt of a call: outcome ``ok`` or the
        #: :class:`ExchangeFailure`'s value; seconds None for a call refused by an open circuit.
        self.on_attempt: Listeners[[str, str, float | None]] = Listeners("an exchange call")
        #: Told (exchange, seconds) when an HTTP request gets its turn within its account's
        #: limits: how long it waited (windows, a 429 pause, the queue ahead of it).
        self.on_limit_wait: Listeners[[str, float]] = Listeners("a wait for exchange limits")
        #: Told (exchange, connection id, seconds) when a rate limit pauses (or bans) an
        #: account: the exchange answered 429 and no call of the account goes out meanwhile.
        self.on_rate_limit_pause: Listeners[[str, str, float]] = Listeners("a rate-limit pause")
        #: Told (account id) after each call's outcome is counted in the account's statistics.
        self.on_call_counted: Listeners[[str]] = Listeners("an exchange account's calls")
        self._accounts: dict[str, Account] = {}
        self._account_of: dict[str, str] = {}  # connection id → account id
        self._adapters: dict[str, tuple[str, ExchangeAdapter]] = {}
        self._markets = MarketCache()
        self._http: HttpPool | None = None  # created on first use, inside the running loop

    # -- calls --------------------------------------------------------------------------------

    async def call(
        self,
        target: Target,
        operation: Callable[[ExchangeAdapter], Awaitable[T]],
        *,
        retry: bool = True,
    ) -> T:
        """Run ``operation`` on the target's adapter within its account's limits."""
        account = self.account(target)
        adapter = await self._adapter(target, account.throttle)
        attempts = 0
        while True:
            if not account.breaker.allow():
                self.on_attempt.tell(target.exchange, ExchangeFailure.CIRCUIT_OPEN.value, None)
                raise ExchangeError(
                    ExchangeFailure.CIRCUIT_OPEN,
                    f"{target.exchange}: calls paused after repeated failures; "
                    f"next try in {account.breaker.retry_in:.0f} s",
                    exchange=target.exchange,
                )
            outcome = await self._attempt(account, adapter, operation, target)
            self.on_call_counted.tell(target.account_id)
            if not isinstance(outcome, ExchangeError):
                return outcome
            if isinstance(outcome, RateLimitBanned):
                raise outcome
            if outcome.failure is ExchangeFailure.RATE_LIMITED:
                ban = self.config.rate_limit_bans.get(target.exchange)
                pause = account.throttle.penalize(outcome.retry_after, ban)
                log.warning(
                    "%s rate limited; %s the account %.2f s",
                    target.exchange,
                    "banned" if ban else "pausing",
                    pause,
                    extra=about(target.connection_id, Category.EXCHANGE, pause_seconds=pause),
                )
                self.on_rate_limit_pause.tell(target.exchange, target.connection_id, pause)
                if ban is None and retry and attempts < self.config.max_retries:
                    attempts += 1
                    continue
            raise outcome

    async def _attempt(
        self,
        account: Account,
        adapter: ExchangeAdapter,
        operation: Callable[[ExchangeAdapter], Awaitable[T]],
        target: Target,
    ) -> T | ExchangeError:
        async with account.throttle.in_flight():
            started = time.perf_counter()
            try:
                result = await operation(adapter)
            except asyncio.CancelledError:  # abandoned (shutdown, a stopped engine): no outcome
                account.breaker.abandon()
                raise
            except TimeoutError:  # a request of the call had no answer in time (see _send)
                error = ExchangeError(
                    ExchangeFailure.TIMEOUT,
                    f"{target.exchange}: no answer within {self.config.timeout_seconds:g} s",
                    exchange=target.exchange,
                )
            except ExchangeError as exc:
                error = exc
            except Exception:  # a fault of ours, not an outcome of the exchange's
                account.breaker.abandon()
                raise
            else:
                seconds = time.perf_counter() - started
                account.stats.record(True, seconds)
                account.throttle.succeeded()
                account.breaker.record_success()
                self.on_attempt.tell(target.exchange, OK, seconds)
                return result
        seconds = time.perf_counter() - started
        account.stats.record(False, seconds, error.failure.value)
        self.on_attempt.tell(target.exchange, error.failure.value, seconds)
        if error.failure in EXCHANGE_SIDE:
            account.breaker.record_failure()
        else:
            account.breaker.record_neutral()
        return error

    # -- accounts and adapters ----------------------------------------------------------------

    def account(self, target: Target) -> Account:
        key = target.account_id
        account = self._accounts.get(key)
        if account is None:
            account = Account(
                Throttle(
                    self.config.limits_for(target.exchange),
                    guard_seconds=self.config.throttle_guard_seconds,
                    clock=self._clock,
                    # Never paused longer than a circuit cool-down: once a 429 storm ends, the
                    # account is back within the same bound as after an outage. (An exchange's
                    # ban lasts what the exchange says.)
                    max_backoff_seconds=self.config.breaker_cooldown_seconds,
                ),
                CircuitBreaker(
                    failure_threshold=self.config.breaker_threshold,
                    cooldown_seconds=self.config.breaker_cooldown_seconds,
                    clock=self._clock,
                    on_change=functools.partial(self._circuit_changed, key),
                ),
            )
            self._accounts[key] = account
        account.connections.add(target.connection_id)
        self._account_of[target.connection_id] = key
        return account

    async def receive_window(self, target: Target) -> float:
        """How old a signed request of the target's may be on arrival and still be carried
        out (see :attr:`ExchangeAdapter.receive_window_seconds`)."""
        return (await self._adapter(target, self.account(target).throttle)).receive_window_seconds

    async def reuses_client_ids(self, target: Target) -> bool:
        """Whether the target's exchange takes a client order id again once no open order
        carries it (see :attr:`ExchangeAdapter.reuses_client_ids`)."""
        return (await self._adapter(target, self.account(target).throttle)).reuses_client_ids

    def health_of_connection(self, connection_id: str, exchange: str) -> AccountHealth:
        """The health of the account a connection last used (idle and closed if none yet)."""
        return self.health_of_account(self._account_of.get(connection_id, ""), exchange)

    def health_of_account(self, account_id: str, exchange: str) -> AccountHealth:
        """The health of one account (idle and closed if it was never used)."""
        account = self._accounts.get(account_id)
        if account is None:
            idle = Usage(0, 0, 0, self.config.limits_for(exchange), 0.0)
            return AccountHealth(CircuitState.CLOSED, 0.0, 0, 0, 0.0, idle, "")
        return AccountHealth(
            circuit=account.breaker.state,
            circuit_retry_in=account.breaker.retry_in,
            successes=account.stats.successes,
            errors=account.stats.errors,
            average_ms=account.stats.average_ms(),
            usage=account.throttle.usage(),
            last_error=account.stats.last_error,
            recent=tuple(account.stats.recent),
            settles_in=account.throttle.settles_in(),
        )

    def usage_by_exchange(self) -> dict[str, list[Usage]]:
        """How full every account's limits are now, per exchange."""
        found: dict[str, list[Usage]] = {}
        for account_id, account in self._accounts.items():
            found.setdefault(account_id.split(":", 1)[0], []).append(account.throttle.usage())
        return found

    def open_circuits(self) -> dict[str, int]:
        """How many accounts of each exchange have their circuit open or half-open (probing)."""
        counts: dict[str, int] = {}
        for account_id, account in tuple(self._accounts.items()):
            if account.breaker.state is not CircuitState.CLOSED:
                exchange = account_id.split(":")[0]
                counts[exchange] = counts.get(exchange, 0) + 1
        return counts

    def account_of(self, connection_id: str) -> str | None:
        """The account the connection last used (None before its first call)."""
        return self._account_of.get(connection_id)

    def users_of(self, account_id: str) -> frozenset[str]:
        """The ids of the account's users: connections, and market feeds (whose ids are not
        connections')."""
        account = self._accounts.get(account_id)
        return frozenset(account.connections) if account is not None else frozenset()

    def latest_failure(self, account_id: str) -> str:
        """How the account's latest call failed: "" when it succeeded or there was none."""
        account = self._accounts.get(account_id)
        return account.stats.recent[-1].failure if account and account.stats.recent else ""

    def exchange_circuit(self, exchange: str) -> CircuitState:
        """The circuit of the exchange's public account: the one its market data and every
        unauthenticated call go through. Open, the exchange is down for everyone on it,
        whoever's key they use (closed when the public account was never used)."""
        account = self._accounts.get(public_account_id(exchange))
        return account.breaker.state if account is not None else CircuitState.CLOSED

    def _circuit_changed(self, account_id: str, state: CircuitState) -> None:
        account = self._accounts.get(account_id)
        exchange = account_id.split(":")[0]
        level = logging.INFO if state is CircuitState.CLOSED else logging.WARNING
        subjects: list[str | None] = [*sorted(account.connections if account else ())]
        for connection_id in subjects or [None]:
            log.log(
                level,
                "circuit of %s is now %s",
                exchange,
                state.value,
                extra=about(connection_id, Category.EXCHANGE, circuit=state.value),
            )
        self.on_circuit_change.tell(
            account_id, set(account.connections) if account else set(), state
        )

    async def _adapter(self, target: Target, throttle: Throttle) -> ExchangeAdapter:
        cached = self._adapters.get(target.connection_id)
        if cached is not None and cached[0] == target.fingerprint:
            return cached[1]
        if cached is not None:
            await cached[1].close()
        adapter = self._build(target, throttle)
        self._adapters[target.connection_id] = (target.fingerprint, adapter)
        return adapter

    def _build(self, target: Target, throttle: Throttle) -> ExchangeAdapter:
        base_url = self.config.simulator_url if target.simulated else None
        if target.simulated and not base_url:
            raise ExchangeError(
                ExchangeFailure.UNAVAILABLE,
                "this connection uses the exchange simulator, "
                "but none is configured (CTS_SIMULATOR_URL)",
                exchange=target.exchange,
            )
        credentials = target.credentials
        try:
            instance = create_ccxt(
                target.exchange,
                target.api_type,
                api_key=credentials.api_key if credentials else None,
                secret=credentials.secret if credentials else None,
                passphrase=credentials.passphrase if credentials else None,
                base_url=base_url,
                testnet=target.testnet,
                # CTS's own timer (_send) fires first; ccxt's is only a backstop.
                timeout_seconds=self.config.timeout_seconds + 1,
                http=self._pool(),
            )
        except UnsupportedConnection as exc:
            raise ExchangeError(
                ExchangeFailure.UNSUPPORTED,
                f"{target.exchange} {target.api_type}: no exchange adapter yet",
                exchange=target.exchange,
            ) from exc
        gate_requests(instance, functools.partial(self._send, throttle, target.exchange))
        market_key = f"{target.exchange}|{target.api_type}|{target.testnet}|{base_url}"
        return CcxtAdapter(target.exchange, instance, self._markets, market_key)

    @asynccontextmanager
    async def _send(self, throttle: Throttle, exchange: str) -> AsyncIterator[None]:
        """One HTTP request: its turn within the account's limits, then the timeout. Time spent
        queueing for the limits does not count against the timeout, only the exchange's."""
        asked = time.perf_counter()
        try:
            async with throttle.request():
                self.on_limit_wait.tell(exchange, time.perf_counter() - asked)
                async with asyncio.timeout(self.config.timeout_seconds):
                    yield
        except Banned as ban:
            raise RateLimitBanned(
                ExchangeFailure.RATE_LIMITED,
                f"{exchange}: the exchange bans this account for going over its rate limit; "
                f"no request is sent for {ban.seconds:.0f} s",
                exchange=exchange,
                retry_after=ban.seconds,
            ) from None

    def _pool(self) -> HttpPool:
        if self._http is None:
            self._http = HttpPool()
        return self._http

    async def release(self, connection_id: str) -> None:
        """Close the connection's adapter (it was deleted or changed)."""
        cached = self._adapters.pop(connection_id, None)
        if cached is not None:
            await cached[1].close()
        for account in self._accounts.values():
            account.connections.discard(connection_id)
        self._account_of.pop(connection_id, None)

    async def close(self) -> None:
        for _, adapter in list(self._adapters.values()):
            await adapter.close()
        self._adapters.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None
