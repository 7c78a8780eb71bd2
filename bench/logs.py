"""The structured log under load, in one run.

    python bench/logs.py [--rate 20000] [--seconds 10] [--watchers 50]

(a) A CTS server (engines off, SQLite in a temporary folder) runs in this process; "engine-like
    code" on the server's own event loop logs ``--rate`` entries a second (info level, with a
    connection id and context values, in 1-ms slices) for ``--seconds``, while a sampler on the
    same loop measures event-loop lag (how late a 1-ms sleep wakes). Reported: lag p50/p99/max,
    entries emitted, dropped (the handler's own count), stored (rows in storage once flushed),
    and lost = emitted - dropped - stored (must be 0).
(b) ``--watchers`` StreamLogs subscribers in a separate process (so that their work does not
    load the server's loop) while the server logs 100 entries a second for ``--seconds``:
    delivery latency = receipt time - the entry's time, over every entry at every watcher,
    p50/p99/max.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from cts.monitoring.v1 import monitoring_pb2 as mpb  # noqa: E402
from cts.monitoring.v1 import monitoring_pb2_grpc  # noqa: E402

from bench.api_latency import percentiles  # noqa: E402
from server.app import CtsServer  # noqa: E402
from server.monitoring.logs.about import about  # noqa: E402
from server.monitoring.logs.entry import Category  # noqa: E402
from server.monitoring.logs.store import LogFilter  # noqa: E402
from server.settings import Settings  # noqa: E402

TOKEN = "cts_bench_token_for_the_log_benchmark_0123456789"
AUTH = (("authorization", f"Bearer {TOKEN}"),)


def say(text: str) -> None:
    print(text, flush=True)


async def sample_lag(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.001)
        lags.append(loop.time() - before - 0.001)


async def emit(rate: int, seconds: float, log: logging.Logger, connection_id: str) -> int:
    """Log ``rate`` entries a second for ``seconds``, spread over 1-ms slices."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    emitted = 0
    while (now := loop.time()) < start + seconds:
        due = int((now - start) * rate)
        while emitted < due:
            log.info(
                "cycle %d: BTC/USDT signal %s, order value %s",
                emitted,
                "long",
                "100.5",
                extra=about(connection_id, Category.ENGINE, cycle=emitted, symbol="BTC/USDT"),
            )
            emitted += 1
        await asyncio.sleep(0.001)
    return emitted


async def load(rate: int, seconds: float, server: CtsServer) -> None:
    journal = server.journal
    assert journal is not None
    log = logging.getLogger("cts.engine.bench")
    connection_id = str(uuid.uuid4())
    dropped_before = sum(server.log_capture.dropped.values())
    stop, lags = asyncio.Event(), []
    sampler = asyncio.create_task(sample_lag(stop, lags))
    emitted = await emit(rate, seconds, log, connection_id)
    stop.set()
    await sampler
    await journal.flush()
    dropped = sum(server.log_capture.dropped.values()) - dropped_before
    stored = await journal.count(LogFilter(connection_id=connection_id))
    ms = [lag * 1000 for lag in lags]
    p50, p99 = percentiles(ms)
    say(
        f"(a) {emitted} entries in {seconds:g} s ({emitted / seconds:,.0f}/s): event-loop lag "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {max(ms):.1f} ms (target p99 <= 10 ms)"
    )
    say(
        f"    dropped {dropped}, stored {stored}, lost {emitted - dropped - stored} "
        f"(target: lost 0, dropped 0 at info level)"
    )


async def delivery(seconds: float, watchers: int, server: CtsServer) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--watch",
        f"127.0.0.1:{server.port}",
        "--watchers",
        str(watchers),
        "--seconds",
        str(seconds + 3),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    ready = await child.stdout.readline()
    assert ready.decode().strip() == "ready", ready
    log = logging.getLogger("cts.engine.bench")
    await emit(100, seconds, log, str(uuid.uuid4()))
    out, _ = await child.communicate()
    result = json.loads(out.decode().strip().splitlines()[-1])
    say(
        f"(b) StreamLogs, {watchers} watchers, 100 entries/s: {result['count']} deliveries, "
        f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms "
        "(target p99 <= 20 ms)"
    )


async def watch(target: str, watchers: int, seconds: float) -> None:
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        opened = 0
        all_open = asyncio.Event()

        async def one() -> None:
            nonlocal opened
            request = mpb.StreamLogsRequest(category="engine", level="info", tail=1)
            stream = stub.StreamLogs(request, metadata=AUTH)
            first = True
            try:
                async with asyncio.timeout(seconds):
                    async for message in stream:
                        now = time.time()
                        if first:
                            first = False
                            opened += 1
                            if opened == watchers:
                                all_open.set()
                            continue
                        for entry in message.entries:
                            latencies.append((now - entry.time.ToDatetime().timestamp()) * 1000)
            except TimeoutError:
                stream.cancel()

        tasks = [asyncio.create_task(one()) for _ in range(watchers)]
        await all_open.wait()
        print("ready", flush=True)
        await asyncio.gather(*tasks)
    p50, p99 = percentiles(latencies) if latencies else (0.0, 0.0)
    result = {"count": len(latencies), "p50": p50, "p99": p99, "max": max(latencies, default=0.0)}
    print(json.dumps(result), flush=True)


async def run(rate: int, seconds: float, watchers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            grpc_port=0,
            admin_token=TOKEN,
            engines=False,
            health_checks=False,
            demo=False,
            log_level="INFO",
            max_streams_per_token=0,  # as many watchers as asked for
        )
        server = CtsServer(settings)
        await server.start()
        try:
            # One entry first, so that the watchers' tail has something to show.
            logging.getLogger("cts.engine.bench").info("bench starts")
            await load(rate, seconds, server)
            await delivery(seconds, watchers, server)
        finally:
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--watch", metavar="TARGET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watch:
        asyncio.run(watch(args.watch, args.watchers, args.seconds))
    else:
        asyncio.run(run(args.rate, args.seconds, args.watchers))


if __name__ == "__main__":
    main()
