"""What the Live trading page says of a stopped engine, and the scope of each trading figure, with
NiceGUI's simulated user against a real server running engines on connections to a real
exchange simulator (the market held flat, as in test_live_trading)."""

from __future__ import annotations

from nicegui.testing.user import User

from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, engine_status
from tests.webui.test_live_trading import (  # noqa: F401  (fixtures of these tests)
    WAIT,
    dashboard_settings,
    flat_market,
    position_opens,
    running_with_signals,
    state_is,
)
from webui.components.status import moment


async def stop(user: User, name: str) -> None:
    user.find(marker="engine-stop").click()  # plain stop: positions stay open
    await user.should_see(f"{name}: engine stopped", retries=WAIT)
    await state_is(user, "stopped")


async def test_a_stopped_engine_says_since_when_and_its_signals_are_the_values_at_the_stop(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made, symbols = await running_with_signals(user, stub, sim, engines, "Sim stopper")
    row = f"engine-row-{made.id}"
    with user.scope(marker=row):
        await user.should_see(marker="overview-stage", content="Ready")
    await user.should_see(marker="signals-as-of", content="as of the cycle at")
    await user.should_not_see(marker="signals-stopped")

    await stop(user, "Sim stopper")
    stopped = await engine_status(engines, made.id)
    since = f"since {moment(stopped.updated_at)}"
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-since", content=since, retries=WAIT)
        await user.should_see(marker="engine-stages-heading", content="of the last run")
    with user.scope(marker=row):
        await user.should_see(marker="overview-stage", content=f"stopped {since}", retries=WAIT)
        await user.should_not_see("Ready")
    # The last cycle's signals stay, marked as the values at the stop.
    await user.should_see(marker="signals-stopped", content="values at the stop, not live")
    await user.should_see(marker="signals-as-of", content="last cycle before the stop")
    for symbol in symbols:
        await user.should_see(marker="signals-table", content=symbol)

    # Started again: live signals, unmarked, and the row shows the stage again.
    user.find(marker="engine-start").click()
    await state_is(user, "running")
    await user.should_not_see(marker="signals-stopped", retries=WAIT)
    await user.should_see(marker="signals-as-of", content="as of the cycle at", retries=WAIT)
    with user.scope(marker=row):
        await user.should_see(marker="overview-stage", content="Ready", retries=WAIT)
    with user.scope(marker="engine-panel"):
        await user.should_see(marker="engine-stages-heading", content="Loading stages")
        await user.should_not_see(marker="engine-stages-heading", content="last run")


async def test_every_trading_figure_names_its_scope(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    made, symbols = await running_with_signals(user, stub, sim, engines, "Sim scopes")
    await position_opens(user, sim, symbols[0])
    started = moment((await engine_status(engines, made.id)).started_at)
    run = ("Pseudo trades", "Realized pseudo", "Live orders", "Failed live orders")
    now = ("Open pseudo", "Unrealized pseudo", "Open live", "Unrealized live")
    await user.should_see(marker="summary-run", content=f"this run: since {started}")
    with user.scope(marker="summary-run-figures"):
        for caption in (*run, "Live opens skipped by limits"):
            await user.should_see(f"{caption} · this run")
        await user.should_see(marker="summary-trades", content="1", retries=WAIT)
    with user.scope(marker="summary-now-figures"):
        for caption in now:
            await user.should_see(f"{caption} · now")
        await user.should_see(marker="summary-open-pseudo", content="1")
    with user.scope(marker="summary-all-time-figures"):
        for caption in ("Closed pseudo · all time", "Closed live · all time"):
            await user.should_see(caption)
        await user.should_see("Realized live · closed ones listed below")

    # Stopped: the run is over, and the open figures are those at the stop.
    await stop(user, "Sim scopes")
    stopped = await engine_status(engines, made.id)
    await user.should_see(
        marker="summary-run",
        content=f"last run: {started} to {moment(stopped.updated_at)}",
        retries=WAIT,
    )
    with user.scope(marker="summary-run-figures"):
        for caption in run:
            await user.should_see(f"{caption} · last run")
        await user.should_not_see("this run")
    with user.scope(marker="summary-now-figures"):
        for caption in now:
            await user.should_see(f"{caption} · at the stop")
        await user.should_see(marker="summary-open-pseudo", content="1")
