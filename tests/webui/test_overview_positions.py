"""The Overview's open positions of every account, with NiceGUI's simulated user against a real
server running engines on connections to a real exchange simulator (the set-up of
test_live_trading: assets held flat at 100; one moved to 102 opens one pseudo long position).
"""

from __future__ import annotations

from nicegui import ui
from nicegui.testing.user import User

from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, engine_status, simulated
from tests.webui.test_live_trading import (  # noqa: F401  (the module's fixtures)
    WAIT,
    dashboard_settings,
    flat_market,
    hold_prices,
    positions_of,
    until,
)
from tests.webui.test_overview import open_overview, until_row


async def test_engine_state_and_open_positions_of_every_account_with_filters(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub
) -> None:
    await open_overview(user)
    made = await simulated(stub, sim, "Sim trader", is_enabled=True, is_active=True)
    await user.should_see(marker="overview-accounts", content="Sim trader", retries=WAIT)
    await until_row(user, "Sim trader", "engine", "running")
    status = await engine_status(engines, made.id)
    symbol = status.symbols[0]
    hold_prices(sim, "102", [symbol.split("/")[0]])
    await user.should_see(
        marker="overview-positions",
        content=["Sim trader", symbol, "pseudo", "long", "102.051"],
        retries=WAIT,
    )
    (opened,) = await positions_of(engines, made.id)
    table = user.find(marker="overview-positions").elements.pop()
    (row,) = table.props["rows"]
    currency = symbol.split("/")[1].split(":")[0]
    assert row["notional"].endswith(f" {currency}")
    assert len(row["notional"].split()[0].split(".")[1]) == 2  # cents, not 12 places
    assert row["opened_at"].endswith(" UTC") and row["id"] == opened.id
    await user.should_see(marker="overview-count", content="1 of 1 open")

    for key, value, count in [
        ("mode", "live", "0 of 1"),
        ("mode", "pseudo", "1 of 1"),
        ("side", "short", "0 of 1"),
        ("side", "long", "1 of 1"),
        ("symbol", symbol, "1 of 1"),
        ("account", "another", "0 of 1"),
        ("account", made.id, "1 of 1"),
    ]:
        pick(user, f"overview-filter-{key}", value)
        await user.should_see(marker="overview-count", content=f"{count} open")
    pick(user, "overview-filter-account", "another")
    await user.should_see(marker="overview-count", content="0 of 1 open")
    assert table.props["rows"] == [] and table.props["no-data-label"] == "No open positions"


def pick(user: User, marker: str, value: str) -> None:
    """Choose ``value`` in a filter (a choice the filter may not list: one that is gone)."""
    (select,) = user.find(marker=marker).elements
    assert isinstance(select, ui.select)
    if value not in select.options:
        select.set_options({**select.options, value: value})
    select.set_value(value)
