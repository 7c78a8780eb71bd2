"""The dashboard with NiceGUI's simulated user against a real server: sign-in, the live list,
the forms and the switches."""

from __future__ import annotations

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from nicegui import ElementFilter, ui
from nicegui.testing.user import User

from tests.conftest import TEST_TOKEN, auth
from tests.support.server_thread import ServerThread

Stub = connection_pb2_grpc.ConnectionServiceStub


async def sign_in(user: User, token: str = TEST_TOKEN) -> None:
    await user.open("/login")
    user.find(marker="login-token").type(token)
    user.find(marker="login-submit").click()
    # Generous waits (`should_see` tries every 0.1 s) for a loaded machine.
    await user.should_see(marker="connection-list", retries=50)
    await user.should_see(marker="connection-card", retries=50)  # the stream's snapshot came


async def find_by_name(stub: Stub, name: str) -> pb.Connection:
    listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
    return next(c for c in listed.connections if c.name == name)


async def test_pages_need_sign_in(user: User) -> None:
    await user.open("/connections")
    await user.should_see(marker="login-card")
    await user.should_not_see(marker="connection-list")


async def test_a_wrong_token_is_refused_under_the_field_that_has_the_focus(user: User) -> None:
    await user.open("/login")
    (field,) = user.find(marker="login-token").elements
    assert "autofocus" in field.props
    await user.should_not_see(marker="login-error")
    user.find(marker="login-submit").click()
    await user.should_see(marker="login-error", content="Enter an API token")
    user.find(marker="login-token").type("not-a-token")  # typing clears the refusal
    await user.should_not_see(marker="login-error")
    user.find(marker="login-submit").click()
    await user.should_see(marker="login-error", content="That token is not valid")
    await user.should_not_see(marker="connection-list")


async def test_changes_made_elsewhere_appear_without_reload(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user)
    for name in ("Bybit", "BingX", "OrangeX", "Pionex"):
        await user.should_see(name)
    await user.should_see(marker="live-badge", content="Live")
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = Stub(channel)
        made = await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name="Made elsewhere", exchange="okx", api_type="spot")
            ),
            metadata=auth(),
        )
        await user.should_see("Made elsewhere")  # the stream brought it: no reload, no timer
        with user.scope(marker=f"connection-{made.id}"):
            await user.should_see(marker="chip-disabled")
        await stub.ToggleConnection(pb.ToggleConnectionRequest(id=made.id), metadata=auth())
        with user.scope(marker=f"connection-{made.id}"):
            await user.should_see(marker="chip-enabled")
        await stub.DeleteConnection(pb.DeleteConnectionRequest(id=made.id), metadata=auth())
        await user.should_not_see("Made elsewhere")
        await user.should_see("4 of 4 connections")


async def test_add_edit_and_delete_through_the_forms(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user)
    user.find(marker="add-connection").click()
    await user.should_see(marker="connection-dialog")
    user.find(marker="form-name").type("Form made")
    user.find(marker="form-exchange").click()
    user.find("OKX").click()
    user.find(marker="form-api-key").type("FORM-KEY-0123456789")
    user.find(marker="form-api-secret").type("form-secret-value")
    user.find(marker="form-save").click()
    await user.should_see("Form made added")
    await user.should_see("key ****6789")
    await user.should_not_see("FORM-KEY-0123456789")

    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = Stub(channel)
        made = await find_by_name(stub, "Form made")
        assert (made.exchange, made.has_credentials, made.api_key_hint) == ("okx", True, "****6789")

        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-edit").click()
        await user.should_see("Edit Form made")
        user.find(marker="form-name").clear().type("Form edited")
        user.find(marker="form-volume-factor").clear().type("2.5")
        user.find(marker="form-save").click()
        await user.should_see("Form made saved")
        await user.should_see("Form edited")
        edited = await find_by_name(stub, "Form edited")
        assert edited.volume_factor == "2.5"
        assert (
            edited.has_credentials and edited.api_key_hint == "****6789"
        )  # empty secret fields keep them

        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-delete").click()
        await user.should_see("Delete Form edited?")
        user.find(marker="confirm-ok").click()
        await user.should_see("Form edited deleted")
        await user.should_not_see(marker=f"connection-{made.id}")
        listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
        assert "Form edited" not in [c.name for c in listed.connections]


async def test_the_form_sets_simulated_enabled_active_and_the_live_limits(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user)
    user.find(marker="add-connection").click()
    await user.should_see(marker="connection-dialog")
    user.find(marker="form-name").type("Limited")
    user.find(marker="form-simulated").click()
    user.find(marker="form-enabled").click()
    user.find(marker="form-max-position-notional").type("75.5")
    user.find(marker="form-save").click()
    await user.should_see("Limited added")

    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = Stub(channel)
        made = await find_by_name(stub, "Limited")
        assert (made.is_simulated, made.is_enabled, made.is_active) == (True, True, False)
        assert made.max_position_notional == "75.5"
        assert made.max_total_notional == "500"  # left empty: the server's default

        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-edit").click()
        await user.should_see("Edit Limited")
        user.find(marker="form-active").click()
        user.find(marker="form-max-total-notional").clear().type("900")
        user.find(marker="form-save").click()
        await user.should_see("Limited saved")
        edited = await find_by_name(stub, "Limited")
        assert (edited.is_active, edited.max_total_notional) == (True, "900")
        assert edited.max_position_notional == "75.5"


async def test_the_form_offers_only_the_api_types_cts_trades_on_the_exchange(
    user: User,
) -> None:
    await sign_in(user)
    user.find(marker="add-connection").click()
    await user.should_see(marker="connection-dialog")
    (api_type,) = user.find(marker="form-api-type").elements
    assert api_type.value == "perpetual_futures"  # Bybit's, the form's default

    def choose(exchange: str) -> None:
        with user.scope(marker="connection-dialog"):  # not the predefined connections' cards
            user.find(marker="form-exchange").click()
            user.find(exchange).click()

    choose("OrangeX")
    assert list(api_type.options) == ["perpetual_futures"]
    assert api_type.value == "perpetual_futures"
    choose("Kraken")
    assert list(api_type.options) == ["spot", "perpetual_futures"]
    assert api_type.value == "perpetual_futures"  # kept: Kraken has it too
    choose("OKX")
    assert "options" not in api_type.options and "margin" in api_type.options


async def test_refused_input_shows_on_its_field_and_saves_nothing(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user)
    user.find(marker="add-connection").click()
    await user.should_see(marker="connection-dialog")  # the dialog opens from an async handler
    (name,) = user.find(marker="form-name").elements
    (volume,) = user.find(marker="form-volume-factor").elements
    user.find(marker="form-name").type("Bybit")  # taken by a predefined connection
    user.find(marker="form-save").click()
    await user.should_see(marker="form-refusal", content="'Bybit' already exists")
    await user.should_see(marker="connection-dialog")  # stays open to fix the input
    user.find(marker="form-name").clear().type("Fine name")
    user.find(marker="form-volume-factor").clear().type("-3")
    user.find(marker="form-save").click()
    await user.should_not_see(marker="form-refusal")  # the name's refusal is gone
    assert volume.props["error"] is True
    assert volume.props["error-message"] == "Input should be greater than 0"
    assert not name.props["error"]
    await user.should_not_see("volume_factor: Input should be greater than 0")  # no toast
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        listed = await Stub(channel).ListConnections(pb.ListConnectionsRequest(), metadata=auth())
        assert listed.total_size == 4


async def test_switches_enable_activate_and_confirm_live_trading(
    user: User, dashboard_server: ServerThread
) -> None:
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = Stub(channel)
        made = await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(
                    name="Switchy",
                    exchange="binance",
                    api_type="spot",
                    api_key="SWITCHY-KEY-0001",
                    api_secret="s",
                )
            ),
            metadata=auth(),
        )
        await sign_in(user)
        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-enabled").click()
            user.find(marker="card-active").click()
        await user.should_see("Switchy enabled")
        await user.should_see("Switchy added to the active list")
        stored = await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
        assert stored.is_enabled and stored.is_active

        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-live-trade").click()
        await user.should_see("Switch live trading on for Switchy?")
        user.find(marker="confirm-cancel").click()
        assert not (
            await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
        ).is_live_trade

        with user.scope(marker=f"connection-{made.id}"):
            user.find(marker="card-live-trade").click()
        await user.should_see(marker="confirm-dialog")
        user.find(marker="confirm-ok").click()
        await user.should_see("Live trading on for Switchy")
        with user.scope(marker=f"connection-{made.id}"):
            await user.should_see(marker="chip-live")
        assert (
            await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
        ).is_live_trade


async def test_filters_narrow_the_list(user: User) -> None:
    await sign_in(user)
    await user.should_see("4 of 4 connections")
    user.find(marker="filter-exchange").click()
    user.find("BingX").click()
    await user.should_see("1 of 4 connections")
    await user.should_not_see("OrangeX")
    await user.should_not_see(marker="no-matches")
    user.find(marker="filter-enabled").click()
    user.find("Yes").click()
    await user.should_see("0 of 4 connections")
    await user.should_see("No connection matches these filters.")


def listed_names(user: User) -> list[str]:
    """The connections' names in the order the list shows their cards."""
    (listing,) = user.find(marker="connection-list").elements
    with user.client:
        return [
            label.text
            for card in listing.default_slot.children
            for label in ElementFilter(kind=ui.label, marker="card-name").within(instance=card)
        ]


async def test_connections_with_keys_come_before_those_without(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user)
    await user.should_see("4 of 4 connections")  # the predefined ones, without keys
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        stub = Stub(channel)
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(
                    name="Keyed",
                    exchange="okx",
                    api_type="spot",
                    api_key="KEY-0123456789",
                    api_secret="secret-0123456789",
                )
            ),
            metadata=auth(),
        )
        await user.should_see("5 of 5 connections")
        assert listed_names(user)[0] == "Keyed"
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name="Bare", exchange="okx", api_type="spot")
            ),
            metadata=auth(),
        )
        await user.should_see("6 of 6 connections")
        names = listed_names(user)
        assert names[0] == "Keyed" and names[-1] == "Bare", names


@pytest.mark.parametrize("button", ["sign-out", "menu-sign-out"])  # the header's, the menu's
async def test_sign_out_returns_to_login(user: User, button: str) -> None:
    await sign_in(user)
    user.find(marker=button).click()
    await user.should_see(marker="login-card")
    await user.open("/connections")
    await user.should_see(marker="login-card")
