"""WatchConnections fan-out: N open subscribers on C stored connections, in one run.

    python bench/fanout.py [--subscribers 1000] [--connections 1000] [--changes 100]
                           [--interval-ms 100] [--workers 4] [--channels 2]

Starts the exchange simulator (`cts simulator`) and a CTS server (`cts serve`, engines off) as
separate processes, stores C connections, then opens N `WatchConnections` streams (no filter)
from W client processes (each with its own gRPC channels, so the clients' CPU is not one
core's), waits until every stream has its snapshot of all C connections, and then renames one
connection every ``interval`` (`UpdateConnection`), ``changes`` times.

Commit-to-receipt, per subscriber per change: a change's message carries the change's own
time in ``event_time`` (stamped by the server when the change is committed and published,
under the topic's order lock), and each client notes its wall clock when the message reaches
it; both on this machine's clock. Reports p50/p95/p99/max of those, the time until every
snapshot arrived, the server's RSS (/proc/PID/statm) before the streams were opened, at its
highest while the snapshots went out, and after, and the server's CPU time for the snapshots
and for the changes. The clients' own receive cost is part of the figures (a Python gRPC
client, messages kept as bytes until the measurement ends). Timings are reported, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "proto"))

from cts.connection.v1 import connection_pb2 as pb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402
from cts.stream.v1 import stream_pb2  # noqa: E402
from google.protobuf import field_mask_pb2  # noqa: E402

from bench.engines import cpu_seconds, rss_bytes  # noqa: E402
from bench.exchange_access import (  # noqa: E402
    AUTH,
    EXCHANGES,
    Server,
    Simulator,
    connect,
    say,
    wait_serving,
)
from tests.support.ports import free_port  # noqa: E402

WATCH = "/cts.connection.v1.ConnectionService/WatchConnections"


# -- the subscribers (one client process each) ----------------------------------------------


def worker(target: str, streams: int, channels: int, expected: int, pipe: Pipe) -> None:
    asyncio.run(_subscribe(target, streams, channels, expected, pipe))


async def _subscribe(target: str, streams: int, channels: int, expected: int, pipe: Pipe) -> None:
    """Open ``streams`` streams; report when every snapshot is in, then collect the changes
    until told to stop, and send back (revision, commit ns, receipt ns) per change seen."""
    opened = [grpc.aio.insecure_channel(target) for _ in range(channels)]
    received: list[list[tuple[int, bytes]]] = [[] for _ in range(streams)]
    snapshots = 0
    all_in = asyncio.Event()
    wanted = 0  # changes made, once told
    complete = 0  # streams with every change
    finished = asyncio.Event()
    problems: list[str] = []
    request = pb.WatchConnectionsRequest().SerializeToString()

    async def one(index: int) -> None:
        nonlocal snapshots, complete
        call = opened[index % channels].unary_stream(WATCH, request_serializer=None)
        stream = call(request, metadata=AUTH)
        mine = received[index]
        first = True
        async for raw in stream:
            now = time.time_ns()
            if first:
                first = False
                message = pb.WatchConnectionsResponse.FromString(raw)
                if len(message.snapshot.connections) != expected:
                    problems.append(f"snapshot of {len(message.snapshot.connections)}")
                snapshots += 1
                if snapshots == streams:
                    all_in.set()
                continue
            mine.append((now, raw))
            if len(mine) == wanted:
                complete += 1
                if complete == streams:
                    finished.set()

    tasks = [asyncio.create_task(one(i)) for i in range(streams)]
    await all_in.wait()
    pipe.send(("ready", problems[:3]))
    loop = asyncio.get_running_loop()
    _, wanted = await loop.run_in_executor(None, pipe.recv)  # ("stop", changes made)
    complete = sum(len(mine) >= wanted for mine in received)
    if complete == streams:
        finished.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), 60)
    pipe.send(("in", None))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in opened:
        await channel.close()
    seen: list[tuple[int, int, int]] = []
    for mine in received:
        for now, raw in mine:
            message = pb.WatchConnectionsResponse.FromString(raw)
            if message.WhichOneof("event") == "change":
                seen.append((message.revision, message.event_time.ToNanoseconds(), now))
    pipe.send(("done", seen))


# -- the floor: bare gRPC with the same clients ------------------------------------------------


def floor_server(port: int, connections: int, pipe: Pipe) -> None:
    asyncio.run(_floor(port, connections, pipe))


async def _floor(port: int, connections: int, pipe: Pipe) -> None:
    """A bare grpc.aio server with the same two methods and nothing else: a snapshot of
    ``connections`` small connections serialised once, and each update's change serialised once
    and queued to every stream. What the Python gRPC server alone costs per message."""
    snapshot = pb.WatchConnectionsResponse(revision=1)
    snapshot.snapshot.connections.extend(
        pb.Connection(id=str(n), name=f"c{n}") for n in range(connections)
    )
    first = snapshot.SerializeToString()
    queues: set[asyncio.Queue[bytes]] = set()
    revision = 1

    async def watch(request: bytes, context: Any) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)
        try:
            yield first
            while True:
                yield await queue.get()
        finally:
            queues.discard(queue)

    async def update(request: pb.UpdateConnectionRequest, context: Any) -> pb.Connection:
        nonlocal revision
        revision += 1
        message = pb.WatchConnectionsResponse(revision=revision)
        message.event_time.GetCurrentTime()
        message.change.type = stream_pb2.CHANGE_TYPE_MODIFIED
        message.change.connection.id = request.id
        message.change.connection.name = request.connection.name
        wire = message.SerializeToString()
        for queue in queues:
            queue.put_nowait(wire)
        return message.change.connection

    handlers = {
        "WatchConnections": grpc.unary_stream_rpc_method_handler(watch),
        "UpdateConnection": grpc.unary_unary_rpc_method_handler(
            update,
            request_deserializer=pb.UpdateConnectionRequest.FromString,
            response_serializer=pb.Connection.SerializeToString,
        ),
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("cts.connection.v1.ConnectionService", handlers),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    pipe.send("up")
    await server.wait_for_termination()


# -- the run ----------------------------------------------------------------------------------


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class PeakRss:
    """The highest RSS of a process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


async def store(target: str, simulator: Simulator, count: int) -> tuple[list[str], int]:
    accounts = {exchange: simulator.account(exchange) for exchange in EXCHANGES}
    async with grpc.aio.insecure_channel(target) as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        ids: list[str] = []
        for start in range(0, count, 50):
            ids += await asyncio.gather(
                *(
                    connect(stub, EXCHANGES[n % 3], accounts[EXCHANGES[n % 3]], n)
                    for n in range(start, min(count, start + 50))
                )
            )
        listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=AUTH)
        return ids, listed.total_size  # with the predefined ones


async def changes(target: str, ids: list[str], count: int, interval: float) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        next_at = time.perf_counter()
        for n in range(count):
            update = pb.UpdateConnectionRequest(
                id=ids[n % len(ids)],
                connection=pb.Connection(name=f"bench renamed {n}"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
            await stub.UpdateConnection(update, metadata=AUTH)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


def start(args: argparse.Namespace) -> tuple[str, int, list[str], int, Callable[[], None]]:
    """The server to measure: its target, process id, connection ids, how many connections a
    snapshot holds, and how to stop it."""
    if args.floor:
        context = multiprocessing.get_context("spawn")
        port = free_port()
        mine, theirs = context.Pipe()
        process = context.Process(target=floor_server, args=(port, args.connections, theirs))
        process.start()
        mine.recv()
        ids = [str(n) for n in range(args.connections)]

        def stop_floor() -> None:
            process.terminate()
            process.join(timeout=30)

        assert process.pid is not None
        return f"127.0.0.1:{port}", process.pid, ids, args.connections, stop_floor
    simulator = Simulator()
    # Heartbeats out of the way: every message after a snapshot is then a change.
    server = Server(
        simulator, None, {"CTS_ENGINES": "false", "CTS_STREAM_HEARTBEAT_SECONDS": "3600"}
    )

    def stop() -> None:
        server.stop()
        simulator.stop()

    try:
        asyncio.run(wait_serving(server.target))
        say(f"storing {args.connections} connections")
        ids, stored = asyncio.run(store(server.target, simulator, args.connections))
    except BaseException:
        stop()
        raise
    return server.target, server.process.pid, ids, stored, stop


def run(args: argparse.Namespace) -> dict[str, Any]:
    target, pid, ids, stored, stop = start(args)
    context = multiprocessing.get_context("spawn")
    workers: list[tuple[Any, Pipe]] = []
    try:
        time.sleep(1.0)  # let the server settle after the writes (not a synchronisation)
        rss_before = rss_bytes(pid)
        say(f"server pid {pid}; {stored} connections stored (with the predefined ones)")
        say(f"opening {args.subscribers} streams from {args.workers} client processes")
        cpu0, started = cpu_seconds(pid), time.perf_counter()
        peak = PeakRss(pid)
        share, extra = divmod(args.subscribers, args.workers)
        for n in range(args.workers):
            mine, theirs = context.Pipe()
            streams = share + (1 if n < extra else 0)
            process = context.Process(
                target=worker,
                args=(target, streams, args.channels, stored, theirs),
            )
            process.start()
            workers.append((process, mine))
        problems = []
        for _, pipe in workers:
            _, found = pipe.recv()
            problems += found
        snapshots_s = time.perf_counter() - started
        cpu_snapshots = cpu_seconds(pid) - cpu0
        rss_peak = peak.stop()
        rss_after = rss_bytes(pid)
        say(f"every snapshot in after {snapshots_s:.1f} s; making {args.changes} changes")
        cpu1, started = cpu_seconds(pid), time.perf_counter()
        asyncio.run(changes(target, ids, args.changes, args.interval_ms / 1000))
        for _, pipe in workers:
            pipe.send(("stop", args.changes))
        for _, pipe in workers:
            pipe.recv()  # every change in (or a minute passed)
        cpu_changes = cpu_seconds(pid) - cpu1
        changes_s = time.perf_counter() - started
        seen: list[tuple[int, int, int]] = []
        for _, pipe in workers:
            _, found = pipe.recv()
            seen += found
        rss_end = rss_bytes(pid)
    finally:
        for process, _ in workers:
            process.join(timeout=30)
        stop()
    latencies = sorted((receipt - commit) / 1e6 for _, commit, receipt in seen)
    return {
        "problems": problems,
        "received": len(latencies),
        "expected": args.subscribers * args.changes,
        "revisions": len({revision for revision, _, _ in seen}),
        "latencies": latencies,
        "snapshots_s": snapshots_s,
        "cpu_snapshots": cpu_snapshots,
        "cpu_changes": cpu_changes,
        "changes_s": changes_s,
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "rss_after": rss_after,
        "rss_end": rss_end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--channels", type=int, default=2, help="gRPC channels per client")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="measure a bare grpc.aio server (no CTS) with the same clients instead",
    )
    args = parser.parse_args()

    f = run(args)
    mb = 2**20
    lat = f["latencies"]
    if args.floor:
        print("\nFLOOR: a bare grpc.aio server (bench/fanout.py's floor_server), not CTS")
    print(
        f"\nWatchConnections fan-out: {args.subscribers} subscribers, {args.connections} "
        f"connections stored, {args.changes} renames every {args.interval_ms:g} ms "
        f"({args.workers} client processes x {args.channels} channels)"
    )
    if f["problems"]:
        print(f"    PROBLEM: {f['problems']}")
    print(
        f"    snapshots              all {args.subscribers} in {f['snapshots_s']:.2f} s, "
        f"server CPU {f['cpu_snapshots']:.2f} s"
    )
    print(
        f"    server RSS             {f['rss_before'] / mb:.0f} MB before the streams, "
        f"{f['rss_peak'] / mb:.0f} MB at most while the snapshots went out, "
        f"{f['rss_after'] / mb:.0f} MB after, {f['rss_end'] / mb:.0f} MB at the end"
    )
    print(
        f"    changes received       {f['received']} of {f['expected']} "
        f"({f['revisions']} revisions)"
    )
    if lat:
        print(
            "    commit-to-receipt      "
            f"p50 {percentile(lat, 0.50):.1f} ms, p95 {percentile(lat, 0.95):.1f} ms, "
            f"p99 {percentile(lat, 0.99):.1f} ms (target <= 25 ms), max {lat[-1]:.1f} ms, "
            f"mean {statistics.fmean(lat):.1f} ms"
        )
        print(
            "                           commit = the change's own event_time in the message "
            "(server clock at publish); receipt = client clock on arrival"
        )
    print(
        f"    server CPU (changes)   {f['cpu_changes']:.2f} s over {f['changes_s']:.1f} s "
        f"({1000 * f['cpu_changes'] / max(1, args.changes):.1f} ms per change)"
    )


if __name__ == "__main__":
    main()
