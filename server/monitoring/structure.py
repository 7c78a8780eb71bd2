"""The server's structure metrics as plain numbers (``GET /api/structure/metrics``): the process,
the event loop, storage, RPCs, exchange calls and streams.

Process and RPC figures are read from the server's Prometheus registry (the one place they are
counted); RPC latency percentiles are estimated from the histogram's buckets by linear
interpolation, as Prometheus's ``histogram_quantile`` does. Storage is measured when asked:
the database's size and a row count per table (a few milliseconds; more with millions of log
entries).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.samples import Sample
from sqlalchemy import func, select, text
from sqlmodel import Session

from server.storage.database import Database
from server.storage.metadata import metadata


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    cpu_percent: float  # of one core, since the previous reading (0 on the first)
    cpu_seconds: float
    rss_bytes: float
    open_files: int
    threads: int


@dataclass(frozen=True, slots=True)
class StorageFigures:
    kind: str
    size_bytes: float
    rows: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RpcFigures:
    method: str  # /package.Service/Method
    count: int
    errors: int  # finished with a status other than OK
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class StructureFigures:
    process: ProcessFigures
    loop_lag_p50_ms: float
    loop_lag_p99_ms: float
    storage: StorageFigures
    rpcs: tuple[RpcFigures, ...]
    exchange_requests: Mapping[tuple[str, str], int]  # (exchange, outcome) → calls
    subscribers: Mapping[str, int]
    measured_at: datetime


Samples = Mapping[str, list[Sample]]


def collect(registry: CollectorRegistry | None) -> Samples:
    """Every sample of the registry, by name (one collection of every collector)."""
    found: dict[str, list[Sample]] = defaultdict(list)
    for family in registry.collect() if registry is not None else ():
        for sample in family.samples:
            found[sample.name].append(sample)
    return found


def _value(samples: Samples, name: str) -> float:
    return next((s.value for s in samples.get(name, ())), 0.0)


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """The ``q`` quantile from cumulative ``(upper bound, count)`` buckets (sorted, ending with
    +Inf), interpolating linearly inside the bucket; the highest finite bound when it falls in
    +Inf."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return 0.0
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = upper, count
    return lower


def rpc_figures(samples: Samples) -> tuple[RpcFigures, ...]:
    handled: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample in samples.get("grpc_server_handled_total", ()):
        method = f"/{sample.labels['grpc_service']}/{sample.labels['grpc_method']}"
        handled[method][0] += int(sample.value)
        if sample.labels["grpc_code"] != "OK":
            handled[method][1] += int(sample.value)
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for sample in samples.get("grpc_server_handling_seconds_bucket", ()):
        method = f"/{sample.labels['grpc_service']}/{sample.labels['grpc_method']}"
        buckets[method].append((float(sample.labels["le"]), sample.value))
    figures = []
    for method, (count, errors) in sorted(handled.items()):
        ordered = sorted(buckets.get(method, []))
        figures.append(
            RpcFigures(
                method,
                count,
                errors,
                round(bucket_quantile(0.5, ordered) * 1000, 3),
                round(bucket_quantile(0.99, ordered) * 1000, 3),
            )
        )
    return tuple(figures)


def _rows(session: Session) -> dict[str, int]:
    return {
        name: int(session.execute(select(func.count()).select_from(table)).scalar() or 0)
        for name, table in sorted(metadata.tables.items())
    }


def _size(session: Session, dialect: str) -> float:
    if dialect == "postgresql":
        size = session.execute(text("select pg_database_size(current_database())")).scalar()
        return float(size or 0)
    path = session.get_bind().url.database  # type: ignore[union-attr]
    if not path or path == ":memory:":
        return 0.0
    files = [Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")]
    return float(sum(f.stat().st_size for f in files if f.exists()))


class StructureMeter:
    def __init__(
        self,
        db: Database,
        registry: CollectorRegistry | None,
        *,
        loop_lag: Callable[[], tuple[float, float]],
        subscribers: Callable[[], Mapping[str, int]],
    ) -> None:
        self._db = db
        self._registry = registry
        self._loop_lag = loop_lag
        self._subscribers = subscribers
        self._last_cpu: tuple[float, float] | None = None  # (wall, cpu seconds)

    def _process(self, samples: Samples) -> ProcessFigures:
        times = os.times()
        cpu = times.user + times.system
        now = time.monotonic()
        percent = 0.0
        if self._last_cpu is not None and now > self._last_cpu[0]:
            percent = 100 * (cpu - self._last_cpu[1]) / (now - self._last_cpu[0])
        self._last_cpu = (now, cpu)
        return ProcessFigures(
            cpu_percent=round(percent, 2),
            cpu_seconds=round(cpu, 3),
            rss_bytes=_value(samples, "process_resident_memory_bytes"),
            open_files=int(_value(samples, "process_open_fds")),
            threads=len(os.listdir("/proc/self/task")) if Path("/proc/self/task").exists() else 0,
        )

    async def measure(self) -> StructureFigures:
        dialect = self._db.dialect
        rows, size = await self._db.read(lambda s: (_rows(s), _size(s, dialect)))
        p50, p99 = self._loop_lag()
        samples = collect(self._registry)
        requests = {
            (s.labels["exchange"], s.labels["outcome"]): int(s.value)
            for s in samples.get("cts_exchange_requests_total", ())
        }
        return StructureFigures(
            process=self._process(samples),
            loop_lag_p50_ms=round(p50 * 1000, 3),
            loop_lag_p99_ms=round(p99 * 1000, 3),
            storage=StorageFigures(dialect, size, rows),
            rpcs=rpc_figures(samples),
            exchange_requests=requests,
            subscribers=dict(self._subscribers()),
            measured_at=datetime.now(UTC),
        )
