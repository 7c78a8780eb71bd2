"""Accessible names (``aria-label``) that say which connection a control, bar or chart belongs
to, with NiceGUI's simulated user against a real server. Names are free text: one with quotes,
an apostrophe and an ampersand arrives whole. (tests/webui/test_phone.py reads the same names
from Chromium's accessibility tree.)"""

from __future__ import annotations

from cts.connection.v1 import connection_pb2 as pb
from google.protobuf import field_mask_pb2
from nicegui import ElementFilter
from nicegui.testing.user import User

from tests.conftest import auth
from tests.webui.conftest import Stub
from tests.webui.test_dashboard import find_by_name, sign_in
from tests.webui.test_live_trading import pick

AWKWARD = """Desk "A" & O'Brien"""


def names(user: User, scope: str) -> dict[str, str]:
    """Each marked control's accessible name in the element marked ``scope`` (a connection's
    rate bars too, which are hidden until its first check)."""
    found = {}
    (card,) = user.find(marker=scope).elements
    with user.client:
        for marker in (
            "card-select",
            "card-test",
            "card-logs",
            "card-edit",
            "card-delete",
            "card-enabled",
            "card-active",
            "card-live-trade",
            "health-second-bar",
            "health-minute-bar",
        ):
            (element,) = ElementFilter(marker=marker).within(instance=card)
            found[marker] = element.props.get("aria-label")
    return found


def expected(name: str) -> dict[str, str]:
    return {
        "card-select": f"Select {name}",
        "card-test": f"Test connection {name}",
        "card-logs": f"Logs of {name}",
        "card-edit": f"Edit {name}",
        "card-delete": f"Delete {name}",
        "card-enabled": f"Enabled: {name}",
        "card-active": f"Active: {name}",
        "card-live-trade": f"Live trading: {name}",
        "health-second-bar": f"{name} requests per second",
        "health-minute-bar": f"{name} requests per minute",
    }


async def test_a_cards_controls_and_rate_bars_name_their_connection(user: User, stub: Stub) -> None:
    made = await stub.CreateConnection(
        pb.CreateConnectionRequest(
            connection=pb.Connection(name=AWKWARD, exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    await sign_in(user)
    await user.should_see(AWKWARD)
    assert names(user, f"connection-{made.id}") == expected(AWKWARD)
    bybit = await find_by_name(stub, "Bybit")
    assert names(user, f"connection-{bybit.id}") == expected("Bybit")


async def test_a_renamed_connection_s_controls_follow_its_name(user: User, stub: Stub) -> None:
    bybit = await find_by_name(stub, "Bybit")
    await sign_in(user)
    await stub.UpdateConnection(
        pb.UpdateConnectionRequest(
            id=bybit.id,
            connection=pb.Connection(name="Bybit main"),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        ),
        metadata=auth(),
    )
    await user.should_see("Bybit main")  # streamed in
    assert names(user, f"connection-{bybit.id}") == expected("Bybit main")


async def test_the_pnl_chart_is_an_image_named_after_the_picked_connection(user: User) -> None:
    await sign_in(user)
    await user.open("/live-trading")
    await pick(user, "Bybit")
    (chart,) = user.find(marker="pnl-chart").elements
    assert chart.props["role"] == "img"
    assert chart.props["aria-label"] == (
        "Realized PnL over time of Bybit: 0 pseudo and 0 live closed positions, UTC"
    )
    await pick(user, "BingX")
    assert chart.props["aria-label"].startswith("Realized PnL over time of BingX: ")
