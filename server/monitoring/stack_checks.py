"""Start-up checks of the stack's other parts: Envoy and the exchange simulator.

Neither fails the checks: CTS runs without Envoy under `cts serve` (gRPC clients still reach
it), and the simulator only serves simulated connections (the demo), never a real account.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from server.monitoring.check import Finding
from server.settings import Settings

#: How long Envoy or the simulator may take to answer.
ANSWER_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: str
    simulator: bool  # it says it is the exchange simulator


async def _get(url: str) -> _Answer | None:
    """GET ``url``; None when nothing answers within the timeout."""
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            body = (await response.text(errors="replace")).strip()
            return _Answer(response.status, body[:100], "X-Simulator" in response.headers)
    except (aiohttp.ClientError, TimeoutError, OSError):
        return None


async def envoy(settings: Settings) -> Finding:
    """Envoy's admin readiness (`/ready`, on 127.0.0.1 as `cts up` configures it)."""
    admin = f"127.0.0.1:{settings.envoy_admin_port}"
    rest = f"{settings.host}:{settings.http_port}"
    answer = await _get(f"http://{admin}/ready")
    if answer is None:
        return Finding.warned(
            f"Envoy is not running (its admin at {admin} does not answer): REST clients cannot "
            f"reach CTS at {rest}; `cts up` runs Envoy, `cts serve` does not"
        )
    if answer.status != 200:
        return Finding.warned(
            f"Envoy answers at {admin} but is not ready (HTTP {answer.status} "
            f"{answer.body!r}): REST clients cannot reach CTS yet"
        )
    return Finding.passed(f"Envoy is ready (admin {admin}); REST and gRPC at {rest}")


async def simulator(url: str) -> Finding:
    """The simulator's control API answers its health request."""
    base = url.rstrip("/")
    answer = await _get(f"{base}/__simulator/health")
    if answer is None:
        return Finding.warned(
            f"the exchange simulator at {base} does not answer: simulated connections (the "
            "demo) cannot work"
        )
    if answer.status != 200 or not answer.simulator:
        return Finding.warned(
            f"{base} answers (HTTP {answer.status}) but not as the exchange simulator: check "
            "CTS_SIMULATOR_URL"
        )
    return Finding.passed(f"the exchange simulator answers at {base}")
