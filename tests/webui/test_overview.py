"""The Overview page with NiceGUI's simulated user against a real server: the parts that come from
the connection, engine and position streams (the account figures are in test_overview_accounts).

Engines run on connections to a real exchange simulator whose assets are held flat at 100; moving
one to 102 makes the default preset's trend entry open one pseudo position (see
test_live_trading).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui
from nicegui.testing.user import User

from server.access.roles import Role
from tests.conftest import TEST_TOKEN, auth
from tests.support.server_thread import ServerThread
from tests.webui.conftest import Stub
from tests.webui.test_live_trading import until
from tests.webui.test_roles_view import token_for
from webui.components.delta_grid import DeltaGrid
from webui.components.position_grid import PositionGrid

PREDEFINED = ("Bybit", "BingX", "OrangeX", "Pionex")


async def open_overview(user: User, token: str = TEST_TOKEN) -> None:
    """A plain sign-in: the page after it is the Overview."""
    await user.open("/login")
    user.find(marker="login-token").type(token)
    user.find(marker="login-submit").click()
    await user.should_see(marker="overview-accounts", retries=50)
    await user.should_see(marker="overview-accounts", content="Bybit", retries=50)


def grid(user: User) -> DeltaGrid:
    (found,) = user.find(marker="overview-accounts").elements
    assert isinstance(found, DeltaGrid)
    return found


def row_of(user: User, name: str) -> dict[str, Any]:
    return next(r for r in grid(user).rows if r["name"] == name)


async def test_sign_in_lands_on_the_overview_with_one_row_per_connection(user: User) -> None:
    await open_overview(user)
    (header,) = user.find(ui.header).elements
    links = [e.text for e in header.descendants() if isinstance(e, ui.link)]
    assert links[:2] == ["Overview", "Connections"]  # first in the navigation
    for name in PREDEFINED:
        await user.should_see(marker="overview-accounts", content=name)
    bybit = row_of(user, "Bybit")
    assert bybit["market"].startswith("bybit · ")
    assert (bybit["engine"], bybit["live_trading"], bybit["health"]) == ("stopped", "off", "—")
    await user.should_see(marker="live-badge", content="Live", retries=50)
    assert "close" in close_column(user)  # an admin may close positions


def close_column(user: User) -> list[str]:
    """The position grid's columns."""
    (found,) = user.find(marker="overview-positions").elements
    assert isinstance(found, PositionGrid)
    return [c.get("colId", c.get("field")) for c in found.options["columnDefs"]]


async def test_a_viewer_sees_the_positions_without_a_close_action(
    user: User, dashboard_server: ServerThread
) -> None:
    await open_overview(user, token_for(dashboard_server, Role.VIEWER))
    assert "close" not in close_column(user) and "symbol" in close_column(user)


async def test_rows_change_one_at_a_time_with_300_accounts(user: User, stub: Stub) -> None:
    for number in range(296):  # with the four predefined ones: 300
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name=f"Acct {number:03d}", exchange="okx", api_type="spot")
            ),
            metadata=auth(),
        )
    await open_overview(user)
    await user.should_see(marker="overview-accounts", content="Acct 295", retries=50)
    assert len(grid(user).rows) == 300
    made = next(r for r in grid(user).rows if r["name"] == "Acct 007")

    await stub.UpdateConnection(
        pb.UpdateConnectionRequest(id=made["id"], connection=pb.Connection(name="Renamed 007")),
        metadata=auth(),
    )
    await user.should_see(marker="overview-accounts", content="Renamed 007", retries=50)
    sent = grid(user).sent[-1]
    # One row changed: one row goes to the browser, not 300.
    assert (sent["add"], sent["remove"], [r["name"] for r in sent["update"]]) == (
        [],
        [],
        ["Renamed 007"],
    )
    one = len(json.dumps(sent))
    every = len(json.dumps(grid(user).rows))
    assert one * 100 < every, (one, every)  # about 0.4 kB against about 117 kB


async def test_search_by_name_or_exchange_and_an_empty_result_says_so(user: User) -> None:
    await open_overview(user)
    user.find(marker="overview-search").type("bing")
    await user.should_not_see(marker="overview-accounts", content="Pionex")
    await user.should_see(marker="overview-accounts", content="BingX")
    user.find(marker="overview-search").clear().type("PIONEX")  # the exchange, any case
    await user.should_see(marker="overview-accounts", content="Pionex")
    await user.should_not_see(marker="overview-accounts", content="BingX")
    user.find(marker="overview-search").clear().type("no such account")
    await user.should_see(marker="overview-empty", content="No account matches")
    assert grid(user).rows == []
    user.find(marker="overview-search").clear()
    await user.should_see(marker="overview-accounts", content="OrangeX")
    await user.should_not_see(marker="overview-empty")


@pytest.fixture
def dashboard_settings() -> dict[str, Any]:
    # 300 connections are made as fast as the server takes them.
    return {"rate_limit_per_second": 0, "address_rate_limit_per_second": 0}


async def until_row(user: User, name: str, field: str, value: str) -> None:
    """Wait until the grid's row of ``name`` shows ``value`` in ``field`` (kept live by the
    streams)."""

    def shown() -> bool:
        rows = [r for r in grid(user).rows if r["name"] == name]
        return bool(rows) and rows[0][field] == value

    await until(shown, f"{name}'s {field} at {value}")
