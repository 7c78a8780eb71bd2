"""Monitoring reads on a loaded server, as ratios to GetConnection within one run.

    python bench/monitoring.py [--connections 1000] [--engines 100] [--calls 300]

Starts the exchange simulator and a CTS server (`cts serve`, engines on, 1-s cycle, 5 symbols)
as separate processes, creates ``--connections`` connections of which ``--engines`` are enabled
and active on the simulator (their engines run), waits until those engines run, then times
GetConnection (the reference), GetSystemStatus, GetComprehensiveReport and
ListConnectionStatuses over gRPC, ``--calls`` each after a warm-up, interleaved round by round
so that the machine's noise falls on all alike. Reported: p50/p99 in ms and as ratios to
GetConnection's. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2 as cpb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402
from cts.engine.v1 import engine_pb2_grpc  # noqa: E402
from cts.monitoring.v1 import monitoring_pb2 as mpb  # noqa: E402
from cts.monitoring.v1 import monitoring_pb2_grpc  # noqa: E402

from bench.api_latency import percentiles  # noqa: E402
from bench.exchange_access import (  # noqa: E402
    AUTH,
    EXCHANGES,
    Server,
    Simulator,
    connect,
    say,
    wait_serving,
)
from bench.recovery import until_all  # noqa: E402


async def run(connections: int, engines: int, calls: int) -> None:
    simulator = Simulator()
    for exchange in EXCHANGES:
        simulator.control(
            "POST", "limits", {"exchange": exchange, "per_second": 10_000, "per_minute": 10**6}
        )
    env = {"CTS_ENGINES": "true", "CTS_ENGINE_SYMBOLS": "5", "CTS_ENGINE_CYCLE_SECONDS": "1"}
    server = Server(simulator, None, env)
    try:
        await wait_serving(server.target)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            monitoring = monitoring_pb2_grpc.MonitoringServiceStub(channel)
            say(f"creating {connections} connections, {engines} with engines")
            running = set()
            first = ""
            for n in range(connections):
                exchange = EXCHANGES[n % 3]
                active = n < engines
                made = await connect(stub, exchange, simulator.account(exchange), n, active=active)
                first = first or made
                if active:
                    running.add(made)
            await until_all(
                engine_pb2_grpc.EngineServiceStub(channel),
                running,
                lambda s: s.state == "running",
                600,
            )
            rpcs = {
                "GetConnection": lambda: stub.GetConnection(
                    cpb.GetConnectionRequest(id=first), metadata=AUTH
                ),
                "GetSystemStatus": lambda: monitoring.GetSystemStatus(
                    mpb.GetSystemStatusRequest(), metadata=AUTH
                ),
                "GetComprehensiveReport": lambda: monitoring.GetComprehensiveReport(
                    mpb.GetComprehensiveReportRequest(), metadata=AUTH
                ),
                "ListConnectionStatuses": lambda: monitoring.ListConnectionStatuses(
                    mpb.ListConnectionStatusesRequest(), metadata=AUTH
                ),
            }
            times: dict[str, list[float]] = {name: [] for name in rpcs}
            for round_ in range(calls + 20):
                for name, call in rpcs.items():
                    started = time.perf_counter()
                    await call()
                    if round_ >= 20:  # warm-up rounds are not counted
                        times[name].append((time.perf_counter() - started) * 1000)
            size = len((await rpcs["GetComprehensiveReport"]()).SerializeToString())
        base50, base99 = percentiles(times["GetConnection"])
        print(
            f"\n{connections} connections, {engines} engines running, {calls} calls each "
            f"(comprehensive report: {size / 1024:.0f} KiB)"
        )
        for name, samples in times.items():
            p50, p99 = percentiles(samples)
            print(
                f"  {name:<24} p50 {p50:7.2f} ms ({p50 / base50:6.2f}x)   "
                f"p99 {p99:7.2f} ms ({p99 / base99:6.2f}x)"
            )
    finally:
        server.stop()
        simulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--engines", type=int, default=100)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.connections, args.engines, args.calls))


if __name__ == "__main__":
    main()
