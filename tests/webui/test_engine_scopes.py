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
