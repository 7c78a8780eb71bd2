"""The Live trading page with NiceGUI's simulated user, against a real server running engines on
connections to a real exchange simulator.

Every simulated asset is held flat at 100 before an engine loads (flat history: no signal fires,
no position opens by chance). A test that wants a position moves one asset to 102: with the
default preset and flat history, the trend entry then fires long on that symbol (Direction
``0.15 * 2 / 102`` = 0.29 % > 0.2 %, Active), and the only set, trend/trailing, opens one pseudo
position at ``102 * 1.0005 = 102.051`` that neither its stop-loss nor its take-profit closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as epb
from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement
from nicegui.testing.user import User

from server.simulator.instruments import ASSETS
from tests.conftest import auth
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, simulated
from tests.webui.test_dashboard import sign_in
from webui.components.status import money

# `should_see` tries every 0.1 s; an engine walks its stages against the simulator first.
WAIT = 200


# Engines on the simulator, quick: the server settings of the dashboard's engine tests.
ENGINE_SETTINGS: dict[str, Any] = {
    "demo": False,
    "engines": True,
    "engine_symbols": 3,
    "engine_history_bars": 60,
    "engine_cycle_seconds": 0.2,
    "engine_retry_seconds": 0.5,
    "engine_sets": "trend/trailing",
    "engine_mark_seconds": 0.5,
}


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, **ENGINE_SETTINGS}


def hold_prices(sim: SimulatorThread, price: str, bases: list[str] | None = None) -> None:
    """Hold the simulator's assets (all, or ``bases``) at ``price`` from now on."""

    def hold() -> None:
        for base in bases or [asset.code for asset in ASSETS]:
            sim.simulator.prices.set_price(base, price)

    sim.call(hold)


@pytest.fixture(autouse=True)
def flat_market(sim: SimulatorThread) -> None:
    hold_prices(sim, "100")


async def open_page(user: User) -> None:
    await sign_in(user)
    await user.open("/live-trading")
    await user.should_see(marker="engine-overview", retries=50)


async def pick(user: User, name: str) -> None:
    await user.should_see(marker="overview-name", content=name, retries=WAIT)  # streamed in
    # Choose the option as NiceGUI's user does when an option is clicked (an alert in the
    # header's bell may show the name too, so the name alone does not find the select).
    (select,) = user.find(marker="engine-connection").elements
    assert isinstance(select, ui.select) and isinstance(select.options, dict)
    select.value = next(key for key, label in select.options.items() if label == name)
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-name", content=name)


def cycles(user: User) -> int:
    label = user.find(marker="metric-cycles").elements.pop()
    assert isinstance(label, ui.label)
    return int(label.text)


async def cycles_pass(user: User, beyond: int, retries: int = WAIT) -> None:
    """Wait until the cycle count on screen (kept live by the stream) is past ``beyond``."""
    for _ in range(retries):
        if cycles(user) > beyond:
            return
        await asyncio.sleep(0.1)  # as `should_see` retries
    raise AssertionError(f"cycles stayed at {cycles(user)}, expected more than {beyond}")


async def state_is(user: User, state: str, retries: int = WAIT) -> None:
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-state", content=state, retries=retries)


def enabled(user: User, command: str) -> bool:
    button = user.find(marker=f"engine-{command}").elements.pop()
    assert isinstance(button, DisableableElement)
    return button.enabled


async def until(check: Callable[[], bool], what: str, retries: int = WAIT) -> None:
    """Wait until ``check()`` holds for what the page shows (kept live by the streams)."""
    for _ in range(retries):
        if check():
            return
        await asyncio.sleep(0.1)  # as `should_see` retries
    raise AssertionError(f"never saw {what}")


def chart_series(user: User) -> list[list[list[Any]]]:
    chart = user.find(marker="pnl-chart").elements.pop()
    assert isinstance(chart, ui.echart)
    return [list(series["data"]) for series in chart.options["series"]]


async def positions_of(engines: EngineStub, connection_id: str) -> list[epb.Position]:
    listed = await engines.ListPositions(
        epb.ListPositionsRequest(connection_id=connection_id), metadata=auth()
    )
    return list(listed.positions)


async def running_with_signals(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub, name: str
) -> tuple[pb.Connection, list[str]]:
    """A simulated connection whose engine runs, picked on the page once its signals show;
    the connection and the engine's symbols."""
    made = await simulated(stub, sim, name, is_enabled=True, is_active=True)
    await open_page(user)
    await pick(user, name)
    await state_is(user, "running")
    status = await engines.GetEngineStatus(
        epb.GetEngineStatusRequest(connection_id=made.id), metadata=auth()
    )
    assert len(status.symbols) == 3
    for symbol in status.symbols:  # one row per symbol, from the engine stream
        await user.should_see(marker="signals-table", content=symbol, retries=WAIT)
    return made, list(status.symbols)


async def position_opens(user: User, sim: SimulatorThread, symbol: str) -> None:
    """Move ``symbol`` to 102 and wait for its pseudo position on the page."""
    hold_prices(sim, "102", [symbol.split("/")[0]])
    await user.should_see(
        marker="positions-pseudo-open",
        content=[symbol, "trend/trailing", "long", "102.051"],
        retries=WAIT,
    )


async def test_an_engine_runs_live_and_obeys_its_buttons(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    await open_page(user)
    await user.should_see("Pick a connection")
    # Made after the page opened: the overview and the select learn of it from the streams.
    made = await simulated(stub, sim, "Sim engine", is_enabled=True, is_active=True)
    await user.should_see(marker=f"engine-row-{made.id}", retries=WAIT)
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_see("Sim engine")
    await pick(user, "Sim engine")
    await state_is(user, "running")  # the coordinator started it on its own
    with user.scope(marker="engine-panel"):
        await user.should_see("wanted: running")
        await user.should_not_see(marker="engine-hint")
        await user.should_not_see(marker="engine-error")
        for stage in ("initializing", "loading_symbols", "loading_history", "syncing", "ready"):
            with user.scope(marker=f"stage-{stage}"):
                await user.should_see(marker="stage-state", content="done")
        with user.scope(marker="stage-loading_history"):
            await user.should_see("3/3")
        await user.should_see(marker="engine-symbols", content="USDT")
    assert (enabled(user, "start"), enabled(user, "pause"), enabled(user, "resume")) == (
        False,
        True,
        False,
    )
    seen = cycles(user)
    await cycles_pass(user, seen + 2)
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_see(marker="overview-state", content="running")
        await user.should_see("Ready")

    user.find(marker="engine-pause").click()
    await user.should_see("Sim engine: engine paused", retries=WAIT)
    await state_is(user, "paused")
    await cycles_pass(user, cycles(user) + 1)  # a paused engine keeps cycling
    assert (enabled(user, "pause"), enabled(user, "resume")) == (False, True)

    user.find(marker="engine-resume").click()
    await user.should_see("Sim engine: engine resumed", retries=WAIT)
    await state_is(user, "running")

    user.find(marker="engine-stop").click()
    await user.should_see("Sim engine: engine stopped", retries=WAIT)
    await state_is(user, "stopped")
    with user.scope(marker="engine-panel"):
        await user.should_see("wanted: stopped")
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_see(marker="overview-state", content="stopped")
    assert (enabled(user, "start"), enabled(user, "stop")) == (True, False)

    user.find(marker="engine-start").click()
    await user.should_see("Sim engine: engine started", retries=WAIT)
    await state_is(user, "running")


async def test_start_on_a_disabled_connection_shows_the_refusal(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    made = await simulated(stub, sim, "Sim idle", is_active=True)
    await open_page(user)
    await user.should_see(marker=f"engine-row-{made.id}", retries=WAIT)
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_see(marker="overview-state", content="stopped")
    for name in ("Bybit", "BingX", "OrangeX", "Pionex"):  # the predefined ones, all stopped
        await user.should_see(marker="overview-name", content=name)
    await pick(user, "Sim idle")
    await state_is(user, "stopped")
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-hint", content="not enabled")
    assert (enabled(user, "start"), enabled(user, "pause"), enabled(user, "resume")) == (
        True,
        False,
        False,
    )
    user.find(marker="engine-start").click()
    await user.should_see(
        "connection 'Sim idle' must be enabled and active to run an engine", retries=WAIT
    )
    await state_is(user, "stopped")

    # Enabled elsewhere: the hint goes and the engine starts, both without a reload.
    await stub.ToggleConnection(
        pb.ToggleConnectionRequest(id=made.id, is_enabled=True), metadata=auth()
    )
    with user.scope(marker="engine-panel"):
        await user.should_not_see(marker="engine-hint", retries=WAIT)
    await state_is(user, "running")


async def test_a_failing_engine_shows_its_error_and_next_retry(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    await simulated(
        stub, sim, "Sim broken", secret="not-the-secret", is_enabled=True, is_active=True
    )
    await open_page(user)
    await pick(user, "Sim broken")
    await state_is(user, "error")
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-error", content="next retry", retries=WAIT)
        await user.should_see(marker="engine-error", content="failed start", retries=WAIT)
        # Each retry walks the stages again (its rows are rebuilt), so no scope on one row.
        await user.should_see(marker="stage-state", content="failed", retries=WAIT)
        await user.should_see(
            marker="stage-detail", content="rejected the API credentials", retries=WAIT
        )
        await user.should_not_see("not-the-secret")
    assert (enabled(user, "pause"), enabled(user, "stop")) == (True, True)
    user.find(marker="engine-stop").click()
    await user.should_see("Sim broken: engine stopped", retries=WAIT)
    await state_is(user, "stopped")
    with user.scope(marker="engine-panel"):
        await user.should_not_see(marker="engine-error", retries=WAIT)


async def test_signals_a_pseudo_position_and_stop_and_close(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made, symbols = await running_with_signals(user, stub, sim, engines, "Sim trader")
    # Flat market: no side anywhere, nothing active, nothing open.
    await user.should_see(marker="signals-table", content="none · 0.00 %")
    await user.should_not_see(marker="signals-table", content="long")
    await user.should_see(marker="summary-open-pseudo", content="0")
    await user.should_see(marker="summary-live-trading", content="live trading off")
    symbol = symbols[0]

    await position_opens(user, sim, symbol)
    # Long, and Active (0.29 % strength until the next 1m bar starts: not asserted here).
    await user.should_see(marker="signals-table", content=["long · ", "yes"], retries=WAIT)
    await user.should_not_see(marker="positions-live-open", content=symbol)
    await user.should_not_see(marker="positions-live-closed", content=symbol)
    await user.should_see(marker="positions-tab-pseudo", content="1 open · 0 closed")
    await user.should_see(marker="positions-tab-live", content="0 open · 0 closed")
    await user.should_see(marker="summary-open-pseudo", content="1", retries=WAIT)
    await user.should_see(marker="summary-trades", content="1", retries=WAIT)
    assert chart_series(user) == [[], []]
    (chart,) = user.find(marker="pnl-chart").elements
    # In UTC, as the tables say, not the browser's zone.
    assert chart.options["useUTC"] is True and chart.options["xAxis"]["name"] == "UTC"
    (opened,) = await positions_of(engines, made.id)
    assert (opened.mode, opened.status, opened.symbol) == ("pseudo", "open", symbol)

    # Stop and close: asked first; cancelled, nothing happens.
    user.find(marker="engine-stop-close").click()
    await user.should_see("Stop Sim trader and close its positions?")
    await user.should_see("Open now: 1 pseudo and 0 live.")
    user.find(marker="confirm-cancel").click()
    await user.should_not_see(marker="confirm-dialog")
    await state_is(user, "running")

    user.find(marker="engine-stop-close").click()
    await user.should_see(marker="confirm-dialog")
    user.find(marker="confirm-ok").click()
    await user.should_see("Sim trader: engine stopped, its positions closed", retries=WAIT)
    await state_is(user, "stopped")
    (closed,) = await positions_of(engines, made.id)
    assert (closed.id, closed.status, closed.close_reason) == (opened.id, "closed", "engine_stop")
    # Closed at the last price moved against the sell by the slippage: 102 * 0.9995.
    assert closed.exit_price == "101.949"
    await user.should_see(
        marker="positions-pseudo-closed",
        content=[symbol, "Engine stop", "101.949", money(closed.realized_pnl)],
        retries=WAIT,
    )
    await user.should_not_see(marker="positions-pseudo-open", content=symbol)
    await user.should_not_see(marker="positions-live-closed", content=symbol)
    await user.should_see(marker="positions-tab-pseudo", content="0 open · 1 closed")
    # The chart: one pseudo point at the closing time, the running total of realised PnL.
    point = [closed.closed_at.ToMilliseconds(), float(closed.realized_pnl)]
    await until(lambda: chart_series(user) == [[point], []], f"the chart at {point}")


async def test_stop_keeps_positions_open_and_a_stopped_engine_can_still_close_them(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made, symbols = await running_with_signals(user, stub, sim, engines, "Sim keeper")
    await position_opens(user, sim, symbols[1])

    user.find(marker="engine-stop").click()  # the face of the button: plain stop
    await user.should_see("Sim keeper: engine stopped", retries=WAIT)
    await state_is(user, "stopped")
    assert [p.status for p in await positions_of(engines, made.id)] == ["open"]
    await user.should_see(marker="positions-pseudo-open", content=symbols[1])
    # Stopped with an open position: only "Stop and close" is left to do.
    assert (enabled(user, "stop"), enabled(user, "stop-keep"), enabled(user, "stop-close")) == (
        True,
        False,
        True,
    )

    user.find(marker="engine-stop-close").click()
    await user.should_see("Open now: 1 pseudo and 0 live.")
    user.find(marker="confirm-ok").click()
    await user.should_see("Sim keeper: engine stopped, its positions closed", retries=WAIT)
    await user.should_see(
        marker="positions-pseudo-closed", content=[symbols[1], "Engine stop"], retries=WAIT
    )
    await user.should_not_see(marker="positions-pseudo-open", content=symbols[1])
    assert [(p.status, p.close_reason) for p in await positions_of(engines, made.id)] == [
        ("closed", "engine_stop")
    ]
    await until(lambda: not enabled(user, "stop"), "Stop disabled with nothing left to close")
