"""The price ticker of the page frame, with NiceGUI's simulated user, against a real server whose
engine follows a market of the real exchange simulator: the ticker shows that market's prices,
from WatchPrices."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from cts.monitoring.v1 import market_pb2 as mpb
from nicegui.testing.user import User

from tests.support.rpc import engine_until
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, simulated
from tests.webui.test_dashboard import sign_in
from tests.webui.test_live_trading import WAIT
from webui.components.price_ticker import ticker_text


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {
        "simulator_url": sim.base_url,
        "demo": False,
        "engines": True,
        "engine_symbols": 3,
        "engine_history_bars": 60,
        "engine_cycle_seconds": 0.2,
        "engine_sets": "trend/trailing",
    }


async def test_the_ticker_shows_the_prices_of_the_market_the_engines_follow(
    user: User, stub: Stub, sim: SimulatorThread, dashboard_server: ServerThread
) -> None:
    made = await simulated(stub, sim, "Sim ticker", is_enabled=True, is_active=True)
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        running = await engine_until(
            EngineStub(channel), made.id, lambda s: s.state == "running" and s.metrics.cycles > 0
        )
    await sign_in(user)
    with user.scope(marker="price-ticker"):
        await user.should_see("bybit (simulator)", retries=WAIT)
        for symbol in running.symbols:
            await user.should_see(marker="ticker-price", content=symbol, retries=WAIT)


def test_a_ticker_line_shows_the_symbol_last_price_and_signed_change() -> None:
    up = mpb.Price(symbol="BTC/USDT", last="43210.5", change_percent="1.25")
    down = mpb.Price(symbol="ETH/USDT", last="2200", change_percent="-0.5")
    unknown = mpb.Price(symbol="SOL/USDT", last="101.1")
    assert ticker_text(up) == "BTC/USDT 43210.5 +1.25 %"
    assert ticker_text(down) == "ETH/USDT 2200 -0.5 %"
    assert ticker_text(unknown) == "SOL/USDT 101.1"
