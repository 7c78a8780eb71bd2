"""API latency of CTS, measured against the floor of a bare grpc.aio call, in one run.

    python bench/api_latency.py [--calls 2000] [--subscribers 100]

Starts, as separate processes on free ports: a bare grpc.aio server whose one unary method
returns a constant (the floor), the CTS server (`cts serve`, SQLite in a temporary folder) and
Envoy in front of it. Then, sequentially from this process, measures p50 and p99 of:

  floor            bare grpc.aio unary call
  GetConnection    over gRPC, straight to the CTS server
  REST get         GET /api/settings/connections/{id} through Envoy (http.client, keep-alive)
  ListConnections  over gRPC with 1,000 stored connections (all on one page)
  watch delivery   commit-to-receipt of WatchConnections with N open subscribers: the time from
                   the server's change stamp (taken right after the commit) to each subscriber
                   reading the change, over a series of updates

and prints each figure with its ratio to the floor. Then the cost of the metrics interceptor:
in alternating rounds (so that the machine's drift hits each alike), the floor without and with
the interceptor (its bare cost), and GetConnection on two more fresh CTS servers, one with
metrics on (the default) and one started with CTS_METRICS=false; the floor ratio
(GetConnection p50 / floor p50) with the interceptor on over the one with it off is the
overhead (target <= 5 %).
Timings are reported, never asserted: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2 as pb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402

from bench.exchange_access import API_LIMITS  # noqa: E402
from server.rpc.metrics_interceptor import MetricsInterceptor  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.support.envoy_process import EnvoyProcess  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

TOKEN = "bench-token-0123456789-abcdefghij"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
FLOOR_METHOD = "/bench.Floor/Constant"
CONSTANT = b"\x0a\x05hello"
FLOOR_OFF = "floor (bare grpc.aio unary)"
FLOOR_ON = "floor + metrics interceptor"
GET_OFF = "GetConnection (gRPC), CTS_METRICS=false"
GET_ON = "GetConnection (gRPC), metrics on"
ROUNDS = 10  # alternating rounds of the interceptor's off/on comparison


# -- the floor server ---------------------------------------------------------------------


async def serve_floor(port: int, metered: bool) -> None:
    async def constant(_request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
        return CONSTANT

    handler = grpc.method_handlers_generic_handler(
        "bench.Floor",
        {"Constant": grpc.unary_unary_rpc_method_handler(constant)},  # bytes in, bytes out
    )
    from prometheus_client import CollectorRegistry

    server = grpc.aio.server(
        interceptors=[MetricsInterceptor(CollectorRegistry())] if metered else []
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# -- measuring ----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def time_calls(call, count: int, warmup: int = 100) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def time_rest(port: int, path: str, count: int, warmup: int = 100) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"authorization": f"Bearer {TOKEN}"}

    def get() -> None:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"REST call failed: {response.status} {body[:200]!r}")

    for _ in range(warmup):
        get()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        get()
        samples.append((time.perf_counter() - start) * 1000)
    connection.close()
    return samples


async def watch_delivery(stub, subscribers: int, updates: int, target_id: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Commit-to-receipt latencies (ms) of ``updates`` changes seen by ``subscribers`` streams."""
    received: list[float] = []
    pending: dict[int, int] = {}
    all_seen = asyncio.Event()
    ready = 0
    all_ready = asyncio.Event()

    async def subscriber() -> None:
        nonlocal ready
        call = stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=AUTH)
        async for message in call:
            now = time.time()
            kind = message.WhichOneof("event")
            if kind == "snapshot":
                ready += 1
                if ready == subscribers:
                    all_ready.set()
            elif kind == "change":
                stamp = message.event_time.seconds + message.event_time.nanos / 1e9
                received.append((now - stamp) * 1000)
                pending[message.revision] = pending.get(message.revision, 0) + 1
                if pending[message.revision] == subscribers:
                    all_seen.set()

    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]

    async def until(event: asyncio.Event) -> None:
        """Wait for ``event``; a subscriber that failed ends the run with its error."""
        waiter = asyncio.ensure_future(event.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            for task in done:
                task.result()
            raise RuntimeError("a subscriber stream ended early")

    await until(all_ready)
    for i in range(updates):
        all_seen.clear()
        request = pb.UpdateConnectionRequest(
            id=target_id, connection=pb.Connection(leverage=2 + i % 2)
        )  # always a change
        await stub.UpdateConnection(request, metadata=AUTH)
        await until(all_seen)  # one change at a time: each is measured on its own
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return received


async def interceptor_overhead(
    targets: dict[str, str], connection_ids: dict[str, str], calls: int, rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Samples (ms) of the floor and GetConnection, each with the metrics interceptor off and
    on, measured in ``rounds`` alternating rounds."""
    samples: dict[str, list[float]] = {name: [] for name in targets}
    async with contextlib.AsyncExitStack() as stack:
        calls_of = {}
        for name, target in targets.items():
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(target))
            if name.startswith("floor"):
                calls_of[name] = functools.partial(channel.unary_unary(FLOOR_METHOD), b"")
            else:
                get = pb.GetConnectionRequest(id=connection_ids[name])
                calls_of[name] = functools.partial(
                    connection_pb2_grpc.ConnectionServiceStub(channel).GetConnection,
                    get,
                    metadata=AUTH,
                )
        for call in calls_of.values():  # warm every path up before the first round
            await time_calls(call, 0, warmup=200)
        for _ in range(rounds):
            for name, call in calls_of.items():
                samples[name] += await time_calls(call, calls // rounds, warmup=10)
    return samples


def report_overhead(samples: dict[str, list[float]], calls: int, rounds: int) -> None:
    figures = {name: percentiles(values) for name, values in samples.items()}
    print(f"\nMetrics interceptor off vs on ({calls} calls each, in {rounds} alternating rounds)\n")
    print(f"{'measure':<50} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>10}")
    floor_p50 = figures[FLOOR_OFF][0]
    for name, (p50, p99) in figures.items():
        print(f"{name:<50} {p50:8.3f} {p99:8.3f} {p50 / floor_p50:10.2f}")
    off = figures[GET_OFF][0] / floor_p50
    on = figures[GET_ON][0] / floor_p50
    bare = figures[FLOOR_ON][0] / floor_p50
    print(
        f"\nfloor ratio of GetConnection: {off:.3f} off, {on:.3f} on: "
        f"overhead {100 * (on / off - 1):+.1f} % (target <= 5 %); "
        f"the bare interceptor on the floor: {100 * (bare - 1):+.1f} %"
    )


# -- the run ------------------------------------------------------------------------------


def start(
    command: list[str], env: dict[str, str] | None = None, ready: str | None = None
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    if ready is not None:
        assert process.stdout is not None
        for line in process.stdout:
            if ready in line:
                break
        else:
            raise RuntimeError(f"{command} exited before printing {ready!r}")
    return process


async def wait_serving(target: str) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(target) as channel:
        await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=60
        )


def serve_cts(
    data: Path, grpc_port: int, command: list[str] | None = None, **settings: str
) -> subprocess.Popen[str]:
    """``cts serve`` (or ``command``) on ``grpc_port`` with its data in ``data``; ``settings``
    (``CTS_`` variables) override the defaults here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    env.update(
        {
            "CTS_DATA_DIR": str(data),
            "CTS_GRPC_PORT": str(grpc_port),
            "CTS_METRICS_PORT": "0",
            "CTS_ADMIN_TOKEN": TOKEN,
            "CTS_LOG_LEVEL": "WARNING",
            "CTS_STREAM_QUEUE_SIZE": "4096",
            **API_LIMITS,
            **settings,
        }
    )
    return start(command or [sys.executable, "-m", "server.cli", "serve"], env=env)


async def create_target(target: str) -> str:
    async with grpc.aio.insecure_channel(target) as channel:
        made = await connection_pb2_grpc.ConnectionServiceStub(channel).CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name="bench target", exchange="okx", api_type="spot")
            ),
            metadata=AUTH,
        )
    return str(made.id)


async def run(calls: int, subscribers: int, stored: int, updates: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="cts-bench-"))
    floor_port, grpc_port = free_port(), free_port()
    metered_floor_port, metered_port, unmetered_port = free_port(), free_port(), free_port()
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'cts.db'}",
        grpc_port=grpc_port,
        http_port=free_port(),
        envoy_admin_port=free_port(),
        webui_port=free_port(),
    )
    floor = start([sys.executable, __file__, "--serve-floor", str(floor_port)], ready="ready")
    metered_floor = start(
        [sys.executable, __file__, "--serve-floor", str(metered_floor_port), "--metered"],
        ready="ready",
    )
    server = serve_cts(data, grpc_port)
    # Two fresh servers alike but for the metrics, for the interceptor's off/on comparison.
    metered = serve_cts(data / "metered", metered_port)
    unmetered = serve_cts(data / "unmetered", unmetered_port, CTS_METRICS="false")
    envoy = None
    try:
        say("waiting for the CTS servers")
        await wait_serving(settings.grpc_target)
        await wait_serving(f"127.0.0.1:{metered_port}")
        await wait_serving(f"127.0.0.1:{unmetered_port}")
        say("starting Envoy")
        envoy = EnvoyProcess(settings).start()
        results: dict[str, tuple[float, float]] = {}

        say("floor")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{floor_port}") as channel:
            constant = channel.unary_unary(FLOOR_METHOD)
            results[FLOOR_OFF] = percentiles(await time_calls(lambda: constant(b""), calls))

        made_id = await create_target(settings.grpc_target)
        async with grpc.aio.insecure_channel(settings.grpc_target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            say("GetConnection, REST get")
            get = pb.GetConnectionRequest(id=made_id)
            results["GetConnection (gRPC)"] = percentiles(
                await time_calls(lambda: stub.GetConnection(get, metadata=AUTH), calls)
            )
            results["GET /api/settings/connections/{id} (Envoy)"] = percentiles(
                await asyncio.to_thread(
                    time_rest, settings.http_port, f"/api/settings/connections/{made_id}", calls
                )
            )
            say(f"storing {stored} connections, ListConnections")
            existing = (
                await stub.ListConnections(pb.ListConnectionsRequest(), metadata=AUTH)
            ).total_size
            for i in range(stored - existing):
                await stub.CreateConnection(
                    pb.CreateConnectionRequest(
                        connection=pb.Connection(
                            name=f"bench {i:04d}", exchange="bybit", api_type="perpetual_futures"
                        )
                    ),
                    metadata=AUTH,
                )
            listing = pb.ListConnectionsRequest(page_size=1000)
            assert len((await stub.ListConnections(listing, metadata=AUTH)).connections) == stored
            results[f"ListConnections, {stored} stored (gRPC)"] = percentiles(
                await time_calls(
                    lambda: stub.ListConnections(listing, metadata=AUTH),
                    max(50, calls // 10),
                    warmup=10,
                )
            )
            say(f"watch delivery to {subscribers} subscribers")
            delivery = await watch_delivery(stub, subscribers, updates, made_id)
            results[f"watch commit-to-receipt, {subscribers} subscribers"] = percentiles(delivery)

        floor_p50, floor_p99 = results[FLOOR_OFF]
        print(
            f"\nCTS API latency ({calls} sequential calls each; list: {max(50, calls // 10)}; "
            f"watch: {updates} updates x {subscribers} subscribers = {len(delivery)} deliveries)\n"
        )
        print(f"{'measure':<50} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>10} {'p99/floor':>10}")
        for name, (p50, p99) in results.items():
            print(
                f"{name:<50} {p50:8.3f} {p99:8.3f} {p50 / floor_p50:10.2f} {p99 / floor_p99:10.2f}"
            )
        print(
            "\ntargets: GetConnection <= 1.5x floor, REST via Envoy <= 2.5x floor, "
            "watch p99 <= 10 ms"
        )

        say("metrics interceptor off vs on")
        targets = {
            FLOOR_OFF: f"127.0.0.1:{floor_port}",
            FLOOR_ON: f"127.0.0.1:{metered_floor_port}",
            GET_OFF: f"127.0.0.1:{unmetered_port}",
            GET_ON: f"127.0.0.1:{metered_port}",
        }
        ids = {name: await create_target(targets[name]) for name in (GET_OFF, GET_ON)}
        report_overhead(await interceptor_overhead(targets, ids, calls), calls, ROUNDS)
    finally:
        if envoy is not None:
            envoy.stop()
        for process in (server, metered, unmetered, floor, metered_floor):
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--metered", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        asyncio.run(serve_floor(args.serve_floor, args.metered))
    else:
        asyncio.run(run(args.calls, args.subscribers, args.stored, args.updates))


if __name__ == "__main__":
    main()
