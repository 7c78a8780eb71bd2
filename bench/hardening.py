"""What roles, the audit trail and the abuse limits cost, in one run.

    python bench/hardening.py [--calls 2000] [--rounds 10]

Starts, as separate processes on free ports: the bare grpc.aio floor server of
bench/api_latency.py, and two CTS servers (`cts serve`, SQLite in temporary folders):

  guarded   as shipped: the role check on every call, an audit entry written (and committed)
            before every change answers, and the abuse limits counting every call (set far
            above this benchmark's rate, so that they count but never refuse)
  bare      the same server with the role table answering "viewer, changes nothing" for every
            RPC (so no audit entry is written) and the limits off (rates 0, no stream cap)

In alternating rounds (so that the machine's drift hits each alike) it measures p50 and p99 of
the floor, GetConnection on each server, and ToggleConnection (a change) on each server, and
reports GetConnection's floor ratio guarded over bare (target: overhead <= 5 %) and the
change's p99 with its audit write included. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
import tempfile
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cts.connection.v1 import connection_pb2 as pb  # noqa: E402
from cts.connection.v1 import connection_pb2_grpc  # noqa: E402

from bench.api_latency import (  # noqa: E402
    AUTH,
    FLOOR_METHOD,
    create_target,
    percentiles,
    say,
    serve_cts,
    start,
    time_calls,
    wait_serving,
)
from tests.support.ports import free_port  # noqa: E402

LIMITS_OFF = {
    "CTS_RATE_LIMIT_PER_SECOND": "0",
    "CTS_ADDRESS_RATE_LIMIT_PER_SECOND": "0",
    "CTS_AUTH_FAILURES_PER_SECOND": "0",
    "CTS_MAX_STREAMS_PER_TOKEN": "0",
}


def serve_bare() -> None:
    """`cts serve` with every RPC declared "viewer, changes nothing": no role refusals and no
    audit writes (the benchmark's baseline only)."""
    from server.access.roles import Role
    from server.cli import main
    from server.rpc import boundary
    from server.rpc.permissions import Rule

    nothing = Rule(Role.VIEWER)
    boundary.rule_of = lambda _method: nothing  # type: ignore[assignment]
    sys.exit(main(["serve"]))


def serve(data: Path, port: int, *, bare: bool) -> object:
    command = [sys.executable, __file__, "--serve-bare"] if bare else None
    return serve_cts(
        data,
        port,
        command,
        CTS_HEALTH_CHECKS="false",
        CTS_ENGINES="false",
        **(LIMITS_OFF if bare else {}),
    )


async def measure(targets: dict[str, str], calls: int, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    async with contextlib.AsyncExitStack() as stack:
        calls_of = {}
        for name, target in targets.items():
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(target))
            if name == "floor":
                calls_of["floor"] = functools.partial(channel.unary_unary(FLOOR_METHOD), b"")
                continue
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            made = await create_target(target)
            calls_of[f"GetConnection, {name}"] = functools.partial(
                stub.GetConnection, pb.GetConnectionRequest(id=made), metadata=AUTH
            )
            calls_of[f"ToggleConnection, {name}"] = functools.partial(
                stub.ToggleConnection, pb.ToggleConnectionRequest(id=made), metadata=AUTH
            )
        for call in calls_of.values():
            await time_calls(call, 0, warmup=100)
        samples = {name: [] for name in calls_of}
        for _ in range(rounds):
            for name, call in calls_of.items():
                count = calls // rounds if not name.startswith("Toggle") else calls // rounds // 4
                samples[name] += await time_calls(call, count, warmup=5)
    return samples


async def run(calls: int, rounds: int) -> None:
    floor_port, guarded_port, bare_port = free_port(), free_port(), free_port()
    floor = start(
        [sys.executable, str(ROOT / "bench" / "api_latency.py"), "--serve-floor", str(floor_port)],
        ready="ready",
    )
    guarded = serve(Path(tempfile.mkdtemp(prefix="cts-bench-")), guarded_port, bare=False)
    bare = serve(Path(tempfile.mkdtemp(prefix="cts-bench-")), bare_port, bare=True)
    try:
        targets = {
            "floor": f"127.0.0.1:{floor_port}",
            "guarded": f"127.0.0.1:{guarded_port}",
            "bare": f"127.0.0.1:{bare_port}",
        }
        for target in targets.values():
            await wait_serving(target) if target != targets["floor"] else None
        say(f"{calls} calls each in {rounds} alternating rounds (changes: a quarter of that)")
        samples = await measure(targets, calls, rounds)
    finally:
        for process in (floor, guarded, bare):
            process.terminate()  # type: ignore[attr-defined]
            process.wait(timeout=30)  # type: ignore[attr-defined]
    figures = {name: percentiles(values) for name, values in samples.items()}
    floor_p50 = figures["floor"][0]
    print(f"\nRoles, audit and limits ({calls} calls each; changes {calls // 4})\n")
    print(f"{'measure':<34} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>10}")
    for name, (p50, p99) in figures.items():
        print(f"{name:<34} {len(samples[name]):6d} {p50:8.3f} {p99:8.3f} {p50 / floor_p50:10.2f}")
    bare_ratio = figures["GetConnection, bare"][0] / floor_p50
    guarded_ratio = figures["GetConnection, guarded"][0] / floor_p50
    print(
        f"\nGetConnection floor ratio: {bare_ratio:.3f} bare, {guarded_ratio:.3f} guarded: "
        f"overhead {100 * (guarded_ratio / bare_ratio - 1):+.1f} % (target <= 5 %)"
    )
    change_bare, change_guarded = (
        figures["ToggleConnection, bare"],
        figures["ToggleConnection, guarded"],
    )
    print(
        f"ToggleConnection p99: {change_bare[1]:.3f} ms bare, {change_guarded[1]:.3f} ms guarded "
        f"(audit write included): {change_guarded[1] - change_bare[1]:+.3f} ms; "
        f"p50 {change_guarded[0] - change_bare[0]:+.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare()
        return
    asyncio.run(run(args.calls, args.rounds))


if __name__ == "__main__":
    main()
