"""An engine on every exchange and API type the simulator speaks, in CTS's real server: through
its loading stages (markets, history, the open-order and position sync) to running cycles on
the shared feed, then opening pseudo positions.

BTC trades the most (its 24 h volume scaled up): each engine chooses it first, whatever the way
its exchange reports volume. Prices: every simulated asset is held at 100 before the engine loads
(flat history), then moved to 102 once it runs: with the default preset the trend entry fires on
every symbol (see tests/engine/test_trading.py), so trend/trailing opens a long at
102 * (1 + slippage) on each.
"""

from __future__ import annotations

from typing import Any

import pytest
from cts.engine.v1 import engine_pb2 as pb

from server.simulator.instruments import ASSETS
from tests.conftest import auth
from tests.connections.conftest import Desk
from tests.engine.test_coordinator import ENGINE_SETTINGS, Engines, Feed
from tests.engine.test_positions_api import opened_positions
from tests.support.venues import SIMULATED_AS
from tests.support.venues import VENUES as ALL_VENUES

# Venues whose engine does not run yet, each with what was seen (none today).
ENGINE_NOT_YET: dict[tuple[str, str], str] = {}
VENUES = [
    (v.exchange, v.api_type) for v in ALL_VENUES if (v.exchange, v.api_type) not in ENGINE_NOT_YET
]
ENTRY = "102.051"  # 102 * (1 + the default slippage 0.0005)


@pytest.fixture(autouse=True)
def engines_on(server_settings: dict[str, Any]) -> None:
    server_settings.update(
        ENGINE_SETTINGS,
        engine_symbols=2,
        engine_timeframe="1h",  # the whole test stays inside one bar of flat history
        engine_history_bars=40,
        engine_sets="trend/trailing",
    )


def hold_prices(desk: Desk, price: str) -> None:
    def hold() -> None:
        for asset in ASSETS:
            desk.simulator.prices.set_price(asset.code, price)

    desk.sim.call(hold)


@pytest.mark.parametrize(("exchange", "api_type"), VENUES, ids=lambda v: str(v))
async def test_an_engine_runs_cycles_and_opens_pseudo_positions(
    desk: Desk, exchange: str, api_type: str
) -> None:
    hold_prices(desk, "100")
    desk.sim.call(lambda: desk.simulator.prices.scale_volume("BTC", 1000))  # the most traded
    account = desk.account(SIMULATED_AS.get((exchange, api_type), exchange))
    connection = await desk.connect(
        exchange, account, api_type=api_type, is_enabled=True, is_active=True
    )
    engines = Engines(desk)
    feed = Feed(engines, connection.id)
    positions = engines.stub.WatchPositions(
        pb.WatchPositionsRequest(connection_id=connection.id), metadata=auth()
    )
    try:
        running = await feed.until(lambda s: s.state in ("running", "failed"), timeout=30)
        assert running.state == "running", running
        synced = next(s for s in running.stages if s.stage == "syncing")
        assert synced.state == "done", synced
        cycling = await feed.until(lambda s: s.metrics.cycles >= 2, timeout=30)
        symbols = list(running.symbols)
        assert symbols[0].startswith("BTC/"), symbols  # the markets with the most 24 h volume
        assert cycling.metrics.symbols == len(symbols) > 0
        assert cycling.trading.open_pseudo_positions == 0  # flat: no entry fires

        hold_prices(desk, "102")
        opened = await opened_positions(positions, len(symbols))
        counted = await feed.until(lambda s: s.trading.open_pseudo_positions == len(symbols))
    finally:
        feed.stream.cancel()
        positions.cancel()

    assert counted.state == "running" and counted.trading.trades == len(symbols)
    assert sorted(p.symbol for p in opened) == sorted(symbols)
    assert all(
        (p.mode, p.set_id, p.side, p.entry_price) == ("pseudo", "trend/trailing", "long", ENTRY)
        for p in opened
    ), opened
