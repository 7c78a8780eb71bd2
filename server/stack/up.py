"""``cts up``: the gRPC server, Envoy and the dashboard as one foreground stack.

Children start in dependency order (the server first, until its health check says SERVING).
Ctrl-C or SIGTERM stops the dashboard, then the server — while Envoy still relays, so that
streams through it end cleanly — then Envoy and the simulator. The server is given its
shutdown grace (``CTS_SHUTDOWN_GRACE_SECONDS``) plus a margin, the others a few seconds; only
then is a child killed. If any child dies on its own, the others are stopped and ``cts up``
exits with a non-zero status.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import sys
import urllib.request
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.settings import Settings
from server.stack.envoy import envoy_command, write_config

STOP_TIMEOUT_SECONDS = 10.0  # for a child other than the server
SERVER_STOP_MARGIN_SECONDS = 5.0  # beyond the server's own grace
STOP_ORDER = ("webui", "server", "envoy", "simulator")


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process


async def _spawn(name: str, *command: str, env: dict[str, str] | None = None) -> Child:
    process = await asyncio.create_subprocess_exec(*command, env=env)
    return Child(name, process)


async def wait_for_server(settings: Settings, timeout: float = 60.0) -> None:
    """Return once the gRPC server answers its health check with SERVING."""
    async with grpc.aio.insecure_channel(settings.grpc_target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(
            health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=timeout
        )
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"gRPC server reports {response.status}")


def _readiness_context() -> ssl.SSLContext:
    """For our own children's readiness on this machine only: the certificate may name
    another host than 127.0.0.1, so it is not checked here (clients check it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def answers(url: str) -> bool:
    """True when ``url`` answers 200 within a second (https: without checking the
    certificate, see ``_readiness_context``)."""
    context = _readiness_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as response:  # noqa: S310 - local URL
            return bool(response.status == 200)
    except OSError:
        return False


async def wait_for_http(url: str, child: Child, timeout: float = 60.0) -> None:
    """Return once ``url`` answers 200 (a child's readiness endpoint)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.05
    while not await asyncio.to_thread(answers, url):
        if child.process.returncode is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
        if loop.time() > deadline:
            raise RuntimeError(f"{child.name} did not become ready at {url}")
        await asyncio.sleep(delay)  # readiness back-off of a child process, not a data poll
        delay = min(delay * 2, 0.5)


async def _stop(children: list[Child], settings: Settings) -> None:
    ordered = sorted(
        children, key=lambda c: STOP_ORDER.index(c.name) if c.name in STOP_ORDER else -1
    )
    for child in ordered:
        if child.process.returncode is None:
            child.process.terminate()
            timeout = STOP_TIMEOUT_SECONDS
            if child.name == "server":
                timeout = settings.shutdown_grace_seconds + SERVER_STOP_MARGIN_SECONDS
            try:
                await asyncio.wait_for(child.process.wait(), timeout)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()


def _banner(settings: Settings) -> str:
    host = settings.host
    scheme = "https" if settings.tls else "http"
    via_envoy = f"also via Envoy on {host}:{settings.http_port}" + (", TLS" if settings.tls else "")
    return (
        "\nCTS is running (Ctrl-C stops everything):\n"
        f"  dashboard        {scheme}://{host}:{settings.webui_port}\n"
        f"  REST (Envoy)     {scheme}://{host}:{settings.http_port}/api/settings/connections\n"
        f"  gRPC (direct)    {host}:{settings.grpc_port}   ({via_envoy})\n"
        + (f"  TLS certificate  {settings.tls_cert}\n" if settings.tls else "")
        + (
            f"  exchange sim.    {settings.simulator_url}   (demo connection "
            "'Demo — simulated exchange')\n"
            if settings.demo and settings.simulator_url
            else ""
        )
        + (
            f"  metrics          http://{host}:{settings.metrics_port}/metrics   (Prometheus)\n"
            if settings.metrics
            else ""
        )
        + f"  admin API token  {settings.admin_token_file}"
        + ("  (CTS_ADMIN_TOKEN is set: that value is the token)" if settings.admin_token else "")
        + "\n"
    )


async def _run(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    python = sys.executable
    children: list[Child] = []
    env = dict(os.environ)
    try:
        if settings.demo and not settings.simulator_url:
            # The exchange simulator as the demo exchange; the server learns where it is.
            simulator = await _spawn("simulator", python, "-m", "server.cli", "simulator")
            children.append(simulator)
            url = f"http://127.0.0.1:{settings.simulator_port}"
            await wait_for_http(f"{url}/__simulator/health", simulator)
            env["CTS_SIMULATOR_URL"] = url
            settings = settings.model_copy(update={"simulator_url": url})
        server = await _spawn("server", python, "-m", "server.cli", "serve", env=env)
        children.append(server)
        stopped = asyncio.ensure_future(stop.wait())
        ready = asyncio.ensure_future(wait_for_server(settings))
        died = asyncio.ensure_future(server.process.wait())
        await asyncio.wait({stopped, ready, died}, return_when=asyncio.FIRST_COMPLETED)
        for task in (ready, died):
            task.cancel()
        if stop.is_set() or server.process.returncode is not None:
            return 1 if server.process.returncode else 0
        envoy = await _spawn("envoy", *envoy_command(settings, write_config(settings)))
        children.append(envoy)
        webui = await _spawn("webui", python, "-m", "server.cli", "webui")
        children.append(webui)
        await wait_for_http(f"http://127.0.0.1:{settings.envoy_admin_port}/ready", envoy)
        scheme = "https" if settings.tls else "http"
        await wait_for_http(f"{scheme}://127.0.0.1:{settings.webui_port}/healthz", webui)
        print(_banner(settings), flush=True)

        waits = {asyncio.ensure_future(c.process.wait()): c for c in children}
        done, _ = await asyncio.wait({stopped, *waits}, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        for task in done:
            if task in waits:
                child = waits[task]
                print(
                    f"cts up: {child.name} exited with {child.process.returncode}; stopping",
                    file=sys.stderr,
                )
                return child.process.returncode or 1
        return 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            await _stop(children, settings)


def run_stack(settings: Settings) -> int:
    return asyncio.run(_run(settings))
