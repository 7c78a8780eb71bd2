"""Stale prices and an exchange outage on the dashboard, with NiceGUI's simulated user, against a
real server running an engine on a connection to a real exchange simulator.

The simulator's Bybit goes down (every request answered 5xx): the engine's market feed fails,
the engine turns stale after ``engine_stale_cycles`` cycles (its state stays running), and the
circuit of Bybit's public account opens, so every Bybit connection's health goes down. When the
simulator answers again, the feed's probe (after the short cool-down set here) closes the
circuit, the first fresh round makes the engine fresh, and the health is recomputed. Both pages
follow all of it from their streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from nicegui.testing.user import User

from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, engine_status, simulated
from tests.webui.test_dashboard import sign_in
from tests.webui.test_live_trading import WAIT, open_page, pick, state_is
from webui.components.status import moment


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
        "engine_sets": "trend/trailing",
        "engine_stale_cycles": 3,  # stale after 0.6 s without fresh prices
        "circuit_cooldown_seconds": 2.0,  # the exchange's circuit is probed again soon
    }


@pytest.fixture
def outage(sim: SimulatorThread) -> Iterator[None]:
    """Lets a test take Bybit down; the faults go with the test."""
    yield
    sim.call(sim.simulator.faults.clear)


def bybit_down(sim: SimulatorThread, down: bool = True) -> None:
    """Every Bybit request of the simulator answered 5xx from now on (or no longer)."""
    if down:
        sim.call(lambda: sim.simulator.faults.set({"down": True}, exchange="bybit"))
    else:
        sim.call(sim.simulator.faults.clear)


@pytest.mark.usefixtures("outage")
async def test_a_stale_engine_shows_the_warning_until_its_prices_are_fresh_again(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made = await simulated(stub, sim, "Sim stale", is_enabled=True, is_active=True)
    await open_page(user)
    await pick(user, "Sim stale")
    await state_is(user, "running")
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="metric-prices-at", content="UTC", retries=WAIT)
        await user.should_not_see(marker="engine-stale")
        await user.should_not_see(marker="engine-stale-text")
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_not_see(marker="overview-stale")

    bybit_down(sim)
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-stale", content="Stale prices", retries=WAIT)
    # The server's stale status, as the page words it: its times do not move while stale.
    stale = await engine_status(engines, made.id)
    assert stale.stale and stale.state == "running"
    assert stale.HasField("prices_at") and stale.HasField("stale_since")
    with user.scope(marker="engine-panel"):
        await user.should_see(
            marker="engine-stale-text",
            content=(
                f"No fresh prices since {moment(stale.prices_at)} "
                f"(stale since {moment(stale.stale_since)}): "
                "nothing opens, and exits wait for fresh prices."
            ),
        )
        await user.should_see(marker="metric-prices-at", content=moment(stale.prices_at))
        await user.should_see(marker="engine-state", content="running")  # a condition, no state
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_see(marker="overview-stale", content="stale")
        await user.should_see(marker="overview-state", content="running")

    bybit_down(sim, False)
    with user.scope(marker="engine-panel"):
        await user.should_not_see(marker="engine-stale", retries=WAIT)
        await user.should_not_see(marker="engine-stale-text")
        await user.should_see(marker="engine-state", content="running")
        # Fresh prices again: their time moved on past the stale one (the page shows whole
        # seconds, and the first fresh round may fall in the same second: wait for the next).
        await user.should_not_see(
            marker="metric-prices-at", content=moment(stale.prices_at), retries=WAIT
        )
    with user.scope(marker=f"engine-row-{made.id}"):
        await user.should_not_see(marker="overview-stale")
    fresh = await engine_status(engines, made.id)
    assert not fresh.stale and not fresh.HasField("stale_since")
    assert fresh.prices_at.ToDatetime() > stale.prices_at.ToDatetime()


@pytest.mark.usefixtures("outage")
async def test_a_card_shows_why_its_connection_is_not_healthy_and_the_exchange_circuit(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made = await simulated(stub, sim, "Sim outage", is_enabled=True, is_active=True)
    await sign_in(user)
    await user.should_see(marker=f"connection-{made.id}")
    for _ in range(WAIT):  # the engine runs and has had fresh prices
        status = await engine_status(engines, made.id)
        if status.state == "running" and status.HasField("prices_at"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the engine never ran with prices: {status}")
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_not_see(marker="health-reasons")
        await user.should_not_see(marker="health-exchange-circuit")

    bybit_down(sim)
    with user.scope(marker=f"connection-{made.id}"):  # arrived on the stream, no reload
        await user.should_see(marker="health-badge", content="down", retries=WAIT)
        await user.should_see(
            marker="health-exchange-circuit", content="exchange circuit open", retries=WAIT
        )
        await user.should_see(
            marker="health-reasons",
            content="bybit is unreachable: its market data fails (circuit open)",
        )
        # The engine's prices turn stale too: its reason joins the others.
        await user.should_see(
            marker="health-reasons", content="engine prices stale since", retries=WAIT
        )

    bybit_down(sim, False)
    with user.scope(marker=f"connection-{made.id}"):
        await user.should_not_see(marker="health-exchange-circuit", retries=WAIT)
        await user.should_not_see(marker="health-reasons", retries=WAIT)
        await user.should_not_see(marker="health-badge", content="down")
