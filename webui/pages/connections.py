"""The Connections page: every connection as a card, kept live by the connection stream, with
single and batch connection tests."""

from __future__ import annotations

from typing import Any

from cts.connection.v1 import connection_pb2 as pb
from google.protobuf import field_mask_pb2
from nicegui import ui

from server.access.roles import Role
from webui import session
from webui.backend import Backend, BackendError
from webui.choices import API_TYPES, EXCHANGES
from webui.components.batch_dialog import test_batch
from webui.components.confirm import confirm
from webui.components.connection_card import ConnectionCard
from webui.components.connection_form import connection_dialog
from webui.components.test_dialog import test_connection
from webui.feeds import Feeds, FeedUpdate, UpdateKind, place_in_list
from webui.frame import frame, signed_in, use

ANY = ""
STATE_CHOICES = {ANY: "Any", "yes": "Yes", "no": "No"}


class ConnectionFilters:
    """What the user narrowed the list to (applied to the live copy, not re-fetched)."""

    def __init__(self) -> None:
        self.exchange = ANY
        self.api_type = ANY
        self.enabled = ANY
        self.active = ANY

    def matches(self, connection: pb.Connection) -> bool:
        return (
            (self.exchange == ANY or connection.exchange == self.exchange)
            and (self.api_type == ANY or connection.api_type == self.api_type)
            and (self.enabled == ANY or connection.is_enabled == (self.enabled == "yes"))
            and (self.active == ANY or connection.is_active == (self.active == "yes"))
        )


def register(backend: Backend, feeds: Feeds) -> None:
    @ui.page("/")
    def index() -> None:
        ui.navigate.to("/overview")

    @ui.page("/connections")
    def connections_page() -> None:
        token = signed_in()
        if token is None:
            return
        feed = feeds.connections(token)
        use(feed)
        may_operate, may_administer = session.allows(Role.OPERATOR), session.allows(Role.ADMIN)
        filters = ConnectionFilters()
        cards: dict[str, ConnectionCard] = {}
        selected: set[str] = set()  # connection ids ticked for a batch test

        async def call(method: Any, request: Any, success: str) -> bool:
            try:
                await backend.call(method, request, token)
            except BackendError as error:
                ui.notify(error.message, type="negative", multi_line=True)
                return False
            ui.notify(success, type="positive")
            return True

        async def set_enabled(connection: pb.Connection, enabled: bool) -> None:
            request = pb.ToggleConnectionRequest(id=connection.id, is_enabled=enabled)
            verb = "enabled" if enabled else "disabled"
            if not await call(
                backend.connections.ToggleConnection, request, f"{connection.name} {verb}"
            ):
                cards[connection.id].revert()

        async def set_active(connection: pb.Connection, active: bool) -> None:
            if active:
                method, request = (
                    backend.connections.ActivateConnection,
                    pb.ActivateConnectionRequest(id=connection.id),
                )
            else:
                method, request = (
                    backend.connections.DeactivateConnection,
                    pb.DeactivateConnectionRequest(id=connection.id),
                )
            verb = "added to" if active else "removed from"
            if not await call(method, request, f"{connection.name} {verb} the active list"):
                cards[connection.id].revert()

        async def set_live_trade(connection: pb.Connection, on: bool) -> None:
            if on and not await confirm(
                f"Switch live trading on for {connection.name}?",
                "Engines of this connection will place real orders with real money.",
                action="Switch live trading on",
                danger=True,
            ):
                cards[connection.id].revert()
                return
            request = pb.SetLiveTradeRequest(id=connection.id, is_live_trade=on, confirm=on)
            state = "on" if on else "off"
            if not await call(
                backend.connections.SetLiveTrade,
                request,
                f"Live trading {state} for {connection.name}",
            ):
                cards[connection.id].revert()

        async def saved(method: Any, request: Any, success: str) -> BackendError | None:
            """A form's save: None when done; the refusal goes back to the form's fields."""
            try:
                await backend.call(method, request, token)
            except BackendError as error:
                return error
            ui.notify(success, type="positive")
            return None

        async def create(values: dict[str, Any]) -> BackendError | None:
            request = pb.CreateConnectionRequest(connection=pb.Connection(**values))
            return await saved(
                backend.connections.CreateConnection, request, f"{values.get('name')} added"
            )

        async def edit(connection: pb.Connection) -> None:
            async def submit(changes: dict[str, Any]) -> BackendError | None:
                request = pb.UpdateConnectionRequest(
                    id=connection.id,
                    connection=pb.Connection(**changes),
                    update_mask=field_mask_pb2.FieldMask(paths=sorted(changes)),
                )
                return await saved(
                    backend.connections.UpdateConnection, request, f"{connection.name} saved"
                )

            await connection_dialog(connection, submit)

        async def delete(connection: pb.Connection) -> None:
            if await confirm(
                f"Delete {connection.name}?",
                "Its stored credentials are deleted with it. This cannot be undone.",
                action="Delete",
                danger=True,
            ):
                request = pb.DeleteConnectionRequest(id=connection.id)
                await call(
                    backend.connections.DeleteConnection, request, f"{connection.name} deleted"
                )

        async def run_test(connection: pb.Connection) -> None:
            await test_connection(backend, token, connection)

        def select(connection: pb.Connection, on: bool) -> None:
            if on:
                selected.add(connection.id)
            else:
                selected.discard(connection.id)
            show_selection()

        def show_selection() -> None:
            selected.intersection_update(feed.connections)  # deleted ones drop out
            batch_button.set_text(f"Test selected ({len(selected)})")
            batch_button.set_enabled(bool(selected))

        async def run_batch() -> None:
            chosen = [c for c in feed.ordered() if c.id in selected]
            await test_batch(backend, token, chosen)

        def add_card(connection: pb.Connection) -> None:
            with container:
                cards[connection.id] = ConnectionCard(
                    connection,
                    on_enabled=set_enabled,
                    on_active=set_active,
                    on_live_trade=set_live_trade,
                    on_edit=edit,
                    on_delete=delete,
                    on_test=run_test,
                    on_select=select,
                    selected=connection.id in selected,
                    may_operate=may_operate,
                    may_administer=may_administer,
                )

        def show_count() -> None:
            total = len(feed.connections)
            count.set_text(
                f"{len(cards)} of {total} connections" if total else "No connections yet"
            )
            no_matches.set_visibility(total > 0 and not cards)

        def render_all() -> None:
            container.clear()
            cards.clear()
            for connection in feed.ordered():
                if filters.matches(connection):
                    add_card(connection)
            show_count()
            show_selection()

        def on_update(update: FeedUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.connection is None:
                render_all()
                return
            connection = update.connection
            card = cards.get(connection.id)
            if update.kind is UpdateKind.UPSERT and filters.matches(connection):
                if card is None or place_in_list(card.connection) != place_in_list(connection):
                    render_all()  # a new card, or one that moves (its keys came or went)
                    return
                card.update(connection)
            elif card is not None:
                card.delete()
                del cards[connection.id]
            show_count()
            show_selection()

        def set_filter(name: str, value: str | None) -> None:
            setattr(filters, name, value or ANY)
            render_all()

        with frame("Connections", [feed]):
            with ui.row().classes("w-full items-end gap-3"):
                ui.select(
                    {ANY: "All exchanges", **EXCHANGES},
                    value=ANY,
                    label="Exchange",
                    on_change=lambda e: set_filter("exchange", e.value),
                ).classes("w-44").mark("filter-exchange")
                ui.select(
                    {ANY: "All API types", **API_TYPES},
                    value=ANY,
                    label="API type",
                    on_change=lambda e: set_filter("api_type", e.value),
                ).classes("w-44").mark("filter-api-type")
                ui.select(
                    STATE_CHOICES,
                    value=ANY,
                    label="Enabled",
                    on_change=lambda e: set_filter("enabled", e.value),
                ).classes("w-28").mark("filter-enabled")
                ui.select(
                    STATE_CHOICES,
                    value=ANY,
                    label="Active",
                    on_change=lambda e: set_filter("active", e.value),
                ).classes("w-28").mark("filter-active")
                ui.space()
                batch_button = (
                    ui.button("Test selected (0)", icon="playlist_play", on_click=run_batch)
                    .props("outline")
                    .mark("batch-test")
                )
                batch_button.set_visibility(may_operate)
                ui.button(
                    "Add connection", icon="add", on_click=lambda: connection_dialog(None, create)
                ).mark("add-connection").set_visibility(may_administer)
            count = ui.label().classes("text-sm text-gray-600").mark("connection-count")
            no_matches = (
                ui.label("No connection matches these filters.")
                .classes("text-gray-700")
                .mark("no-matches")
            )
            container = ui.column().classes("w-full gap-3").mark("connection-list")
        render_all()
        feed.updated.subscribe(on_update)
