"""Connection tests: does this connection really work against its exchange?

A test runs three steps through exchange access (so within the account's limits):

1. **server_time** — the exchange's clock: round-trip latency and clock drift (exchange minus
   CTS, measured at the midpoint of the round trip). A drift beyond the warning threshold is a
   warning; exchanges reject requests whose timestamps are too far off.
2. **balance** — an authenticated call: it proves the key, secret (and passphrase) are right,
   and reports the balances; the total in USDT becomes the connection's ``last_test_balance``.
3. **permissions** — what the key may do, where the exchange tells: spot and derivatives
   trading, withdrawals. A key that may withdraw is a warning (CTS never needs it, and a leaked
   key that can withdraw can empty the account); a key that cannot trade is a warning too.

The status is ``failed`` if a step failed, ``warning`` if one warned, else ``success``. Each
step writes a timestamped log line, streamed to watchers while the test runs; the result is
stored on the connection and counted as a health check.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from server.connections.ids import parse_connection_id
from server.connections.monitor import HealthMonitor
from server.connections.places import Places
from server.connections.service import Connections
from server.errors import FieldViolation, InvalidArgument, NotFound
from server.exchange.access import ExchangeAccess, Target
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.model import AssetBalance, KeyPermissions
from server.exchange.throttle import RateLimits
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category
from server.streams.topic import Topic
from server.streams.watch import StreamItem, watch

BATCH_LIMIT = 50
USD_ASSETS = ("USDT",)

log = logging.getLogger("cts.tests")
LOG_LEVELS = {"INFO": logging.INFO, "WARN": logging.WARNING, "ERROR": logging.ERROR}


class TestStatus(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    FAILED = "failed"


class StepStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class TestStep:
    name: str
    status: StepStatus
    duration_ms: int
    message: str


@dataclass(frozen=True, slots=True)
class TestResult:
    connection_id: str
    test_id: str
    status: TestStatus
    balance: Decimal | None
    balances: tuple[AssetBalance, ...]
    capabilities: KeyPermissions | None
    log: tuple[str, ...]
    steps: tuple[TestStep, ...]
    duration_ms: int
    latency_ms: int | None
    clock_drift_ms: int | None
    tested_at: datetime
    error_reason: str
    error_message: str
    simulated: bool


@dataclass(frozen=True, slots=True)
class TestRun:
    """A test while it runs (``result`` None) and after."""

    test_id: str
    connection_id: str
    batch_id: str
    started_at: datetime
    log: tuple[str, ...] = ()
    result: TestResult | None = None

    @property
    def state(self) -> str:
        return "running" if self.result is None else "finished"


@dataclass(frozen=True, slots=True)
class BatchResult:
    batch_id: str
    results: tuple[TestResult, ...]
    success_count: int
    failure_count: int
    total_duration_ms: int
    started_at: datetime
    finished_at: datetime
    expires_at: datetime


@dataclass
class _Recorder:
    """Collects one test's steps and log lines, publishing each line as it is written."""

    tester: ConnectionTester
    run: TestRun
    steps: list[TestStep] = field(default_factory=list)

    def line(self, level: str, message: str, **context: object) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.run = replace(self.run, log=(*self.run.log, f"{stamp} {level:<5} {message}"))
        self.tester._publish(self.run)
        log.log(
            LOG_LEVELS[level],
            "test %s: %s",
            self.run.test_id[:8],
            message,
            extra=about(self.run.connection_id, Category.TEST, test_id=self.run.test_id, **context),
        )

    def step(self, name: str, status: StepStatus, started: float, message: str) -> None:
        self.steps.append(
            TestStep(name, status, int((time.perf_counter() - started) * 1000), message)
        )
        level = {StepStatus.OK: "INFO", StepStatus.WARNING: "WARN", StepStatus.FAILED: "ERROR"}.get(
            status, "INFO"
        )
        self.line(level, message, step=name, outcome=status.value)


class ConnectionTester:
    def __init__(
        self,
        connections: Connections,
        access: ExchangeAccess,
        monitor: HealthMonitor,
        topic: Topic[TestRun],
        *,
        concurrency: int = 10,
        drift_warning_ms: int = 1000,
        retention_seconds: float = 3600.0,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self._connections = connections
        self._access = access
        self._monitor = monitor
        self._topic = topic
        self._places = Places(concurrency)
        # Per exchange account, its tests in flight across every batch running (at most the
        # account's calls-in-flight limit).
        self._turns: dict[str, asyncio.Semaphore] = {}
        self._drift_warning_ms = drift_warning_ms
        self._retention = timedelta(seconds=retention_seconds)
        self._heartbeat_seconds = heartbeat_seconds
        self._runs: dict[str, TestRun] = {}
        self._batches: dict[str, BatchResult] = {}
        self.batches_running = 0

    # -- single tests -------------------------------------------------------------------------

    async def test(self, connection_id: str, *, batch_id: str = "") -> TestResult:
        """Test one connection; the result is stored on it. Raises only for unknown ids."""
        view = await self._connections.get(connection_id)
        target = await self._connections.target(connection_id)
        self._prune()
        run = TestRun(uuid.uuid4().hex, str(view.id), batch_id, datetime.now(UTC))
        recorder = _Recorder(self, run)
        where = f"{view.exchange} {view.api_type}" + (
            " on the exchange simulator" if view.is_simulated else ""
        )
        recorder.line("INFO", f"Testing '{view.name}' ({where})")
        started = time.perf_counter()
        outcome = await self._steps(target, recorder)
        result = TestResult(
            connection_id=str(view.id),
            test_id=run.test_id,
            status=outcome.status,
            balance=outcome.balance,
            balances=outcome.balances,
            capabilities=outcome.capabilities,
            log=(),
            steps=tuple(recorder.steps),
            duration_ms=int((time.perf_counter() - started) * 1000),
            latency_ms=outcome.latency_ms,
            clock_drift_ms=outcome.drift_ms,
            tested_at=run.started_at,
            error_reason=outcome.failure,
            error_message=outcome.error_message,
            simulated=view.is_simulated,
        )
        failure = {"failure": result.error_reason} if result.error_reason else {}
        recorder.line(
            "INFO" if result.status is not TestStatus.FAILED else "ERROR",
            f"Test {result.status.value} in {result.duration_ms} ms",
            status=result.status.value,
            duration_ms=result.duration_ms,
            **failure,
        )
        result = replace(result, log=recorder.run.log)
        await self._connections.record_test(
            str(view.id),
            status=result.status.value,
            balance=result.balance,
            log=result.log,
            at=result.tested_at,
            duration_ms=result.duration_ms,
            capabilities=result.capabilities,
        )
        self._publish(replace(recorder.run, result=result))
        await self._monitor.record_check(
            view.id, "ok" if result.status is not TestStatus.FAILED else result.error_reason
        )
        return result

    async def _steps(self, target: Target, recorder: _Recorder) -> _Outcome:
        outcome = _Outcome()
        # 1. the exchange's clock
        started = time.perf_counter()
        try:
            clock = await self._access.call(target, lambda a: a.server_time())
        except ExchangeError as error:
            recorder.step(
                "server_time", StepStatus.FAILED, started, f"Server time: {error.message}"
            )
            return outcome.failed(error)
        self._monitor.record_clock(target, clock)
        outcome.latency_ms = round(clock.latency_ms)
        outcome.drift_ms = round(clock.drift_ms)
        drift_note = f"latency {outcome.latency_ms} ms, clock drift {outcome.drift_ms:+d} ms"
        if abs(outcome.drift_ms) > self._drift_warning_ms:
            recorder.step(
                "server_time",
                StepStatus.WARNING,
                started,
                f"Server time: {drift_note} (clock skew)",
            )
            outcome.warned = True
        else:
            recorder.step("server_time", StepStatus.OK, started, f"Server time: {drift_note}")

        # 2. credentials and balance
        started = time.perf_counter()
        if target.credentials is None:
            recorder.step(
                "balance", StepStatus.FAILED, started, "Balance: no API key and secret are stored"
            )
            return outcome.missing_credentials()
        try:
            balances = await self._access.call(target, lambda a: a.balances())
        except ExchangeError as error:
            message = error.message
            if error.failure is ExchangeFailure.CLOCK_SKEW:
                message += f" (measured drift {outcome.drift_ms:+d} ms)"
            recorder.step("balance", StepStatus.FAILED, started, f"Balance: {message}")
            return outcome.failed(error, message)
        outcome.balances = tuple(b for b in balances if b.total != 0)
        outcome.balance = sum((b.total for b in balances if b.asset in USD_ASSETS), Decimal(0))
        others = len([b for b in outcome.balances if b.asset not in USD_ASSETS])
        recorder.step(
            "balance",
            StepStatus.OK,
            started,
            f"Balance: {outcome.balance} USDT" + (f" and {others} other assets" if others else ""),
        )

        # 3. what the key may do
        started = time.perf_counter()
        try:
            permissions = await self._access.call(target, lambda a: a.key_permissions())
        except ExchangeError as error:
            recorder.step(
                "permissions", StepStatus.WARNING, started, f"Permissions: {error.message}"
            )
            outcome.warned = True
            return outcome
        outcome.capabilities = permissions
        described = _describe(permissions)
        if permissions.withdrawals:
            recorder.step(
                "permissions",
                StepStatus.WARNING,
                started,
                f"Permissions: {described}. The key may WITHDRAW funds: use a key without "
                "withdrawal permission",
            )
            outcome.warned = True
        elif permissions.spot_trading is False and permissions.derivatives_trading is False:
            recorder.step(
                "permissions",
                StepStatus.WARNING,
                started,
                f"Permissions: {described}; trading is not allowed",
            )
            outcome.warned = True
        else:
            recorder.step("permissions", StepStatus.OK, started, f"Permissions: {described}")
        return outcome

    # -- batches ------------------------------------------------------------------------------

    async def batch(self, connection_ids: Sequence[str]) -> BatchResult:
        """Test up to 50 connections in parallel (within the concurrency cap and limits).

        Connections that share an exchange account (the same key) share its limits: at most
        the account's calls-in-flight limit of their tests run at once, in this batch and any
        other running at the same time (more would only wait
        for the account while holding places of the cap that other accounts could use), and
        the account whose limits the batch needs longest (its tests per allowed request a
        second) gets a freed place first."""
        ids = _batch_ids(connection_ids)
        accounts: dict[str, str] = {}  # connection id → its exchange account
        limits: dict[str, RateLimits] = {}
        for connection_id in ids:  # unknown ids are refused before anything runs
            target = await self._connections.target(connection_id)
            accounts[connection_id] = target.account_id
            limits[target.account_id] = self._access.config.limits_for(target.exchange)
        tests = Counter(accounts.values())
        turns = {
            a: self._turns.setdefault(a, asyncio.Semaphore(lim.concurrent))
            for a, lim in limits.items()
        }
        urgency = {a: tests[a] / lim.per_second for a, lim in limits.items()}
        batch_id = uuid.uuid4().hex
        started_at = datetime.now(UTC)
        started = time.perf_counter()

        async def one(connection_id: str) -> TestResult:
            account = accounts[connection_id]
            async with turns[account], self._places.place(urgency[account]):
                return await self.test(connection_id, batch_id=batch_id)

        self.batches_running += 1
        try:
            results = await asyncio.gather(*(one(i) for i in ids))
        finally:
            self.batches_running -= 1
        finished_at = datetime.now(UTC)
        succeeded = sum(1 for r in results if r.status is not TestStatus.FAILED)
        batch = BatchResult(
            batch_id=batch_id,
            results=tuple(results),
            success_count=succeeded,
            failure_count=len(results) - succeeded,
            total_duration_ms=int((time.perf_counter() - started) * 1000),
            started_at=started_at,
            finished_at=finished_at,
            expires_at=finished_at + self._retention,
        )
        self._batches[batch_id] = batch
        return batch

    def batch_result(self, batch_id: str) -> BatchResult:
        self._prune()
        batch = self._batches.get(batch_id)
        if batch is None:
            raise NotFound(
                f"batch test '{batch_id}' not found (results are kept for an hour)",
                reason="BATCH_TEST_NOT_FOUND",
            )
        return batch

    # -- streaming ----------------------------------------------------------------------------

    def watch(
        self, *, connection_id: str | None, batch_id: str | None, resume_revision: int = 0
    ) -> AsyncIterator[StreamItem[TestRun]]:
        if connection_id is not None:
            connection_id = str(parse_connection_id(connection_id, field="connection_id"))

        def matches(run: TestRun) -> bool:
            return (connection_id is None or run.connection_id == connection_id) and (
                batch_id is None or run.batch_id == batch_id
            )

        async def load() -> list[TestRun]:
            self._prune()
            return sorted(self._runs.values(), key=lambda r: r.started_at)

        return watch(
            self._topic,
            load=load,
            matches=matches,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
        )

    def _publish(self, run: TestRun) -> None:
        previous = self._runs.get(run.test_id)
        self._runs[run.test_id] = run
        self._topic.publish(run.test_id, run, previous=previous)

    def _prune(self) -> None:
        horizon = datetime.now(UTC) - self._retention
        for test_id, run in list(self._runs.items()):
            if run.result is not None and run.started_at < horizon:
                del self._runs[test_id]
        for batch_id, batch in list(self._batches.items()):
            if batch.expires_at < datetime.now(UTC):
                del self._batches[batch_id]


@dataclass
class _Outcome:
    warned: bool = False
    failure: str = ""
    error_message: str = ""
    latency_ms: int | None = None
    drift_ms: int | None = None
    balance: Decimal | None = None
    balances: tuple[AssetBalance, ...] = ()
    capabilities: KeyPermissions | None = None

    @property
    def status(self) -> TestStatus:
        if self.failure:
            return TestStatus.FAILED
        return TestStatus.WARNING if self.warned else TestStatus.SUCCESS

    def failed(self, error: ExchangeError, message: str | None = None) -> _Outcome:
        self.failure = error.failure.value
        self.error_message = message or error.message
        return self

    def missing_credentials(self) -> _Outcome:
        self.failure = "credentials_missing"
        self.error_message = "no API key and secret are stored for this connection"
        return self


def _describe(permissions: KeyPermissions) -> str:
    def word(value: bool | None) -> str:
        return "unknown" if value is None else "yes" if value else "no"

    return (
        f"spot trading {word(permissions.spot_trading)}, "
        f"derivatives trading {word(permissions.derivatives_trading)}, "
        f"withdrawals {word(permissions.withdrawals)}"
    )


def _batch_ids(connection_ids: Sequence[str]) -> list[str]:
    ids = list(connection_ids)
    if not ids:
        raise InvalidArgument.field("connection_ids", "at least one connection id is required")
    if len(ids) > BATCH_LIMIT:
        raise InvalidArgument.field(
            "connection_ids", f"at most {BATCH_LIMIT} connections per batch, not {len(ids)}"
        )
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidArgument(
            [FieldViolation("connection_ids", f"listed twice: {', '.join(duplicates)}")]
        )
    for connection_id in ids:
        parse_connection_id(connection_id, field="connection_ids")
    return ids
