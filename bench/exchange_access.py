"""Exchange access of CTS against the exchange simulator, in one run.

    python bench/exchange_access.py [--tests 30] [--latency-ms 50] [--batch 70]

Starts, as separate processes on free ports: the exchange simulator (`cts simulator`) and two
CTS servers (`cts serve`) pointed at it, then measures:

(a) overhead — on every exchange CTS supports (one API type each: spot where it has it),
    `TestConnection` end to end over gRPC (p50 of sequential tests), divided by the bare calls
    that a test makes (server time, balance, key permissions where the exchange tells them),
    made from this process through CTS's adapter straight on a warm ccxt instance against the
    same simulator: the ccxt calls and their parsing, without CTS's server, throttle, storage
    and logs. The first server runs with the account limits raised out of the way: this
    measures CTS's own cost, not the limits.
(b) batch — 70 connections, 10 per exchange, tested at once with 50 ms added to every
    simulator response, on the second server (default limits and the default concurrency cap
    of 10), divided by the lower bound those limits and that latency allow. A batch holds at
    most 50 connections (the API's limit): the 70 go as two `BatchTestConnections` calls at
    the same moment, each spanning every exchange; both share the server's concurrency cap, so
    together they are one batch of 70 to the exchanges. Two layouts: every connection its own
    account (key), and the connections of an exchange sharing one account, where the account
    limits bind; right after the connections were created (first use: ccxt instances are
    built), and for own accounts again.
(c) the seed system's stated figures, for comparison.

The lower bound for (b) is computed from what the batch made the exchanges do, as the
simulator's request log shows it, with zero CPU time: each test's requests one after another
at the added latency; tests at most 10 at once (the cap); and per shared account, its requests
within its per-second window (N requests need ceil(N / per_second) - 1 full seconds, plus one
latency) and its concurrency (N * latency / concurrent). Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2 as pb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402

from server.connections.testing import BATCH_LIMIT  # noqa: E402
from server.exchange.access import AccessConfig  # noqa: E402
from server.exchange.adapter import CcxtAdapter, MarketCache  # noqa: E402
from server.exchange.catalogue import DIALECTS  # noqa: E402
from server.exchange.ccxt_factory import create_ccxt  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.venues import SIMULATED_AS  # noqa: E402

TOKEN = "bench-token-0123456789-abcdefghij"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
EXCHANGES = ("binance", "bybit", "okx")  # what the other benches spread their connections over


def api_types() -> dict[str, str]:
    """Every exchange CTS supports on the simulator, with the API type this bench tests on it:
    spot where the exchange has it, else its first."""
    chosen: dict[str, str] = {}
    for exchange, api_type in sorted(DIALECTS):
        if exchange not in chosen or api_type == "spot":
            chosen[exchange] = api_type
    return chosen


API_TYPES = api_types()
ALL = tuple(API_TYPES)  # every exchange of (a) and (b)
# The simulator's exchange behind each (Kraken perpetuals are Kraken Futures).
SIMULATED = {e: SIMULATED_AS.get((e, t), e) for e, t in API_TYPES.items()}
LIMITS = AccessConfig()  # CTS's default account limits
CAP = 10  # CTS_TEST_CONCURRENCY's default
SEED_SINGLE_MS = 245.0
SEED_BATCH_S = 12.0
UNLIMITED = {"per_second": 100_000, "per_minute": 1_000_000, "concurrent": 100}
# The API's abuse limits stay on but far above what a bench's one token asks: the benches
# measure the API's cost, not its throttling (bench/throttled.py measures that).
API_LIMITS = {
    "CTS_RATE_LIMIT_PER_SECOND": "100000",
    "CTS_RATE_LIMIT_BURST": "100000",
    "CTS_ADDRESS_RATE_LIMIT_PER_SECOND": "100000",
    "CTS_ADDRESS_RATE_LIMIT_BURST": "100000",
    "CTS_MAX_STREAMS_PER_TOKEN": "100000",
}


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


class Simulator:
    """The simulator process and its control API."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = Path(tempfile.mkdtemp(prefix="cts-bench-simulator-"))
        env = dict(
            os.environ,
            CTS_SIMULATOR_PORT=str(self.port),
            CTS_LOG_LEVEL="WARNING",
            CTS_DATA_DIR=str(self.data),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "simulator"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "simulator" in line and "http://" in line:
                break
        else:
            raise RuntimeError("the simulator did not start")

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
            f"{self.url}/__simulator/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {(self.data / 'simulator.token').read_text().strip()}",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def account(self, exchange: str) -> dict[str, Any]:
        """A new account on ``exchange`` (as CTS names it; Kraken Futures for a Kraken
        perpetual connection of this bench)."""
        return dict(
            self.control("POST", "accounts", {"exchange": SIMULATED.get(exchange, exchange)})
        )

    def latency(self, added_ms: float, exchanges: tuple[str, ...] = EXCHANGES) -> None:
        """Every exchange answers ``added_ms`` later (and no other fault)."""
        self.control("DELETE", "faults")
        for exchange in exchanges:
            name = SIMULATED.get(exchange, exchange)
            self.control("POST", "faults", {"exchange": name, "latency_ms": added_ms})

    def requests_since(self, since: float) -> list[dict[str, Any]]:
        return list(self.control("GET", f"requests?since={since}"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Server:
    """A CTS server process on the simulator."""

    def __init__(
        self,
        simulator: Simulator,
        limits: dict[str, Any] | None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        data = Path(tempfile.mkdtemp(prefix="cts-bench-exchange-"))
        self.data = data
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
        env.update(
            CTS_DATA_DIR=str(data),
            CTS_GRPC_PORT=str(self.port),
            CTS_METRICS_PORT="0",
            CTS_ADMIN_TOKEN=TOKEN,
            CTS_LOG_LEVEL="WARNING",
            CTS_SIMULATOR_URL=simulator.url,
            CTS_DEMO="false",
            CTS_HEALTH_CHECKS="false",
            **API_LIMITS,
        )
        if limits is not None:
            env["CTS_EXCHANGE_LIMITS"] = json.dumps(limits)
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.target = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def connect(
    stub: connection_pb2_grpc.ConnectionServiceStub,
    exchange: str,
    account: dict[str, Any],
    n: int,
    *,
    active: bool = False,
) -> str:
    connection = pb.Connection(
        is_enabled=active,
        is_active=active,
        name=f"bench {exchange} {n} {account['api_key'][-8:]}",
        exchange=exchange,
        api_type=API_TYPES.get(exchange, "spot"),
        is_simulated=True,
        api_key=account["api_key"],
        api_secret=account["secret"],
    )
    if account.get("passphrase"):
        connection.api_passphrase = account["passphrase"]
    made = await stub.CreateConnection(
        pb.CreateConnectionRequest(connection=connection), metadata=AUTH
    )
    return str(made.id)


async def test(stub: connection_pb2_grpc.ConnectionServiceStub, connection_id: str) -> float:
    started = time.perf_counter()
    result = await stub.TestConnection(pb.TestConnectionRequest(id=connection_id), metadata=AUTH)
    elapsed = (time.perf_counter() - started) * 1000
    if result.status != "success":
        raise RuntimeError(f"test {result.status}: {result.error_message}")
    return elapsed


async def bare_calls(simulator: Simulator, exchange: str, account: dict[str, Any]) -> Any:
    """A warm ccxt instance and the calls a connection test makes, through CTS's adapter (the
    same ccxt calls: server time, balance, and the key's permissions where the exchange tells
    them), without CTS's server, throttle, storage and logs."""
    instance = create_ccxt(
        exchange,
        API_TYPES[exchange],
        api_key=account["api_key"],
        secret=account["secret"],
        passphrase=account.get("passphrase"),
        base_url=simulator.url,
    )
    adapter = CcxtAdapter(exchange, instance, MarketCache(), "bench")
    await adapter.markets()  # loads them

    async def once() -> float:
        started = time.perf_counter()
        await adapter.server_time()
        await adapter.balances()
        await adapter.key_permissions()
        return (time.perf_counter() - started) * 1000

    return instance, once


async def wait_serving(target: str) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(target) as channel:
        await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=60
        )


async def overhead(
    simulator: Simulator, tests: int, latency_ms: float
) -> dict[str, tuple[float, float]]:
    server = Server(simulator, {name: UNLIMITED for name in ALL})
    simulator.latency(latency_ms, ALL)
    try:
        await wait_serving(server.target)
        results = {}
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            for exchange in ALL:
                account = simulator.account(exchange)
                connection_id = await connect(stub, exchange, account, 0)
                instance, bare = await bare_calls(simulator, exchange, account)
                try:
                    for _ in range(5):  # warm both: markets, sessions, connections
                        await test(stub, connection_id)
                        await bare()
                    cts, raw = [], []
                    for _ in range(tests):  # interleaved, so that drift hits both alike
                        cts.append(await test(stub, connection_id))
                        raw.append(await bare())
                finally:
                    await instance.close()
                results[exchange] = (statistics.median(cts), statistics.median(raw))
        return results
    finally:
        server.stop()


async def batch(simulator: Simulator, size: int, latency_ms: float) -> list[dict[str, Any]]:
    server = Server(simulator, None)  # the default limits
    try:
        await wait_serving(server.target)
        latency = latency_ms / 1000
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            spread = [ALL[i % len(ALL)] for i in range(size)]
            simulator.latency(latency_ms, ALL)

            # One test alone per exchange (markets warm), for comparison.
            single_ms: dict[str, float] = {}
            for exchange in ALL:
                probe = await connect(stub, exchange, simulator.account(exchange), -1)
                await test(stub, probe)  # loads the markets
                # Once the account's one-second window is empty again (Kraken's 5 a second
                # would otherwise hold the second test back): a test's own time.
                await asyncio.sleep(1.1)
                single_ms[exchange] = await test(stub, probe)

            layouts = []
            for layout in ("own account each", "one account per exchange"):
                shared = {e: simulator.account(e) for e in ALL}
                ids = []
                for n, exchange in enumerate(spread):
                    own = shared[exchange] if layout.startswith("one") else None
                    account = own or simulator.account(exchange)
                    ids.append(await connect(stub, exchange, account, n))
                # Again on shared accounts would wait out Bybit's 120/min window that the first
                # run filled: correct, but not a measure of CTS.
                runs = ("first use",) if layout.startswith("one") else ("first use", "again")
                for run in runs:
                    since = time.time()
                    started = time.perf_counter()
                    results = await asyncio.gather(
                        *(
                            stub.BatchTestConnections(
                                pb.BatchTestConnectionsRequest(connection_ids=part),
                                metadata=AUTH,
                                timeout=600,
                            )
                            for part in parts(ids)
                        )
                    )
                    elapsed = time.perf_counter() - started
                    failed = sum(r.failure_count for r in results)
                    if failed:
                        raise RuntimeError(f"{failed} tests failed in the batch")
                    seen = simulator.requests_since(since)
                    requests = {
                        e: sum(1 for r in seen if r["exchange"] == SIMULATED[e]) for e in ALL
                    }
                    bound = lower_bound(spread, requests, latency, shared=layout.startswith("one"))
                    layouts.append(
                        {
                            "layout": f"{layout}, {run}",
                            "seconds": elapsed,
                            "bound": bound,
                            "single": single_ms,
                            "requests": requests,
                        }
                    )
            simulator.control("DELETE", "faults")
            return layouts
    finally:
        server.stop()


def parts(ids: list[str]) -> list[list[str]]:
    """``ids`` in as few batches as the API allows, each spanning every exchange."""
    count = math.ceil(len(ids) / BATCH_LIMIT)
    return [ids[i::count] for i in range(count)]


def lower_bound(
    spread: list[str], requests: dict[str, int], latency: float, *, shared: bool
) -> float:
    """The least time the batch could take with zero CPU time, given the requests it made
    (per exchange, from the simulator's log), the latency of each, the concurrency cap, and,
    for shared accounts, each account's limits. A test's requests are sequential."""
    chain = {e: requests[e] / spread.count(e) * latency for e in ALL}  # one test, seconds
    bound = max(max(chain.values()), sum(chain[e] for e in spread) / CAP)
    if shared:
        for exchange in ALL:
            limits = LIMITS.limits_for(exchange)
            n = requests[exchange]
            window = (math.ceil(n / limits.per_second) - 1) + latency
            if n > limits.per_minute:
                window = max(window, 60.0 * (math.ceil(n / limits.per_minute) - 1) + latency)
            bound = max(bound, window, n * latency / limits.concurrent)
    return bound


async def run(tests: int, size: int, latency_ms: float) -> None:
    simulator = Simulator()
    try:
        for exchange in ALL:  # the simulator's own limits out of the way of this bench
            simulator.control(
                "POST",
                "limits",
                {"exchange": SIMULATED[exchange], "per_second": 10_000, "per_minute": 10**6},
            )
        say(f"(a) {tests} sequential TestConnection calls per exchange vs bare ccxt")
        costs = {
            added: await overhead(simulator, tests, added) for added in sorted({0.0, latency_ms})
        }
        say(f"(b) batch of {size} over {', '.join(ALL)} with {latency_ms:g} ms latency")
        layouts = await batch(simulator, size, latency_ms)
    finally:
        simulator.stop()

    print(f"\n(a) TestConnection over gRPC vs the bare ccxt calls it makes (p50 of {tests})")
    print(f"{'exchange':<26} {'added latency':>14} {'CTS ms':>8} {'bare ms':>8} {'ratio':>7}")
    for added, rows in costs.items():
        for exchange, (cts, raw) in rows.items():
            venue = f"{exchange} {API_TYPES[exchange]}"
            print(f"{venue:<26} {added:11g} ms {cts:8.2f} {raw:8.2f} {cts / raw:7.2f}")
    print("target: <= 1.2")

    print(f"\n(b) batch of {size} tests, {latency_ms:g} ms per response, default limits, cap {CAP}")
    singles = ", ".join(f"{e} {ms:.0f} ms" for e, ms in layouts[0]["single"].items())
    print(f"one test alone: {singles}")
    print(f"{'layout':<38} {'requests':>28} {'batch s':>8} {'bound s':>8} {'ratio':>7}")
    for row in layouts:
        made = "/".join(str(row["requests"][e]) for e in ALL)
        print(
            f"{row['layout']:<38} {made:>28} {row['seconds']:8.2f} {row['bound']:8.2f} "
            f"{row['seconds'] / row['bound']:7.2f}"
        )
    print(f"(requests: {'/'.join(ALL)}, as the simulator received them)")
    print("target: <= 1.2")

    single = statistics.median(ms for ms in layouts[0]["single"].values())
    print("\n(c) the seed system's stated figures")
    print(f"single test: seed 245 ms typical; CTS {single:.0f} ms at {latency_ms:g} ms latency")
    print(
        f"batch: seed 12 s for 50; CTS for {size}: {layouts[0]['seconds']:.2f} s (own accounts, "
        f"first use), {layouts[2]['seconds']:.2f} s (shared accounts, first use)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=30)
    parser.add_argument("--batch", type=int, default=10 * len(ALL), help="10 per exchange")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(run(args.tests, args.batch, args.latency_ms))


if __name__ == "__main__":
    main()
