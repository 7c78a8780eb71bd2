"""The Live trading page with NiceGUI's simulated user, against a real server running engines on
connections to a real exchange simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui
from nicegui.testing.user import User

from tests.conftest import auth
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import Stub, simulated
from tests.webui.test_dashboard import sign_in

# `should_see` tries every 0.1 s; an engine walks its stages against the simulator first.
WAIT = 200


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {
        "simulator_url": sim.base_url,
        "demo": False,
        "engines": True,
        "engine_symbols": 3,
        "engine_history_bars": 60,
        "engine_cycle_seconds": 0.2,
        "engine_retry_seconds": 0.5,
    }


async def open_page(user: User) -> None:
    await sign_in(user)
    await user.open("/live-trading")
    await user.should_see(marker="engine-overview", retries=50)


async def pick(user: User, name: str) -> None:
    await user.should_see(marker="overview-name", content=name, retries=WAIT)  # streamed in
    user.find(marker="engine-connection").click()  # opens the options
    user.find(name).click()  # the select is the first element showing the name
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
    assert isinstance(button, ui.button)
    return button.enabled


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
