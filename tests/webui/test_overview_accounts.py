"""The Overview's account figures, totals, PnL chart and close action, with NiceGUI's simulated
user against a real server running engines on a real exchange simulator.

These need the server side of AccountService and EngineService.ClosePosition (branch
`accounts`): until it is merged, the server answers UNIMPLEMENTED and every test here is
skipped, saying so. Remove nothing else when merging: the skip goes away by itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
from cts.connection.v1 import account_pb2 as apb
from cts.connection.v1 import account_pb2_grpc
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as epb
from nicegui import ui
from nicegui.testing.user import User

from server.engine.store import PositionStore
from server.storage.database import Database
from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.support.stepping import optimal_history
from tests.webui.conftest import EngineStub, Stub, engine_status, simulated
from tests.webui.test_live_trading import (  # noqa: F401  (the module's fixture)
    ENGINE_SETTINGS,
    WAIT,
    flat_market,
    hold_prices,
    positions_of,
    until,
)
from tests.webui.test_overview import grid, open_overview, row_of, until_row
from tests.webui.test_overview_positions import shown
from webui.components.overview_money import amount

AccountStub = account_pb2_grpc.AccountServiceStub
# Balances read every half second.
BALANCE_SETTINGS = {"balance_interval_seconds": 0.5, "balance_fill_delay_seconds": 0.1}


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, **ENGINE_SETTINGS, **BALANCE_SETTINGS}


@pytest.fixture
async def accounts(dashboard_server: ServerThread) -> AsyncIterator[AccountStub]:
    """AccountService of the dashboard's server."""
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        yield AccountStub(channel)


async def summary_of(accounts: AccountStub, connection_id: str) -> apb.AccountSummary:
    listed = await accounts.ListAccountSummaries(
        apb.ListAccountSummariesRequest(connection_ids=[connection_id]), metadata=auth()
    )
    (found,) = listed.summaries
    return found


async def balance_read(accounts: AccountStub, connection_id: str) -> apb.AccountSummary:
    """The connection's summary once the server has read its balance."""
    for _ in range(WAIT):
        found = await summary_of(accounts, connection_id)
        if found.balance.HasField("read_at"):
            return found
        await asyncio.sleep(0.1)  # as `should_see` retries
    raise AssertionError("the server never read the balance")


async def pseudo_position(
    user: User, sim: SimulatorThread, engines: EngineStub, made: cpb.Connection
) -> epb.Position:
    """Once the engine runs, move its first symbol to 102 and wait for its position in the
    Overview."""
    await until_row(user, made.name, "engine", "running")
    status = await engine_status(engines, made.id)
    symbol = status.symbols[0]
    hold_prices(sim, "102", [symbol.split("/")[0]])
    await user.should_see(
        marker="overview-positions", content=[made.name, symbol, "long"], retries=WAIT
    )
    listed = await positions_of(engines, made.id)
    (opened,) = [p for p in listed if p.status == "open" and p.mode == "pseudo"]
    return opened


async def test_each_account_shows_its_balance_and_pnl_and_totals_per_currency(
    user: User, stub: Stub, sim: SimulatorThread, accounts: AccountStub
) -> None:
    made = await simulated(stub, sim, "Sim money", is_enabled=True)
    await open_overview(user)
    known = await balance_read(accounts, made.id)
    currency = known.quote_currency
    equity = amount(known.balance.equity, currency)
    await until(lambda: row_of(user, "Sim money")["equity"] == equity, f"equity {equity}")
    row = row_of(user, "Sim money")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row["balance_read"])
    assert "failed" not in row["balance_read"]
    for asset in known.balance.unvalued_assets:  # held without a known price: said so
        assert asset in row["balance_read"]
    assert row["open"] == "0 / 0" and row["realized_pseudo"] == amount("0", currency)
    await user.should_see(marker="overview-totals", content=[currency, equity])
    await user.should_see(marker="overview-summary-stream", content="Live")
    await user.should_not_see(marker="overview-summary-error")


async def test_closing_a_pseudo_position_updates_the_row_totals_and_chart_live(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub, accounts: AccountStub
) -> None:
    made = await simulated(stub, sim, "Sim closer", is_enabled=True, is_active=True)
    await open_overview(user)
    opened = await pseudo_position(user, sim, engines, made)
    await until(lambda: row_of(user, "Sim closer")["open"] == "1 / 0", "one open pseudo")
    before = dict(row_of(user, "Sim closer"))
    user.find(marker="overview-positions").trigger("close", opened.id)  # the row's Close
    await user.should_see(f"Closed pseudo long {opened.quantity}", retries=WAIT)
    # Gone from the grid (the engine may open another one on the same signal: not this one).
    await until(lambda: opened.id not in shown(user), "the row gone")
    (closed,) = [p for p in await positions_of(engines, made.id) if p.id == opened.id]
    assert (closed.status, closed.close_reason) == ("closed", "manual")
    known = await summary_of(accounts, made.id)
    currency = known.quote_currency
    assert Decimal(known.pseudo.realized_pnl_total) == Decimal(closed.realized_pnl)
    realized = amount(known.pseudo.realized_pnl_total, currency, signed=True)
    assert realized != before["realized_pseudo"]
    await until(
        lambda: row_of(user, "Sim closer")["realized_pseudo"] == realized, f"realised {realized}"
    )
    await user.should_see(marker="overview-totals", content=realized, retries=WAIT)

    expected = float(Decimal(known.pseudo.realized_pnl_total))

    def charted() -> list[list[object]]:
        """The chart's pseudo points (none while the chart is not there)."""
        found = [e for e in user.find(marker=f"overview-chart-{currency}").elements]
        return list(found[0].options["series"][0]["data"]) if found else []

    # Asked for again after the close: its last point is the cumulative realised PnL.
    await until(lambda: charted()[-1:] == [[*charted()[-1][:1], expected]], f"chart {expected}")
    (chart,) = user.find(marker=f"overview-chart-{currency}").elements
    assert isinstance(chart, ui.echart) and chart.options["useUTC"] is True
    live = chart.options["series"][1]["data"]
    assert all(value == 0 for _, value in live)  # pseudo and live apart


async def test_a_live_close_asks_first_and_names_the_position(
    user: User,
    stub: Stub,
    sim: SimulatorThread,
    engines: EngineStub,
    accounts: AccountStub,
    dashboard_server: ServerThread,
) -> None:
    made = await simulated(
        stub,
        sim,
        "Sim real",
        volume_factor="20",
        max_position_notional="1000",
        max_total_notional="5000",
    )
    db = Database(dashboard_server.settings.resolved_database_url, threads=1)
    try:  # the set is optimal (live trading follows only optimal sets' positions)
        await optimal_history(PositionStore(db), made.id, "BTC/USDT", ["trend/trailing"])
    finally:
        db.close()
    await stub.SetLiveTrade(
        cpb.SetLiveTradeRequest(id=made.id, is_live_trade=True, confirm=True), metadata=auth()
    )
    await stub.ToggleConnection(
        cpb.ToggleConnectionRequest(id=made.id, is_enabled=True), metadata=auth()
    )
    await stub.ActivateConnection(cpb.ActivateConnectionRequest(id=made.id), metadata=auth())
    await open_overview(user)
    await pseudo_position(user, sim, engines, made)
    await until(lambda: any(r["mode"] == "live" for r in shown(user).values()), "a live row")
    (live,) = [p for p in await positions_of(engines, made.id) if p.mode == "live"]

    user.find(marker="overview-positions").trigger("close", live.id)
    await user.should_see(marker="confirm-dialog")
    with user.scope(marker="confirm-dialog"):
        await user.should_see("Close the live position")
        await user.should_see(f"Account Sim real, {live.symbol}, long, quantity {live.quantity}")
    user.find(marker="confirm-cancel").click()
    await user.should_not_see(marker="confirm-dialog")
    assert [p.status for p in await positions_of(engines, made.id) if p.id == live.id] == ["open"]

    user.find(marker="overview-positions").trigger("close", live.id)
    await user.should_see(marker="confirm-dialog")
    user.find(marker="confirm-ok").click()
    await user.should_see(f"Closed live long {live.quantity}", retries=WAIT)
    closed = [p for p in await positions_of(engines, made.id) if p.id == live.id]
    assert [(p.status, p.close_reason) for p in closed] == [("closed", "manual")]
    assert grid(user).rows  # the page stayed whole


async def test_a_refused_close_is_shown_on_the_page(
    user: User, stub: Stub, sim: SimulatorThread, engines: EngineStub, accounts: AccountStub
) -> None:
    made = await simulated(stub, sim, "Sim twice", is_enabled=True, is_active=True)
    await open_overview(user)
    opened = await pseudo_position(user, sim, engines, made)
    await engines.ClosePosition(epb.ClosePositionRequest(position_id=opened.id), metadata=auth())
    # The page may not have heard of the close yet: the server's refusal is shown inline.
    user.find(marker="overview-positions").trigger("close", opened.id)
    await user.should_see(marker="overview-close-error", retries=WAIT)
    await until(lambda: opened.id not in shown(user), "the row gone")
