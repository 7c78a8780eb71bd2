"""The Overview page at scale, in Debian's headless Chromium, in one run.

    python bench/overview.py [--connections 300] [--engines 100] [--seconds 30] [--tabs 5]

Starts, as separate processes: the exchange simulator (`cts simulator`), a CTS server
(`cts serve`, engines on, 1-second cycle) and the dashboard (`cts webui`, as the browser tests
start it). Stores N connections on the simulator (each its own account), the first E enabled and
active (their engines start on their own and trade pseudo positions on the simulator's random
walk), signs in with the admin token in one Chromium tab (the page after sign-in is /overview)
and holds one WatchPositions stream (every connection) for the fills. Then:

(1) Fill → overview, for --seconds: the engines' own fills, and pseudo positions closed by the
    bench with EngineService.ClosePosition (one every --seconds/250 s, on an account without a
    fill in the last second). For each fill, the time from its stamp on the server
    (``opened_at`` / ``closed_at``) to the moment the page held it: in the account's AG Grid
    row (the open pseudo count, and for a close the realised PnL, on the grid's
    rowDataUpdated/modelUpdated events) and in the totals table (a MutationObserver on its
    cells). A row "holds" a fill when it shows the open count that fill or a later one of the
    same row left (see bench/overview_page.py); the totals the same over every account. Both
    ends read the same machine clock (the page as performance.timeOrigin + performance.now()).
    Paint is not included. "Isolated" fills have no other fill on their account within 1 s.
(2) The dashboard process's CPU (share of one core, /proc) and RSS with --tabs tabs on the
    Overview: with the E engines running, then with them stopped (nothing changes but the
    periodic balance reads). The server's CPU over the same intervals.
(3) Bytes per second the dashboard pushed to the first tab (CDP Network.webSocketFrameReceived
    payload lengths) in both intervals of (2), by the part of the page they update.

Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2_grpc  # noqa: E402
from cts.engine.v1 import engine_pb2 as epb  # noqa: E402
from cts.engine.v1 import engine_pb2_grpc  # noqa: E402
from cts.stream.v1 import stream_pb2  # noqa: E402
from playwright.async_api import BrowserContext, Page  # noqa: E402

from bench.engines import cpu_seconds, rss_bytes  # noqa: E402
from bench.exchange_access import (  # noqa: E402
    AUTH,
    EXCHANGES,
    TOKEN,
    Server,
    Simulator,
    connect,
    say,
    wait_serving,
)
from bench.overview_page import (  # noqa: E402
    GRID,
    HOOKS,
    PARTS,
    Fill,
    frame_parts,
    interval_report,
    latency_report,
    mark_isolated,
    percentiles,
    row_latencies,
    totals_latencies,
)
from tests.support.chromium import launched_chromium  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.rpc import engine_statuses  # noqa: E402
from tests.webui.test_session import (  # noqa: E402
    Dashboard,
    wait_until_healthy,
    webui_process,
)

TARGET_P95_MS = 100.0


def ms(stamp: Any) -> float:
    return float(stamp.seconds) * 1000 + stamp.nanos / 1e6


def child_pid(marker: str) -> int:
    """The id of this process's child whose command line contains ``marker`` (the dashboard
    that webui_process started)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and marker in (entry / "cmdline").read_text():
                return int(entry.name)
    raise RuntimeError(f"no child process running {marker!r}")


@contextlib.contextmanager
def profiled_webui(server: Server, folder: Path, profile: Path) -> Iterator[Dashboard]:
    """`cts webui` as webui_process starts it, but under cProfile (written to ``profile`` when
    it exits on SIGTERM)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    env.update(
        CTS_HOST="127.0.0.1",
        CTS_GRPC_PORT=str(server.port),
        CTS_WEBUI_PORT=str(port),
        CTS_DATA_DIR=str(folder / "webui-data"),
    )
    command = ["-m", "cProfile", "-o", str(profile), "-m", "server.cli", "webui"]
    with (folder / "webui.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        running = Dashboard(f"http://127.0.0.1:{port}", folder / "webui-data", None)
        try:
            wait_until_healthy(running, process)
            yield running
        finally:
            process.terminate()
            process.wait(timeout=60)


class Positions:
    """The bench's WatchPositions stream: every pseudo fill, with each account's open count."""

    def __init__(self) -> None:
        self.open: dict[str, set[str]] = {}
        self.fills: list[Fill] = []
        self.forced: set[str] = set()  # ids the bench closed
        self.recording = False
        self.synced = asyncio.Event()
        self.snapshots: list[tuple[str, int]] = []  # reason, open pseudo positions in it

    def total(self) -> int:
        return sum(len(ids) for ids in self.open.values())

    def last_fill_ms(self, connection_id: str) -> float:
        own = [f.at_ms for f in self.fills[-400:] if f.connection_id == connection_id]
        return max(own, default=0.0)

    async def complete(self, engines: engine_pb2_grpc.EngineServiceStub) -> None:
        """Every open pseudo position, listed page by page: a WatchPositions snapshot holds at
        most 1000 open positions (server/engine/blotter.py, Blotter.watch). Pages of 500:
        a page of 1000 (the most) never says that more follow (store.find caps the one extra
        row it asks for)."""
        token = ""
        while True:
            page = await engines.ListPositions(
                epb.ListPositionsRequest(
                    status="open", mode="pseudo", page_size=500, page_token=token
                ),
                metadata=AUTH,
            )
            for position in page.positions:
                self.open.setdefault(position.connection_id, set()).add(position.id)
            token = page.next_page_token
            if not token:
                return

    async def follow(self, engines: engine_pb2_grpc.EngineServiceStub) -> None:
        stream = engines.WatchPositions(epb.WatchPositionsRequest(), metadata=AUTH)
        async for message in stream:
            event = message.WhichOneof("event")
            if event == "snapshot":
                self.open = {}
                for position in message.snapshot.positions:
                    if position.status == "open" and position.mode == "pseudo":
                        self.open.setdefault(position.connection_id, set()).add(position.id)
                reason = stream_pb2.SnapshotReason.Name(message.snapshot.reason)
                self.snapshots.append((reason, self.total()))
                self.synced.set()
            elif event == "change":
                self.change(message.change.position)

    def change(self, position: epb.Position) -> None:
        if position.mode != "pseudo":
            return
        ids = self.open.setdefault(position.connection_id, set())
        if position.status == "open" and position.id not in ids:
            ids.add(position.id)
            kind, at = "opened", ms(position.opened_at)
        elif position.status == "closed" and position.id in ids:
            ids.discard(position.id)
            kind, at = "closed", ms(position.closed_at)
        else:
            return  # re-marked or added to: no count or realised PnL change
        if self.recording:
            self.fills.append(
                Fill(
                    position.connection_id,
                    kind,
                    at,
                    len(ids),
                    self.total(),
                    forced=position.id in self.forced,
                    received_ms=time.time() * 1000,
                )
            )


async def close_some(
    engines: engine_pb2_grpc.EngineServiceStub, positions: Positions, every: float, until: float
) -> int:
    """Close one open pseudo position every ``every`` seconds, on an account without a fill in
    the last second; returns how many were closed."""
    closed = 0
    rng = random.Random(12)
    while time.monotonic() < until:
        now_ms = time.time() * 1000
        candidates = [
            (connection_id, position_id)
            for connection_id, ids in positions.open.items()
            if now_ms - positions.last_fill_ms(connection_id) > 1000
            for position_id in ids
        ]
        if candidates:
            _, position_id = rng.choice(candidates)
            positions.forced.add(position_id)
            with contextlib.suppress(grpc.aio.AioRpcError):  # closed by its engine meanwhile
                await engines.ClosePosition(
                    epb.ClosePositionRequest(position_id=position_id), metadata=AUTH
                )
                closed += 1
        await asyncio.sleep(every)  # the bench's pace of closes, not synchronisation
    return closed


class Frames:
    """CDP Network.webSocketFrameReceived payloads of one tab, with their arrival times."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []

    async def attach(self, context: BrowserContext, page: Page) -> None:
        session = await context.new_cdp_session(page)
        session.on(
            "Network.webSocketFrameReceived",
            lambda params: self.received.append(
                (time.monotonic(), str(params["response"]["payloadData"]))
            ),
        )
        await session.send("Network.enable")

    def between(self, start: float, end: float, parts: dict[str, str]) -> dict[str, Any]:
        """Bytes per second by part of the page, and each part's largest share of one frame."""
        sizes: dict[str, float] = {}
        largest: dict[str, int] = {}
        for at, payload in self.received:
            if start <= at < end:
                for name, size in frame_parts(payload, parts).items():
                    sizes[name] = sizes.get(name, 0) + size
                    largest[name] = max(largest.get(name, 0), size)
        rates = {name: size / (end - start) for name, size in sizes.items()}
        return {"rates": rates, "largest": largest}


async def sign_in(page: Page, url: str) -> None:
    await page.goto(f"{url}/login")
    await page.get_by_label("API token").fill(TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{url}/overview")


async def grid_ready(page: Page, rows: int) -> None:
    """The tab's accounts grid holds every row."""
    await page.wait_for_function(
        """rows => { const el = document.querySelector(
             '[aria-label="Accounts: one row per connection"]');
           if (!el) return false; const c = getElement(el.id.slice(1));
           return !!(c && c.api && c.api.getDisplayedRowCount() >= rows); }""",
        arg=rows,
        timeout=120_000,
    )


async def measure(
    seconds: float, dashboard: int, server: int, frames: Frames, parts: dict[str, str]
) -> dict[str, Any]:
    cpu = (cpu_seconds(dashboard), cpu_seconds(server))
    started = time.monotonic()
    await asyncio.sleep(seconds)  # the measured interval itself
    ended = time.monotonic()
    wall = ended - started
    return {
        "dashboard_cpu": (cpu_seconds(dashboard) - cpu[0]) / wall,
        "server_cpu": (cpu_seconds(server) - cpu[1]) / wall,
        "dashboard_rss_mb": rss_bytes(dashboard) / 2**20,
        "bytes": frames.between(started, ended, parts),
    }


async def wait_engines(
    engines: engine_pb2_grpc.EngineServiceStub, ids: list[str], state: str
) -> None:
    wanted, reached = set(ids), set()
    stream = engines.WatchEngines(epb.WatchEnginesRequest(), metadata=AUTH)
    async for message in stream:
        for status in engine_statuses(message):
            if status.connection_id in wanted and status.state == state:
                reached.add(status.connection_id)
        if reached >= wanted:
            break
    stream.cancel()


async def run(
    connections: int, engine_count: int, seconds: float, tabs: int, profile: Path | None
) -> dict[str, Any]:
    simulator = Simulator()
    for exchange in EXCHANGES:  # the simulator's own limits out of the way of this bench
        simulator.control(
            "POST", "limits", {"exchange": exchange, "per_second": 10_000, "per_minute": 10**6}
        )
    env = {"CTS_ENGINES": "true", "CTS_ENGINE_CYCLE_SECONDS": "1"}
    server = Server(simulator, None, env)
    figures: dict[str, Any] = {}
    try:
        await wait_serving(server.target)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            engines = engine_pb2_grpc.EngineServiceStub(channel)
            say(f"storing {connections} connections, engines on the first {engine_count}")
            started = time.perf_counter()
            ids = []
            for n in range(connections):
                exchange = EXCHANGES[n % len(EXCHANGES)]
                account = simulator.account(exchange)
                ids.append(await connect(stub, exchange, account, n, active=n < engine_count))
            await wait_engines(engines, ids[:engine_count], "running")
            say(f"all {engine_count} engines running after {time.perf_counter() - started:.0f} s")
            folder = Path(tempfile.mkdtemp(prefix="cts-bench-webui-"))
            dashboard_process = (
                profiled_webui(server, folder, profile)
                if profile
                else webui_process(server, folder)
            )
            with dashboard_process as ui:
                dashboard = child_pid("webui")
                figures = await browse(
                    ui.url, dashboard, server.process.pid, engines, ids, engine_count, seconds, tabs
                )
    finally:
        server.stop()
        simulator.stop()
    return figures


async def browse(
    url: str,
    dashboard: int,
    server: int,
    engines: engine_pb2_grpc.EngineServiceStub,
    ids: list[str],
    engine_count: int,
    seconds: float,
    tabs: int,
) -> dict[str, Any]:
    positions = Positions()
    follower = asyncio.create_task(positions.follow(engines))
    figures: dict[str, Any] = {}
    try:
        await positions.synced.wait()
        await positions.complete(engines)
        async with launched_chromium() as browser:
            context = await browser.new_context(viewport={"width": 1600, "height": 1000})
            first = await context.new_page()
            frames = Frames()
            await frames.attach(context, first)
            await sign_in(first, url)
            await grid_ready(first, len(ids))
            parts = await first.evaluate(PARTS)
            figures["grid_rows"] = await first.evaluate(HOOKS)
            figures["parts"], figures["frames"] = parts, frames

            say(f"(1) fills for {seconds:g} s, closing pseudo positions on the side")
            positions.recording = True
            until = time.monotonic() + seconds
            figures["forced"] = await close_some(engines, positions, seconds / 250, until)
            positions.recording = False
            await asyncio.sleep(2)  # the last fills' way to the page, before reading it
            rows, totals = await first.evaluate("[window.__rows, window.__totals]")
            figures["fills"] = positions.fills
            figures["rows"] = row_latencies(positions.fills, rows)
            figures["totals"] = totals_latencies(positions.fills, totals)
            figures["totals_last"] = (totals[-1] if totals else None, positions.total())
            figures["snapshots"] = list(positions.snapshots)
            figures["same_grid"] = await first.evaluate(
                f"""() => getElement(document.querySelector('{GRID}').id.slice(1)).api
                     === window.__ctsGridApi"""
            )

            for _ in range(tabs - 1):
                page = await context.new_page()
                await page.goto(f"{url}/overview")
                await grid_ready(page, len(ids))
            say(f"(2b, 3) {tabs} tabs, {engine_count} engines running, {seconds:g} s")
            figures["running"] = await measure(seconds, dashboard, server, frames, parts)

            for connection_id in ids[:engine_count]:
                await engines.StopEngine(
                    epb.EngineCommand(connection_id=connection_id), metadata=AUTH
                )
            await wait_engines(engines, ids[:engine_count], "stopped")
            await asyncio.sleep(5)  # the stops' own updates reach the tabs before measuring
            say(f"(2a) {tabs} tabs, engines stopped, {seconds:g} s")
            figures["stopped"] = await measure(seconds, dashboard, server, frames, parts)
            await context.close()
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await follower
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--engines", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tabs", type=int, default=5)
    parser.add_argument(
        "--profile", type=Path, help="run the dashboard under cProfile, its stats written here"
    )
    parser.add_argument("--dump-frames", type=Path, help="write tab 1's frames here (JSON lines)")
    args = parser.parse_args()
    began = time.perf_counter()
    figures = asyncio.run(
        run(args.connections, args.engines, args.seconds, args.tabs, args.profile)
    )
    fills: list[Fill] = figures["fills"]
    if args.dump_frames:
        with args.dump_frames.open("w") as out:
            out.write(json.dumps({"parts": figures["parts"]}) + "\n")
            for at, payload in figures["frames"].received:
                out.write(json.dumps([at, payload]) + "\n")
    mark_isolated(fills)
    print(
        f"\n{args.connections} connections, {args.engines} engines (1 s cycle), "
        f"{args.tabs} tabs; the grid held {figures['grid_rows']} rows"
    )
    print(
        f"(1) {len(fills)} fills in {args.seconds:g} s: "
        f"{sum(f.kind == 'opened' for f in fills)} opened, "
        f"{sum(f.kind == 'closed' for f in fills)} closed "
        f"({figures['forced']} by the bench's ClosePosition); "
        f"{sum(f.isolated for f in fills)} isolated. One machine clock on both ends."
    )
    if not figures["same_grid"]:
        print("    (the page rebuilt its grid during the run: figures after that are missing)")
    latency_report(
        "    fill stamp -> the bench's own WatchPositions stream receives it (the server's part):",
        [(f, f.received_ms - f.at_ms) for f, _ in figures["rows"]],
    )
    latency_report("    fill stamp -> the account's grid row holds it:", figures["rows"])
    latency_report("    fill stamp -> the totals table shows it:", figures["totals"])
    row_of = {id(f): v for f, v in figures["rows"]}
    gaps = [
        t - row
        for f, t in figures["totals"]
        if t is not None and (row := row_of.get(id(f))) is not None
    ]
    print(f"    totals later than the row, same fill: {percentiles(gaps)}")
    shown, counted = figures["totals_last"]
    print(f"    last totals shown: {shown}; open pseudo positions on the stream: {counted}")
    snapshots = figures["snapshots"]
    print(
        f"    the bench's WatchPositions snapshots: {len(snapshots)} "
        f"(reason, open pseudo positions held): {snapshots[:8]}"
    )
    print(f"    target: p95 <= {TARGET_P95_MS:g} ms")
    interval_report(
        f"(2b, 3) {args.engines} engines running, {args.seconds:g} s", figures["running"], args.tabs
    )
    interval_report(f"(2a, 3) engines stopped, {args.seconds:g} s", figures["stopped"], args.tabs)
    if args.profile:
        print(f"\ndashboard profile (cProfile, whole run): {args.profile}")
    print(f"\ntotal run time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
