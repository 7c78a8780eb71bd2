"""Stream watchers for the engines bench, each kind in a process of its own.

A process opens ``count`` streams of one kind (``WatchEngines`` or ``WatchPositions``), each on
its own channel as separate clients are, and reports over a pipe: when every stream's snapshot is
whole; then, between the parent's "go" and "stop", per watcher the bytes and changes received and
each change's delivery time (receipt - the change's ``event_time``; one machine clock), the
marks events of ``WatchPositions`` apart, resyncs, failures, and its own CPU share (whether the
clients kept up is part of reading the delays).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.stream.v1 import stream_pb2

from bench.exchange_access import AUTH

KINDS = ("status", "position")  # WatchEngines, WatchPositions
BATCH = 1000  # max_batch, as the dashboard asks (the server's most)
#: A burst: a second in which a position watcher receives more than this many changes (every
#: engine trading the simulator's same prices with the same six parameter sets fills at once:
#: tens of thousands of changes within a second or two, against tens a second in between).
BURST = 2000


class Watcher:
    """One stream's client and what it received while ``counting``."""

    def __init__(self) -> None:
        self.bytes = 0
        self.delays: list[float] = []
        self.received_at: list[float] = []  # when each change of ``delays`` arrived
        self.counting = False
        self.changes = 0
        self.marks = 0  # WatchPositions: marks events, the positions they re-marked, delays
        self.mark_rows = 0
        self.mark_delays: list[float] = []
        self.resyncs = 0  # snapshots sent because this subscriber fell behind
        self.synced = asyncio.Event()  # its first snapshot is whole
        self.failure = ""

    async def follow(self, stream: Any) -> None:
        try:
            async for message in stream:
                if self.counting:
                    self.bytes += message.ByteSize()
                self._take(message)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:  # not the bench's own end
                self.failure = f"{error.code().name}: {error.details()}"
        finally:
            self.synced.set()

    def _take(self, message: Any) -> None:
        event = message.WhichOneof("event")
        if event == "batch":
            for response in message.batch.responses:
                self._take(response)
            return
        if event == "snapshot":
            snapshot = message.snapshot
            self.resyncs += snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESYNC
            if not getattr(snapshot, "more", False):  # a position snapshot comes in parts
                self.synced.set()
        if not self.counting:
            return
        if event in ("change", "marks"):
            sent = message.event_time.seconds + message.event_time.nanos / 1e9
            now = time.time()
            if event == "change":
                self.delays.append(now - sent)
                self.received_at.append(now)
            else:
                self.mark_delays.append(now - sent)
        if event == "change":
            self.changes += 1
        elif event == "marks":
            self.marks += 1
            self.mark_rows += len(message.marks.marks)


@dataclass
class Timeline:
    """Every change the watchers of one kind received: when (the wall clock's whole second)
    and its delivery delay (s), and how many watchers there were."""

    seconds: array[int]
    delays: array[float]
    watchers: int

    @classmethod
    def of(cls, watchers: list[Watcher]) -> Timeline:
        seconds, delays = array("q"), array("d")
        for watcher in watchers:
            seconds.extend(int(t) for t in watcher.received_at)
            delays.extend(watcher.delays)
        return cls(seconds, delays, len(watchers))

    def per_watcher(self) -> Counter[int]:
        """Changes received per watcher, by second."""
        counts = Counter(self.seconds)
        return Counter({second: n // max(1, self.watchers) for second, n in counts.items()})


def bursts(per_watcher: Counter[int], threshold: int = BURST) -> set[int]:
    """The seconds in which a position watcher received more than ``threshold`` changes
    (``per_watcher``: :meth:`Timeline.per_watcher`), and the second after each (what a burst
    left waiting)."""
    busy = {second for second, n in per_watcher.items() if n > threshold}
    return busy | {second + 1 for second in busy}


def outside(timeline: Timeline, seconds: set[int]) -> list[float]:
    """The delays (s) of the changes received outside ``seconds``."""
    return [d for s, d in zip(timeline.seconds, timeline.delays, strict=True) if s not in seconds]


def burst_figures(status: Timeline, position: Timeline) -> dict[str, float]:
    """How much of the window the position bursts took, the largest, and each stream's
    delivery p99 over the rest of the window."""
    per_watcher = position.per_watcher()
    busy = bursts(per_watcher)
    return {
        "burst_seconds": float(len(busy)),
        "burst_largest": float(max(per_watcher.values(), default=0)),
        "burst_changes": float(sum(n for second, n in per_watcher.items() if second in busy)),
        "status_quiet_p99_ms": 1000 * percentile(outside(status, busy), 0.99),
        "position_quiet_p99_ms": 1000 * percentile(outside(position, busy), 0.99),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def figures(kind: str, watchers: list[Watcher], seconds: float) -> dict[str, float]:
    """Per watcher: bytes/s, changes/s, marks; over all of them: the delivery p50 and p99s
    (ms), also of the changes received in the window's last half (a burst's backlog drained,
    or not)."""
    many = max(1, len(watchers))
    received = [t for w in watchers for t in w.received_at]
    half = (min(received) + max(received)) / 2 if received else 0.0
    late = [d for w in watchers for d, t in zip(w.delays, w.received_at, strict=True) if t >= half]
    return {
        f"{kind}_p50_ms": 1000 * percentile([d for w in watchers for d in w.delays], 0.5),
        f"{kind}_late_p99_ms": 1000 * percentile(late, 0.99),
        f"{kind}_bytes_per_s": sum(w.bytes for w in watchers) / many / seconds,
        f"{kind}_changes_per_s": sum(w.changes for w in watchers) / many / seconds,
        f"{kind}_p99_ms": 1000 * percentile([d for w in watchers for d in w.delays], 0.99),
        f"{kind}_marks_per_s": sum(w.marks for w in watchers) / many / seconds,
        f"{kind}_mark_rows_per_s": sum(w.mark_rows for w in watchers) / many / seconds,
        f"{kind}_marks_p99_ms": 1000
        * percentile([d for w in watchers for d in w.mark_delays], 0.99),
        f"{kind}_resyncs": float(sum(w.resyncs for w in watchers)),
        f"{kind}_failed": float(sum(bool(w.failure) for w in watchers)),
    }


async def _watch(target: str, kind: str, count: int, pipe: Connection) -> None:
    watchers = [Watcher() for _ in range(count)]
    channels = [grpc.aio.insecure_channel(target) for _ in range(count)]
    streams = []
    for channel in channels:
        stub = engine_pb2_grpc.EngineServiceStub(channel)
        if kind == "status":
            request = epb.WatchEnginesRequest(max_batch=BATCH)
            streams.append(stub.WatchEngines(request, metadata=AUTH))
        else:
            asked = epb.WatchPositionsRequest(max_batch=BATCH)
            streams.append(stub.WatchPositions(asked, metadata=AUTH))
    following = [asyncio.ensure_future(w.follow(s)) for w, s in zip(watchers, streams, strict=True)]
    started = time.perf_counter()
    for watcher in watchers:
        await watcher.synced.wait()
    pipe.send(("synced", time.perf_counter() - started))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)  # "go"
    for watcher in watchers:
        watcher.counting = True
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    for watcher in watchers:
        watcher.counting = False
    result = figures(kind, watchers, wall)
    result[f"{kind}_client_cpu_share"] = cpu / wall
    timeline = Timeline.of(watchers)
    for failure in sorted({w.failure for w in watchers if w.failure}):
        print(f"[watchers] a {kind} stream failed: {failure}", file=sys.stderr, flush=True)
    for stream in streams:
        stream.cancel()
    for task in following:
        task.cancel()
    for channel in channels:
        await channel.close()
    pipe.send(("figures", result, timeline))


def _process(target: str, kind: str, count: int, pipe: Connection) -> None:
    asyncio.run(_watch(target, kind, count, pipe))


class WatcherProcess:
    """``count`` watchers of one kind (``status`` or ``position``) in a child process."""

    def __init__(self, target: str, kind: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self.process = context.Process(
            target=_process, args=(target, kind, count, child), daemon=True
        )
        self.process.start()

    async def synced(self) -> float:
        """Seconds until every one of its streams' snapshot was whole."""
        what, seconds = await asyncio.to_thread(self._pipe.recv)
        assert what == "synced", what
        return float(seconds)

    def go(self) -> None:
        self._pipe.send("go")

    async def stop(self) -> tuple[dict[str, float], Timeline]:
        """The figures of :func:`figures`, and every change's arrival and delay."""
        self._pipe.send("stop")
        what, result, timeline = await asyncio.to_thread(self._pipe.recv)
        assert what == "figures", what
        self.process.join(timeout=30)
        if self.process.is_alive():
            os.kill(self.process.pid, 9)
        return dict(result), timeline
