"""The chaos suite's world: a real CTS server (in this process, its own thread) with engines and
live trading on, in front of the exchange simulator (its own thread), for each exchange dialect.

Each dialect gets one simulator, one server and one connection (Binance spot, Bybit and OKX
perpetual futures) trading live on one simulated account with its keys. Its scenarios run one
after the other on that world, each starting where the previous one left it (back to normal,
invariants held); a scenario that fails hands the next one a fresh world, so one defect fails
one scenario. Timings are short, set through the settings: a 0.2 s cycle, stale after 3 cycles
(0.6 s), a circuit that opens after 3 failures and lets a probe through after 1 s, a 1 s
timeout, and per-minute limits raised in proportion to the fast cycle.

Prices: every simulated asset is held at 100 before the engine loads (flat history), so that
with trend/trailing and the default preset the entry fires on any price above 101.35. The suite
moves every asset together: to 102 first (the engine opens a long on each of its two symbols,
and a live position follows each), then up 3.2 % at a time with the engine paused (each
position takes its +3 % profit, nothing opens), and the engine resumed (both open again at the
new price). Closing and opening happen in separate cycles because the live desk, by its
one-position-per-symbol rule, does not follow a pseudo position opened in the very cycle its
predecessor on the symbol closed. The set is optimal from the start (five winning closed pseudo
positions stored before the engine starts) and stays so (every exit is a win).

Everything a scenario waits for comes from the server's streams (WatchEngines,
WatchConnections, WatchPositions), followed in the background by :class:`Follow`; the only
sleeps are the faults' own durations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from tests.chaos.scenario import Chaos
from tests.chaos.world import EXCHANGES, World, Worlds
from tests.support.invariants import ErrorLog, capture_errors

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and report.when in ("setup", "call"):
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="module", params=EXCHANGES)
def worlds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worlds]:
    """One dialect's worlds (the scenarios of a module run dialect by dialect)."""
    held = Worlds(request.param, tmp_path_factory)
    yield held
    held.discard()


@pytest.fixture
def world(worlds: Worlds, request: pytest.FixtureRequest) -> Iterator[World]:
    yield worlds.get()
    if request.node.stash.get(FAILED, False):
        worlds.discard()


@pytest.fixture
async def chaos(world: World) -> AsyncIterator[Chaos]:
    """The scenario's streams, and the world holding its live positions (on a fresh world,
    the prices move from 100 to 102 first); afterwards the faults are lifted whatever
    happened."""
    async with grpc.aio.insecure_channel(world.server.target) as channel:
        scenario = Chaos(world, channel)
        await scenario.engine.first(lambda _: True, since=0, what="the engine stream")
        await scenario.health.first(lambda _: True, since=0, what="the connection stream")
        await scenario.position_events.first(lambda _: True, since=0, what="the position stream")
        if world.moves == 0:
            scenario.move()
            await scenario.holding("the first live positions")
        try:
            yield scenario
        finally:
            scenario.lift()
            await scenario.close()


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    """Log records at ERROR or above while the scenario runs (the server is in this process)."""
    with capture_errors() as handler:
        yield handler
