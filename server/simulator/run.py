"""``cts simulator``: the exchange simulator as its own process, with the demo accounts."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from pathlib import Path

from server.settings import Settings
from server.simulator.demo import open_demo_accounts
from server.simulator.server import Simulator
from server.vault.master_key import write_private_file

log = logging.getLogger("cts.simulator")


CONTROL_TOKEN_FILE = "simulator.token"


def control_token(data_dir: Path) -> str:
    """The simulator's control token: ``$CTS_DATA_DIR/simulator.token`` (mode 0600), created
    on first use. `cts` and the tests read it from there."""
    path = data_dir / CONTROL_TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    write_private_file(path, token + "\n")
    return token


async def serve_simulator(settings: Settings) -> None:
    token = control_token(settings.resolved_data_dir)
    simulator = Simulator(seed=settings.simulator_seed, control_token=token)
    if settings.demo:
        open_demo_accounts(simulator)
    url = await simulator.start(settings.host, settings.simulator_port)
    print(f"CTS exchange simulator (Binance, Bybit, OKX dialects) on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await simulator.stop()
