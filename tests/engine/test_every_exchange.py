"""An engine on every exchange and API type the simulator speaks: through its loading stages
(markets, history, the open-order and position sync) to running cycles on the shared feed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.connections.conftest import Desk
from tests.engine.test_coordinator import ENGINE_SETTINGS, Engines, Feed
from tests.support.venues import SIMULATED_AS
from tests.support.venues import VENUES as ALL_VENUES

# Venues whose engine does not run yet, each with what was seen (none today).
ENGINE_NOT_YET: dict[tuple[str, str], str] = {}
VENUES = [
    (v.exchange, v.api_type) for v in ALL_VENUES if (v.exchange, v.api_type) not in ENGINE_NOT_YET
]


@pytest.fixture(autouse=True)
def engines_on(server_settings: dict[str, Any]) -> None:
    server_settings.update(ENGINE_SETTINGS)


@pytest.mark.parametrize(("exchange", "api_type"), VENUES, ids=lambda v: str(v))
async def test_an_engine_reaches_running_cycles(desk: Desk, exchange: str, api_type: str) -> None:
    account = desk.account(SIMULATED_AS.get((exchange, api_type), exchange))
    connection = await desk.connect(
        exchange, account, api_type=api_type, is_enabled=True, is_active=True
    )
    feed = Feed(Engines(desk), connection.id)
    try:
        running = await feed.until(lambda s: s.state in ("running", "failed"), timeout=30)
        assert running.state == "running", running
        synced = next(s for s in running.stages if s.stage == "syncing")
        assert synced.state == "done", synced
        cycling = await feed.until(lambda s: s.metrics.cycles >= 2, timeout=30)
        assert cycling.metrics.symbols == len(running.symbols) > 0
    finally:
        feed.stream.cancel()
