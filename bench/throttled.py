"""The REST GET p99 through Envoy for a quiet client, alone and while another client is throttled.

    python bench/throttled.py [--samples 800] [--rate 40] [--noisy-rate 500] [--workers 4]

Starts, as separate processes on free ports, a CTS server (`cts serve`, SQLite in a temporary
folder, the default abuse limits: 50 requests per second per token after a burst of 100) and
Envoy in front of it. The quiet client (the admin token) sends ``GET
/api/settings/connections/{id}`` through Envoy at ``--rate`` per second (inside its limit), one
at a time over a kept-alive connection, ``--samples`` times: first alone, then while a noisy
client (another token, in its own process, ``--workers`` connections) sends the same GET at
``--noisy-rate`` per second in all, far over its limit, and is answered 429 for most of them.
Both clients come from 127.0.0.1, so they share one client address too: what the token's rate
refuses does not count against the address. Printed: p50 and p99 of each phase, the ratio of
the p99s (target: within 2x), what the noisy client got, and the server's refusal counters.
Timings are reported, never asserted: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from server.access.tokens import create_token  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage.database import Database  # noqa: E402
from tests.support.envoy_process import EnvoyProcess  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

TOKEN = "bench-token-0123456789-abcdefghij"


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def get(connection: http.client.HTTPConnection, path: str, token: str) -> int:
    connection.request("GET", path, headers={"authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    return response.status


def quiet(port: int, path: str, samples: int, rate: float) -> tuple[list[float], int]:
    """Latencies (ms) of ``samples`` paced GETs, and how many were not 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(50):  # warm-up, within the burst
        get(connection, path, TOKEN)
    latencies, failures = [], 0
    start = time.perf_counter()
    for n in range(samples):
        wait = start + n / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)  # the client's pace
        began = time.perf_counter()
        if get(connection, path, TOKEN) != 200:
            failures += 1
        latencies.append((time.perf_counter() - began) * 1000)
    connection.close()
    return latencies, failures


def hammer(port: int, path: str, token: str, rate: float, workers: int) -> None:
    """The noisy client: GETs at ``rate`` per second over ``workers`` connections until stdin
    closes; prints its status counts as JSON."""
    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        each = rate / workers
        start, n = time.perf_counter(), 0
        while not stop.is_set():
            wait = start + n / each - time.perf_counter()
            if wait > 0:
                time.sleep(wait)  # the client's pace
            status = str(get(connection, path, token))
            with lock:
                counts[status] = counts.get(status, 0) + 1
            n += 1
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    print("hammering", flush=True)
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    print(json.dumps({"counts": counts, "seconds": time.perf_counter() - started}), flush=True)


def refusals(metrics_port: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        s.labels["limit"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "cts_api_refused_total"
    }


def wait_serving(target: str) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=60
        )


def run(samples: int, rate: float, noisy_rate: float, workers: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="cts-bench-throttled-"))
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'cts.db'}",
        grpc_port=free_port(),
        http_port=free_port(),
        envoy_admin_port=free_port(),
        webui_port=free_port(),
        metrics_port=free_port(),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    env.update(
        CTS_DATA_DIR=str(data),
        CTS_GRPC_PORT=str(settings.grpc_port),
        CTS_METRICS_PORT=str(settings.metrics_port),
        CTS_ADMIN_TOKEN=TOKEN,
        CTS_LOG_LEVEL="WARNING",
        CTS_DEMO="false",
        CTS_HEALTH_CHECKS="false",
        CTS_ENGINES="false",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    envoy = noisy = None
    try:
        say("waiting for the CTS server, starting Envoy")
        wait_serving(settings.grpc_target)
        envoy = EnvoyProcess(settings).start()
        db = Database(settings.resolved_database_url, threads=1)
        noisy_token, _ = db.write_now(lambda s: create_token(s, "noisy"))
        db.close()
        connection = http.client.HTTPConnection("127.0.0.1", settings.http_port)
        body = json.dumps({"name": "bench target", "exchange": "okx", "api_type": "spot"})
        connection.request(
            "POST",
            "/api/settings/connections",
            body=body,
            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        )
        made = json.loads(connection.getresponse().read())
        connection.close()
        path = f"/api/settings/connections/{made['id']}"

        say(f"quiet client alone: {samples} GETs at {rate:g}/s")
        alone, alone_failed = quiet(settings.http_port, path, samples, rate)
        say(f"noisy client at {noisy_rate:g}/s over {workers} connections")
        options = ["--noisy-rate", str(noisy_rate), "--workers", str(workers)]
        noisy = subprocess.Popen(
            [sys.executable, __file__, "--hammer", str(settings.http_port), path, *options],
            env={**os.environ, "BENCH_NOISY_TOKEN": noisy_token},  # not on the command line
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert noisy.stdout is not None and noisy.stdin is not None
        assert noisy.stdout.readline().strip() == "hammering"
        say(f"quiet client again: {samples} GETs at {rate:g}/s")
        loaded, loaded_failed = quiet(settings.http_port, path, samples, rate)
        noisy.stdin.close()
        result = json.loads(noisy.stdout.readline())
        noisy.wait(timeout=30)
        noisy = None
        refused = refusals(settings.metrics_port)
    finally:
        if noisy is not None:
            noisy.kill()
        if envoy is not None:
            envoy.stop()
        server.terminate()
        server.wait(timeout=30)

    p50_alone, p99_alone = percentiles(alone)
    p50_loaded, p99_loaded = percentiles(loaded)
    counts, seconds = result["counts"], result["seconds"]
    sent = sum(counts.values())
    print(f"\nREST GET /api/settings/connections/{{id}} through Envoy, {samples} at {rate:g}/s\n")
    print(f"{'quiet client':<40} {'p50 ms':>8} {'p99 ms':>8} {'not 200':>8}")
    print(f"{'alone':<40} {p50_alone:8.3f} {p99_alone:8.3f} {alone_failed:8d}")
    name = "while another token is throttled"
    print(f"{name:<40} {p50_loaded:8.3f} {p99_loaded:8.3f} {loaded_failed:8d}")
    print(f"\np99 ratio {p99_loaded / p99_alone:.2f} (target <= 2)")
    print(
        f"noisy client: {sent} GETs in {seconds:.1f} s ({sent / seconds:.0f}/s): "
        + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        + f"; let through {counts.get('200', 0) / seconds:.1f}/s"
    )
    print("server's refusals by limit: " + json.dumps(refused))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=800)
    parser.add_argument("--rate", type=float, default=40.0, help="the quiet client's pace")
    parser.add_argument("--noisy-rate", type=float, default=500.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--hammer", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hammer:
        port, path = args.hammer
        token = os.environ["BENCH_NOISY_TOKEN"]
        hammer(int(port), path, token, args.noisy_rate, args.workers)
        return
    run(args.samples, args.rate, args.noisy_rate, args.workers)


if __name__ == "__main__":
    main()
