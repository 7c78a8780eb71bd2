"""Fault recovery and shutdown of a CTS server with many engines, against the simulator.

    python bench/recovery.py [--engines 100] [--cooldown 5] [--cycle 1] [--outage 15]

Starts the exchange simulator (`cts simulator`) and a CTS server (`cts serve`, engines on) as
separate processes, creates N enabled and active connections spread over Binance, Bybit and OKX
(each its own account; their engines share one market feed per exchange), waits until every
engine is running, then:

(1) outage — every exchange answers 5xx for ``--outage`` seconds (longer than the circuit
    cool-down: the feeds' circuits open), then the fault is lifted;
(2) 429 storm with Retry-After — every request refused with 429 and ``Retry-After: 2`` for
    ``--outage`` seconds, then lifted;
(3) 429 storm without Retry-After — the same with no Retry-After (CTS backs off, doubling up
    to the cool-down), then lifted.
For each: per engine, the seconds from the lift to its first status carrying fresh prices
(``prices_at`` after the lift, not stale), from the engine stream; p50 and max over engines,
against the target cool-down + 2 cycles.

(4) shutdown under a hung exchange — some connections trade live (their set made optimal by
    stored history; every asset held at 100, then moved to 102 so the entries fire) while the
    exchange hangs for their keys (takes their orders, never answers); once every one of them
    has an order in flight, SIGTERM: the seconds until the process has exited, against
    CTS_SHUTDOWN_GRACE_SECONDS (5 s).
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2 as cpb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402
from cts.engine.v1 import engine_pb2 as epb  # noqa: E402
from cts.engine.v1 import engine_pb2_grpc  # noqa: E402

from bench.exchange_access import (  # noqa: E402
    AUTH,
    EXCHANGES,
    Server,
    Simulator,
    connect,
    say,
    wait_serving,
)
from server.simulator.instruments import ASSETS  # noqa: E402
from tests.support.rpc import engine_statuses  # noqa: E402

GRACE = 5.0


async def until_all(
    engines: engine_pb2_grpc.EngineServiceStub, ids: set[str], accept: Any, timeout: float
) -> dict[str, float]:
    """Per engine, when (time.time()) its first status that ``accept`` accepts arrived."""
    seen: dict[str, float] = {}
    stream = engines.WatchEngines(epb.WatchEnginesRequest(), metadata=AUTH)
    try:
        async with asyncio.timeout(timeout):
            async for message in stream:
                now = time.time()
                for status in engine_statuses(message):
                    cid = status.connection_id
                    if cid in ids and cid not in seen and accept(status):
                        seen[cid] = now
                if len(seen) >= len(ids):
                    break
    except TimeoutError:
        say(f"only {len(seen)} of {len(ids)} engines within {timeout:g} s")
    finally:
        stream.cancel()
    return seen


def fault_everywhere(simulator: Simulator, values: dict[str, Any]) -> None:
    simulator.control("DELETE", "faults")
    for exchange in EXCHANGES:
        simulator.control("POST", "faults", {"exchange": exchange, **values})


async def recovery(
    simulator: Simulator,
    engines: engine_pb2_grpc.EngineServiceStub,
    ids: set[str],
    fault: dict[str, Any],
    seconds: float,
    limit: float,
) -> list[float]:
    fault_everywhere(simulator, fault)
    await asyncio.sleep(seconds)  # the fault's duration itself
    lifted = time.time()
    simulator.control("DELETE", "faults")

    def fresh(status: epb.EngineStatus) -> bool:
        return (
            status.state in ("running", "paused")
            and not status.stale
            and status.prices_at.ToDatetime().timestamp() >= lifted
        )

    back = await until_all(engines, ids, fresh, limit)
    return sorted(at - lifted for at in back.values())


def report(name: str, times: list[float], count: int, target: float) -> None:
    if not times:
        print(f"    {name:<34} no engine recovered")
        return
    print(
        f"    {name:<34} p50 {statistics.median(times):6.2f} s   max {times[-1]:6.2f} s   "
        f"({len(times)}/{count} engines; target <= {target:g} s)"
    )


async def faults_run(
    count: int, symbols: int, cooldown: float, cycle: float, outage: float
) -> None:
    simulator = Simulator()
    for exchange in EXCHANGES:
        simulator.control(
            "POST", "limits", {"exchange": exchange, "per_second": 10_000, "per_minute": 10**6}
        )
    env = {
        "CTS_ENGINES": "true",
        "CTS_ENGINE_SYMBOLS": str(symbols),
        "CTS_ENGINE_CYCLE_SECONDS": str(cycle),
        "CTS_CIRCUIT_COOLDOWN_SECONDS": str(cooldown),
        "CTS_EXCHANGE_TIMEOUT_SECONDS": "3",
    }
    server = Server(simulator, None, env)
    target = cooldown + 2 * cycle
    try:
        await wait_serving(server.target)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            engines = engine_pb2_grpc.EngineServiceStub(channel)
            say(f"creating {count} connections; waiting for their engines")
            ids = {
                await connect(
                    stub, EXCHANGES[n % 3], simulator.account(EXCHANGES[n % 3]), n, active=True
                )
                for n in range(count)
            }
            await until_all(engines, ids, lambda s: s.state == "running", 300)
            print(
                f"\n{count} engines x {symbols} symbols, cycle {cycle:g} s, "
                f"cool-down {cooldown:g} s"
            )
            print("(recovery: seconds from the fault's lift to each engine's first fresh cycle)")
            for name, fault in (
                (f"outage ({outage:g} s of 5xx)", {"down": True}),
                (
                    f"429 storm, Retry-After 2 ({outage:g} s)",
                    {"rate_limit_burst": 10**9, "retry_after_seconds": 2},
                ),
                (
                    f"429 storm, no Retry-After ({outage:g} s)",
                    {"rate_limit_burst": 10**9, "retry_after_seconds": 0},
                ),
            ):
                say(name)
                times = await recovery(simulator, engines, ids, fault, outage, 4 * target + 30)
                report(name, times, count, target)
    finally:
        server.stop()
        simulator.stop()


async def shutdown_run(count: int, live: int) -> None:
    """SIGTERM with live orders in flight on a hung exchange; the seconds until the exit."""
    from server.engine.store import PositionStore
    from server.storage.database import Database
    from tests.support.stepping import optimal_history

    simulator = Simulator()
    for asset in ASSETS:
        simulator.control("POST", "prices", {"base": asset.code, "prices": ["100"]})
    env = {
        "CTS_ENGINES": "true",
        "CTS_ENGINE_SYMBOLS": "2",
        "CTS_ENGINE_TIMEFRAME": "1h",
        "CTS_ENGINE_HISTORY_BARS": "40",
        "CTS_ENGINE_SETS": "trend/trailing",
        "CTS_ENGINE_CYCLE_SECONDS": "0.5",
        "CTS_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "CTS_EXCHANGE_TIMEOUT_SECONDS": "60",
    }
    server = Server(simulator, None, env)
    try:
        await wait_serving(server.target)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            engines = engine_pb2_grpc.EngineServiceStub(channel)
            ids: set[str] = set()
            live_ids: set[str] = set()
            live_keys: list[str] = []
            db = Database(f"sqlite:///{server.data / 'cts.db'}", threads=1)
            for n in range(count):
                exchange = EXCHANGES[n % 3]
                account = simulator.account(exchange)
                cid = await connect(stub, exchange, account, n, active=False)
                if n < live:
                    live_keys.append(account["api_key"])
                    await stub.SetLiveTrade(
                        cpb.SetLiveTradeRequest(id=cid, is_live_trade=True, confirm=True),
                        metadata=AUTH,
                    )
                    await optimal_history(PositionStore(db), cid, "BTC/USDT")
                    live_ids.add(cid)
                await stub.ToggleConnection(
                    cpb.ToggleConnectionRequest(id=cid, is_enabled=True), metadata=AUTH
                )
                await stub.ActivateConnection(cpb.ActivateConnectionRequest(id=cid), metadata=AUTH)
                ids.add(cid)
            db.close()
            await until_all(engines, ids, lambda s: s.state == "running", 300)
            simulator.control("DELETE", "faults")
            for key in live_keys:  # their orders go out and are never answered
                simulator.control("POST", "faults", {"api_key": key, "hang": True})
            for asset in ASSETS:
                simulator.control("POST", "prices", {"base": asset.code, "prices": ["102"]})
            await until_all(engines, live_ids, lambda s: s.trading.live_orders >= 1, 60)
        say("SIGTERM with live orders waiting on a hung exchange")
        started = time.perf_counter()
        server.process.terminate()
        code = await asyncio.to_thread(server.process.wait, 120)
        elapsed = time.perf_counter() - started
        print(f"\nshutdown: {count} engines, {live} with live orders on a hung exchange")
        print(
            f"    SIGTERM to exit                    {elapsed:6.2f} s   (exit code {code}; "
            f"target <= grace {GRACE:g} s)"
        )
    finally:
        if server.process.poll() is None:
            server.stop()
        simulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", type=int, default=100)
    parser.add_argument("--symbols", type=int, default=5)
    parser.add_argument("--cooldown", type=float, default=5.0)
    parser.add_argument("--cycle", type=float, default=1.0)
    parser.add_argument("--outage", type=float, default=15.0)
    parser.add_argument("--live", type=int, default=10, help="engines trading live (shutdown)")
    args = parser.parse_args()
    asyncio.run(faults_run(args.engines, args.symbols, args.cooldown, args.cycle, args.outage))
    asyncio.run(shutdown_run(args.engines, args.live))


if __name__ == "__main__":
    main()
