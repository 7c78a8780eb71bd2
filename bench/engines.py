"""Engines at scale against the exchange simulator, and the indications vectorised vs a loop.

    python bench/engines.py [--engines 100] [--symbols 20] [--seconds 60]
                            [--database sqlite|postgresql] [--watchers 10] [--settle 0]

Issue 13's targets: 1,000 engines x 20 symbols, 120 s: server CPU <= 100 % of one core, every
engine's cycle p99 <= 100 ms (start-up included: an engine's percentiles cover its last 1,000
cycles, its whole run here), <= 2 MB per engine, all running within 60 s of their connections
being created; 100 engines: every cycle p99 <= 20 ms. The previous figures (issue 12's head,
100 engines, 60 s) are printed beside them. PostgreSQL: the machine's server
(CTS_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test), in a fresh
schema dropped afterwards.

(1) Indications: Direction, Move, Active and Active Advanced computed for S symbols at once
    (numpy, as the engines do) vs the same functions called once per symbol in a Python loop,
    on the same data; the ratio loop / vectorised.
(2) Engines: starts the simulator (`cts simulator`) and a CTS server (`cts serve`, engines on,
    1-second cycle) as separate processes, creates N enabled and active connections on the
    simulator spread over Binance, Bybit and OKX (each its own account), waits until every
    engine is running, then for the given time reads the server process's CPU time and RSS from
    /proc. Reports the CPU share of one core, memory per engine (RSS growth / engines, from
    before the engines to the end), and the p99 of the engines' cycle durations.

What the engines do per cycle: the shared feed's prices close the current bar, the preset's
indications are computed for all of the engine's symbols, and the pseudo book manages and opens
positions for all six parameter sets (entry/strategy) on every symbol — each fill stored and
streamed at once, open positions re-marked and their running state stored every 5 s. The
simulator's random walk makes the entries fire, so positions open and close during the run;
the report gives how many. (No live trading: live orders are exchange-bound, not CPU-bound.)
With ``--watchers W``: W ``WatchEngines`` and W ``WatchPositions`` streams (bench/watchers.py)
measure each change's delivery. Every engine sees the same simulated prices with the same six
parameter sets, so they fill together: bursts of tens of thousands of position changes within
a second or two, with tens a second in between. The report gives the bursts (seconds with more
than ``BURST`` position changes per watcher, and the second after) and each stream's delivery
p99 outside them, beside the p99 over the whole window.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import grpc
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.engine.v1 import engine_pb2 as epb  # noqa: E402
from cts.engine.v1 import engine_pb2_grpc  # noqa: E402

from bench.exchange_access import AUTH, EXCHANGES, Server, Simulator, connect, say  # noqa: E402
from bench.watchers import BURST, KINDS, Timeline, WatcherProcess, burst_figures  # noqa: E402
from server.engine import indications  # noqa: E402
from server.engine.presets import DEFAULT  # noqa: E402
from tests.support.rpc import engine_statuses  # noqa: E402
from tests.support.schemas import fresh_schema  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
POSTGRES_URL = os.environ.get(
    "CTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CREATING = 16  # connections created at a time (CreateConnection calls in flight)
# Issue 12's head (482fe61), 100 engines x 20 symbols, 60 s, SQLite, this machine.
PREVIOUS = {
    "ready_seconds": 69.7,
    "cpu_share": 0.474,
    "cycle_p99_max_ms": 17.82,
    "cycle_p99_median_ms": 6.11,
    "rss_per_engine_mb": 3.39,
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def indications_ratio(symbols: int, bars: int = 200, repeats: int = 200) -> tuple[float, float]:
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, (symbols, bars)), axis=1))
    volumes = rng.lognormal(0, 0.5, (symbols, bars))

    def all_of(c: np.ndarray, v: np.ndarray) -> None:
        indications.direction(c, DEFAULT.direction)
        indications.move(c, DEFAULT.move)
        indications.active(c, DEFAULT.active)
        indications.active_advanced(c, v, DEFAULT.active_advanced)

    started = time.perf_counter()
    for _ in range(repeats):
        all_of(closes, volumes)
    vectorised = (time.perf_counter() - started) / repeats
    started = time.perf_counter()
    for _ in range(repeats):
        for i in range(symbols):
            all_of(closes[i : i + 1], volumes[i : i + 1])
    loop = (time.perf_counter() - started) / repeats
    return vectorised * 1000, loop * 1000


async def engines_run(
    count: int,
    symbols: int,
    seconds: float,
    database_url: str | None = None,
    watchers: int = 0,
    settle: float = 0.0,
) -> dict[str, float]:
    simulator = Simulator()
    for exchange in EXCHANGES:  # the simulator's own limits out of the way of this bench
        simulator.control(
            "POST", "limits", {"exchange": exchange, "per_second": 10_000, "per_minute": 10**6}
        )
    env = {
        "CTS_ENGINES": "true",
        "CTS_ENGINE_SYMBOLS": str(symbols),
        "CTS_ENGINE_CYCLE_SECONDS": "1",
    }
    if database_url is not None:
        env["CTS_DATABASE_URL"] = database_url
    server = Server(simulator, None, env)
    try:
        from bench.exchange_access import wait_serving

        await wait_serving(server.target)
        pid = server.process.pid
        rss_before = rss_bytes(pid)
        async with grpc.aio.insecure_channel(server.target) as channel:
            from cts.connection.v1 import connection_pb2_grpc

            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            engines = engine_pb2_grpc.EngineServiceStub(channel)
            say(
                f"creating {count} enabled, active connections, {CREATING} at a time "
                "(engines start on their own)"
            )
            accounts = [simulator.account(EXCHANGES[n % len(EXCHANGES)]) for n in range(count)]
            stream = engines.WatchEngines(epb.WatchEnginesRequest(), metadata=AUTH)
            running: set[str] = set()

            async def all_running() -> float:
                async for message in stream:
                    for status in engine_statuses(message):
                        if status.state == "running":
                            running.add(status.connection_id)
                    if len(running) >= count:
                        break
                return time.perf_counter()

            waiting = asyncio.ensure_future(all_running())
            started = time.perf_counter()
            slots = asyncio.Semaphore(CREATING)

            async def create(n: int) -> None:
                async with slots:
                    exchange = EXCHANGES[n % len(EXCHANGES)]
                    await connect(stub, exchange, accounts[n], n, active=True)

            await asyncio.gather(*(create(n) for n in range(count)))
            created = time.perf_counter()
            ready_at = await waiting
            stream.cancel()
            ready = ready_at - created
            say(
                f"{count} created in {created - started:.1f} s, all running {ready:.1f} s after "
                f"the last was created; measuring {seconds:g} s"
            )
            # Each kind of watcher in a process of its own (bench.watchers), as outside clients.
            clients = (
                {kind: WatcherProcess(server.target, kind, watchers) for kind in KINDS}
                if watchers
                else {}
            )
            if clients:
                took = max([await client.synced() for client in clients.values()])
                say(f"every watcher's snapshot whole in {took:.1f} s")
            if settle:
                say(f"letting the engines' opening burst settle for {settle:g} s")
                await asyncio.sleep(settle)  # --settle: the steady state is what is measured
            for client in clients.values():
                client.go()
            cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
            await asyncio.sleep(seconds)  # the measured interval itself
            cpu1, wall1 = cpu_seconds(pid), time.perf_counter()
            rss_after = rss_bytes(pid)
            streamed: dict[str, float] = {}
            timelines: dict[str, Timeline] = {}
            for kind, client in clients.items():
                result, timelines[kind] = await client.stop()
                streamed.update(result)
            if timelines:
                streamed.update(burst_figures(timelines["status"], timelines["position"]))
            listed = await engines.ListEngineStatuses(
                epb.ListEngineStatusesRequest(), metadata=AUTH
            )
            mine = [e for e in listed.engines if e.state in ("running", "paused")]
            p99s = sorted(e.metrics.cycle_p99_ms for e in mine)
            strategy_p99s = sorted(e.metrics.strategy_p99_ms for e in mine)
            cycles = sum(e.metrics.cycles for e in mine)
            progression = await engines.GetEngineProgression(
                epb.GetEngineProgressionRequest(), metadata=AUTH
            )
            # No fill lost: stop every engine (each stores what it holds and reports its run's
            # fills), then count the fills storage holds (an open, each add, a close).
            say(f"measured: {streamed}")  # (before the stops, which take a while at 1,000)
            say(f"stopping the engines to count their fills, {CREATING} at a time")
            stopping = time.perf_counter()

            async def stop(connection_id: str) -> None:
                async with slots:
                    await engines.StopEngine(
                        epb.EngineCommand(connection_id=connection_id), metadata=AUTH
                    )

            await asyncio.gather(*(stop(e.connection_id) for e in mine))
            say(f"{len(mine)} stopped in {time.perf_counter() - stopping:.1f} s")
            final = await engines.ListEngineStatuses(epb.ListEngineStatusesRequest(), metadata=AUTH)
            computed = sum(e.trading.trades for e in final.engines)
            stored, token = 0, ""
            while True:
                page = await engines.ListPositions(
                    epb.ListPositionsRequest(page_size=1000, page_token=token), metadata=AUTH
                )
                stored += sum(
                    1 + p.adds + (1 if p.status == "closed" else 0) for p in page.positions
                )
                token = page.next_page_token
                if not token:
                    break
        return {
            "ready_seconds": ready,
            "created_seconds": created - started,
            "cpu_share": (cpu1 - cpu0) / (wall1 - wall0),
            "rss_per_engine_mb": (rss_after - rss_before) / count / 2**20,
            "rss_mb": rss_after / 2**20,
            "cycle_p99_max_ms": p99s[-1] if p99s else 0.0,
            "cycle_p99_median_ms": p99s[len(p99s) // 2] if p99s else 0.0,
            "cycles": float(cycles),
            "engines": float(len(mine)),
            "strategy_p99_max_ms": strategy_p99s[-1] if strategy_p99s else 0.0,
            "trades": float(progression.trades),
            "open_positions": float(progression.open_pseudo_positions),
            "closed_positions": float(
                sum(e.trading.closed_pseudo_positions for e in progression.engines)
            ),
            "fills_computed": float(computed),
            "fills_stored": float(stored),
            **streamed,
        }
    finally:
        server.stop()
        simulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", type=int, default=100)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--watchers", type=int, default=10, help="WatchEngines and WatchPositions clients each"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds between the watchers' snapshots and the measured interval (steady state)",
    )
    args = parser.parse_args()

    vectorised, loop = indications_ratio(args.symbols)
    print(f"\n(1) indications for {args.symbols} symbols x 200 bars (Direction, Move, Active,")
    print(f"    Active Advanced): vectorised {vectorised:.3f} ms, per-symbol loop {loop:.3f} ms,")
    print(f"    ratio {loop / vectorised:.1f}x")

    if args.database == "postgresql":
        with fresh_schema(POSTGRES_URL, "cts_bench") as url:
            figures = asyncio.run(
                engines_run(
                    args.engines, args.symbols, args.seconds, url, args.watchers, args.settle
                )
            )
    else:
        figures = asyncio.run(
            engines_run(args.engines, args.symbols, args.seconds, None, args.watchers, args.settle)
        )
    before = PREVIOUS
    worst_target = 20 if args.engines <= 100 else 100
    print(
        f"\n(2) {int(figures['engines'])} engines x {args.symbols} symbols, 1 s cycle, "
        f"{args.seconds:g} s measured, {args.database} (previous: issue 12, 100 engines, SQLite)"
    )
    print(f"    connections created in {figures['created_seconds']:.1f} s ({CREATING} at a time)")
    print(
        f"    all running            {figures['ready_seconds']:.1f} s after the last was created "
        f"(target <= 60 s; previous {before['ready_seconds']:.1f} s from the first, created one "
        "at a time)"
    )
    print(
        f"    server CPU             {100 * figures['cpu_share']:.1f}% of one core "
        f"(target <= 100%; previous {100 * before['cpu_share']:.1f}%)"
    )
    print(
        f"    cycle p99 (worst)      {figures['cycle_p99_max_ms']:.2f} ms "
        f"(target <= {worst_target} ms; previous {before['cycle_p99_max_ms']:.2f} ms)"
    )
    print(
        f"    cycle p99 (median)     {figures['cycle_p99_median_ms']:.2f} ms "
        f"(previous {before['cycle_p99_median_ms']:.2f} ms)"
    )
    print(
        f"    memory per engine      {figures['rss_per_engine_mb']:.2f} MB "
        f"(target <= 2 MB; previous {before['rss_per_engine_mb']:.2f} MB)"
    )
    print(f"    strategy cycle p99     {figures['strategy_p99_max_ms']:.2f} ms (worst engine)")
    print(f"    server RSS             {figures['rss_mb']:.0f} MB; cycles {int(figures['cycles'])}")
    print(
        f"    pseudo positions       {int(figures['open_positions'])} open, "
        f"{int(figures['closed_positions'])} closed, {int(figures['trades'])} fills"
    )

    print(
        f"    fills                  {int(figures['fills_computed'])} computed by the engines, "
        f"{int(figures['fills_stored'])} stored (target: equal)"
    )
    if args.watchers:
        print(
            f"    {args.watchers} WatchEngines       "
            f"{figures['status_bytes_per_s'] / 1000:.1f} kB/s and "
            f"{figures['status_changes_per_s']:.0f} changes/s per watcher, delivery p99 "
            f"{figures['status_p99_ms']:.1f} ms (target <= 50 ms); p50 "
            f"{figures['status_p50_ms']:.1f} ms; p99 in the last half "
            f"{figures['status_late_p99_ms']:.1f} ms"
        )
        print(
            f"    {args.watchers} WatchPositions     "
            f"{figures['position_bytes_per_s'] / 1000:.1f} kB/s and "
            f"{figures['position_changes_per_s']:.0f} changes/s per watcher, delivery p99 "
            f"{figures['position_p99_ms']:.1f} ms (target <= 50 ms); p50 "
            f"{figures['position_p50_ms']:.1f} ms; p99 in the last half "
            f"{figures['position_late_p99_ms']:.1f} ms"
        )
        print(
            f"      and marks            {figures['position_marks_per_s']:.0f} events/s re-marking "
            f"{figures['position_mark_rows_per_s']:.0f} positions/s per watcher, delivery p99 "
            f"{figures['position_marks_p99_ms']:.1f} ms"
        )
        print(
            f"    position bursts        {int(figures['burst_seconds'])} s of the window "
            f"(a second with over {BURST} position changes per watcher, and the one after): "
            f"{int(figures['burst_changes'])} changes per watcher, at most "
            f"{int(figures['burst_largest'])} in a second"
        )
        print(
            f"      outside them         delivery p99 {figures['status_quiet_p99_ms']:.1f} ms "
            f"(WatchEngines), {figures['position_quiet_p99_ms']:.1f} ms (WatchPositions)"
        )
        print(
            f"    stream resyncs         "
            f"{int(figures['status_resyncs'] + figures['position_resyncs'])} (target 0); failed "
            f"streams {int(figures['status_failed'] + figures['position_failed'])}; the "
            f"watchers' own CPU {100 * figures['status_client_cpu_share']:.0f}% (engines) and "
            f"{100 * figures['position_client_cpu_share']:.0f}% (positions) of one core"
        )


if __name__ == "__main__":
    main()
