"""The Overview's open positions of every account, with NiceGUI's simulated user against a real
server: engines on connections to a real exchange simulator (the set-up of test_live_trading:
assets held flat at 100; one moved to 102 opens one pseudo long position), and a thousand open
positions stored for one account and re-marked on the server's position topic, as a running
engine publishes its marks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as epb
from google.protobuf.timestamp_pb2 import Timestamp
from nicegui import ui
from nicegui.testing.user import User

from server.engine.marks import PositionMarks, publish_position_event
from server.engine.positions import PositionView
from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.support.stored_positions import store_open_positions
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
from webui.components.overview_positions import forget_row, position_row, shared_row
from webui.components.position_grid import PositionGrid, filter_model

MANY = 1000


def position_grid(user: User) -> PositionGrid:
    (found,) = user.find(marker="overview-positions").elements
    assert isinstance(found, PositionGrid)
    return found


def shown(user: User) -> dict[str, dict[str, Any]]:
    """The grid's rows by position id."""
    return {row["id"]: row for row in position_grid(user).rows}


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
    grid = position_grid(user)
    (row,) = grid.rows
    currency = symbol.split("/")[1].split(":")[0]
    assert row["notional"].endswith(f" {currency}")
    assert len(row["notional"].split()[0].split(".")[1]) == 2  # cents, not 12 places
    assert row["opened_at"].endswith(" UTC") and row["id"] == opened.id
    await user.should_see(marker="overview-count", content="1 of 1 open")
    await user.should_not_see(marker="overview-positions-empty")

    sent = len(grid.sent)
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
    await user.should_see(
        marker="overview-positions-empty", content="No open position matches the filters."
    )
    # The browser's grid filters (it shows no row: see test_overview_browser); no row is sent.
    assert grid.filters == filter_model(
        {"account": "another", "symbol": symbol, "mode": "pseudo", "side": "long"}
    )
    assert grid.filters["connection_id"] == {
        "filterType": "text",
        "type": "equals",
        "filter": "another",
    }
    assert all(not t["add"] and not t["remove"] for t in grid.sent[sent:])
    assert grid.options["initialState"]["filter"]["filterModel"] == grid.filters  # on reconnect
    for key in ("account", "symbol", "mode", "side"):
        pick(user, f"overview-filter-{key}", "all")
    await user.should_see(marker="overview-count", content="1 of 1 open")
    assert grid.filters == {}


def pick(user: User, marker: str, value: str) -> None:
    """Choose ``value`` in a filter (a choice the filter may not list: one that is gone)."""
    (select,) = user.find(marker=marker).elements
    assert isinstance(select, ui.select)
    if value not in select.options:
        select.set_options({**select.options, value: value})
    select.set_value(value)


async def many_open(
    server: ServerThread, connection_id: str, count: int = MANY
) -> list[PositionView]:
    return await store_open_positions(server.settings.resolved_database_url, connection_id, count)


def remark(server: ServerThread, views: Sequence[PositionView], price: str) -> None:
    """Publish the positions marked at ``price`` in one marks event, as an engine's mark does."""

    async def publish() -> None:
        assert server.server is not None
        remarked = tuple(replace(view, mark_price=D(price)) for view in views)
        marks = PositionMarks(views[0].connection_id, remarked)
        publish_position_event(server.server.position_topic, marks)

    server.run(publish)


async def thousand_shown(user: User, stub: Stub, server: ServerThread) -> list[PositionView]:
    made = await stub.CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(name="Many", exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    views = await many_open(server, made.id)
    await open_overview(user)
    await until(lambda: len(shown(user)) == MANY, f"{MANY} open positions")
    await user.should_see(marker="overview-count", content=f"{MANY} of {MANY} open")
    return views


async def test_a_remark_of_one_of_a_thousand_positions_sends_one_small_transaction(
    user: User, stub: Stub, dashboard_server: ServerThread
) -> None:
    views = await thousand_shown(user, stub, dashboard_server)
    grid = position_grid(user)
    newest = max(views, key=lambda v: v.opened_at)
    sent = len(grid.sent)

    remark(dashboard_server, [newest], "101.5")
    wanted = str(newest.id)
    await until(lambda: shown(user)[wanted]["mark_price"] == "101.5", "the new mark")
    (transaction,) = grid.sent[sent:]
    assert (transaction["add"], transaction["remove"]) == ([], [])
    (row,) = transaction["update"]
    assert (row["id"], row["pnl"], row["notional"]) == (wanted, "+0.75 USDT", "50.75 USDT")
    one = len(json.dumps(transaction))
    every = len(json.dumps(grid.rows))
    # Measured: 488 B against 434 kB for the thousand rows again.
    assert one < 1000 and one * 400 < every, (one, every)


async def test_a_burst_of_remarks_goes_out_as_one_transaction(
    user: User, stub: Stub, dashboard_server: ServerThread
) -> None:
    views = await thousand_shown(user, stub, dashboard_server)
    grid = position_grid(user)
    burst = views[:200]
    sent = len(grid.sent)

    remark(dashboard_server, burst, "99")
    marked = {str(v.id) for v in burst}
    await until(lambda: all(shown(user)[i]["mark_price"] == "99" for i in marked), "every new mark")
    (transaction,) = grid.sent[sent:]
    assert {row["id"] for row in transaction["update"]} == marked
    assert (transaction["add"], transaction["remove"]) == ([], [])
    assert {row["pnl"] for row in transaction["update"]} == {"-0.50 USDT"}
    assert len(shown(user)) == MANY  # the others as they were


def test_a_row_is_made_once_per_message_for_every_tab_and_again_for_a_remark_or_rename() -> None:
    opened = Timestamp()
    opened.FromDatetime(datetime(2026, 1, 2, 3, 0, tzinfo=UTC))
    position = epb.Position(
        id=str(uuid.uuid4()),
        connection_id="c1",
        mode="pseudo",
        symbol="BTC/USDT",
        side="long",
        quantity="1",
        average_price="100",
        mark_price="101",
        unrealized_pnl="1",
        opened_at=opened,
    )
    made = shared_row(position, "Demo")
    assert shared_row(position, "Demo") is made  # another tab's: the same row
    assert made == position_row(position, "Demo")
    assert shared_row(position, "Renamed")["account"] == "Renamed"
    remarked = epb.Position()
    remarked.CopyFrom(position)
    remarked.mark_price, remarked.unrealized_pnl = "99", "-1"
    assert shared_row(remarked, "Renamed") == position_row(remarked, "Renamed")
    assert shared_row(remarked, "Renamed")["pnl"] == "-1.00 USDT"
    forget_row(position.id)
    assert shared_row(remarked, "Renamed") is not shared_row(position, "Renamed")
    forget_row(position.id)
