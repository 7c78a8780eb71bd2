"""``cts simulator``: the exchange simulator as its own process, with the demo accounts."""

from __future__ import annotations

import asyncio
import logging
import signal

from server.settings import Settings
from server.simulator.demo import open_demo_accounts
from server.simulator.server import Simulator

log = logging.getLogger("cts.simulator")


async def serve_simulator(settings: Settings) -> None:
    simulator = Simulator(seed=settings.simulator_seed)
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
