"""Start-up checks: is this installation sound? (``cts verify``, ``VerifyStartup``)

Each check reports pass, warn or fail, what it found in words, and how long it took; the
report's status is the worst of them. Fail means the operator must act before CTS can be
trusted; warn means it works, but something deserves a look.

- storage: a trivial query answers (fail: no database, or it does not answer).
- schema: at the newest migration (fail: behind, a revision this CTS does not know, or none).
- master_key: present, readable by its owner only, and it opens the stored canary (fail:
  missing while credentials are sealed, open to others, malformed, or does not open the
  canary — a replaced key; warn: no canary stored yet, or storage unreachable).
- data_folder: private to its owner (fail: others may enter or list it, or reach a secret in
  it; warn: the same for its group). See ``file_checks``.
- disk_space: free space on the data folder's disk (warn below 1 GiB, fail below 100 MiB).
- envoy: Envoy is ready (warn when not running or not ready: `cts serve` runs without it).
- simulator: the configured exchange simulator answers (warn otherwise: it serves only
  simulated connections).
- clock_offsets: each exchange's last measured offset within CTS_CLOCK_DRIFT_WARNING_MS (warn
  beyond it).
- engines: no engine in error (warn otherwise: they are retried by themselves).

Checks run concurrently; only the schema and the key's canary wait for storage. A check that
cannot apply is *skipped*, with the reason, rather than reported: the schema when storage is
unreachable, the simulator when none is configured, and clock offsets and engines outside the
running server (they are runtime state: ``clock_offsets`` and ``failed_engines`` give them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from server.monitoring.check import CheckResult, CheckStatus, Finding, worst
from server.monitoring.file_checks import DISK_FAIL_BYTES, DISK_WARN_BYTES, data_folder, disk_space
from server.monitoring.master_key_check import master_key
from server.monitoring.stack_checks import envoy, simulator
from server.monitoring.storage_checks import schema_current, storage_reachable
from server.settings import Settings
from server.storage.database import Database

log = logging.getLogger("cts.monitoring")

#: Exchange (``binance``, ``binance (simulator)``) -> its last measured clock offset in ms
#: (exchange minus CTS), None when not measured yet. No exchange is called to learn it.
ClockOffsets = Callable[[], Mapping[str, int | None]]
#: The engines in error: (connection name or id, the error).
FailedEngines = Callable[[], Sequence[tuple[str, str]]]

CHECKS = (
    "storage",
    "schema",
    "master_key",
    "data_folder",
    "disk_space",
    "envoy",
    "simulator",
    "clock_offsets",
    "engines",
)
RUNTIME_ONLY = "only the running server knows it (GET /api/system/verify-startup)"


@dataclass(frozen=True, slots=True)
class SkippedCheck:
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class StartupReport:
    checks: tuple[CheckResult, ...]
    skipped: tuple[SkippedCheck, ...]
    checked_at: datetime
    duration_ms: int

    @property
    def status(self) -> CheckStatus:
        return worst(check.status for check in self.checks)


class StartupChecks:
    """The checks of one installation: its settings, its database (None when there is none to
    open, see ``database_for_checks``) and, in the running server, its runtime state."""

    def __init__(
        self,
        settings: Settings,
        database: Database | None,
        *,
        clock_offsets: ClockOffsets | None = None,
        failed_engines: FailedEngines | None = None,
        disk_warn_below: int = DISK_WARN_BYTES,
        disk_fail_below: int = DISK_FAIL_BYTES,
    ) -> None:
        self._settings = settings
        self._database = database
        self._clock_offsets = clock_offsets
        self._failed_engines = failed_engines
        self._disk_limits = (disk_warn_below, disk_fail_below)

    async def run(self) -> StartupReport:
        checked_at = datetime.now(UTC)
        started = time.perf_counter()
        settings = self._settings
        skipped: list[SkippedCheck] = []
        warn_below, fail_below = self._disk_limits
        folder = settings.resolved_data_dir

        checks: list[Awaitable[CheckResult]] = [
            _one("data_folder", lambda: asyncio.to_thread(data_folder, settings)),
            _one(
                "disk_space",
                lambda: asyncio.to_thread(
                    disk_space, folder, warn_below=warn_below, fail_below=fail_below
                ),
            ),
            _one("envoy", lambda: envoy(settings)),
        ]
        url = settings.simulator_url
        if url:
            checks.append(_one("simulator", lambda: simulator(url)))
        else:
            skipped.append(SkippedCheck("simulator", "none is configured (CTS_SIMULATOR_URL)"))
        offsets, failed = self._clock_offsets, self._failed_engines
        if offsets is not None:
            warning_ms = settings.clock_drift_warning_ms
            checks.append(_one("clock_offsets", lambda: _now(clock_offsets(offsets(), warning_ms))))
        else:
            skipped.append(SkippedCheck("clock_offsets", RUNTIME_ONLY))
        if failed is not None:
            checks.append(_one("engines", lambda: _now(engines(failed()))))
        else:
            skipped.append(SkippedCheck("engines", RUNTIME_ONLY))

        after_storage, others = await asyncio.gather(
            self._storage_and_after(skipped), asyncio.gather(*checks)
        )
        results = [*after_storage, *others]
        return StartupReport(
            checks=tuple(sorted(results, key=lambda r: CHECKS.index(r.name))),
            skipped=tuple(sorted(skipped, key=lambda s: CHECKS.index(s.name))),
            checked_at=checked_at,
            duration_ms=_ms_since(started),
        )

    async def _storage_and_after(self, skipped: list[SkippedCheck]) -> list[CheckResult]:
        """Storage first; then the schema and the key's canary, which need it."""
        settings, database = self._settings, self._database
        storage = await _one(
            "storage", lambda: storage_reachable(database, settings.resolved_database_url)
        )
        reachable = database if storage.status is CheckStatus.PASS else None
        later = [_one("master_key", lambda: master_key(settings, reachable))]
        if reachable is not None:
            later.append(_one("schema", lambda: schema_current(reachable)))
        else:
            skipped.append(SkippedCheck("schema", "storage is unreachable"))
        return [storage, *await asyncio.gather(*later)]


def clock_offsets(offsets: Mapping[str, int | None], warning_ms: int) -> Finding:
    """The last measured offset of each exchange in use against the warning threshold."""
    if not offsets:
        return Finding.passed("no exchange reached since the server started")
    said, beyond = [], []
    for exchange, offset in sorted(offsets.items()):
        if offset is None:
            said.append(f"{exchange} not measured yet")
            continue
        said.append(f"{exchange} {offset:+d} ms")
        if abs(offset) > warning_ms:
            beyond.append(exchange)
    found = ", ".join(said)
    if beyond:
        return Finding.warned(
            f"{found}: {', '.join(beyond)} beyond ±{warning_ms} ms; exchanges refuse signed "
            "requests whose time is too far off: synchronise this machine's clock (NTP)"
        )
    return Finding.passed(f"{found} (within ±{warning_ms} ms)")


def engines(failed: Sequence[tuple[str, str]]) -> Finding:
    """Engines in error are retried with back-off and never stop the others: a warning."""
    if not failed:
        return Finding.passed("no engine is in error")
    listed = "; ".join(f"{name}: {error}" for name, error in failed)
    count = f"{len(failed)} engine{'s' if len(failed) > 1 else ''}"
    return Finding.warned(f"{count} in error, retried with back-off: {listed}")


async def _now(finding: Finding) -> Finding:
    return finding


async def _one(name: str, check: Callable[[], Awaitable[Finding]]) -> CheckResult:
    """Run one check and time it; a check that breaks is reported as failed, never raised."""
    started = time.perf_counter()
    try:
        finding = await check()
    except Exception:
        log.exception("start-up check %s could not run", name)
        finding = Finding.failed("the check could not run (see the server log)")
    return CheckResult(name, finding.status, finding.detail, _ms_since(started))


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
