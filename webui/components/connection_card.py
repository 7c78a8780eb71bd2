"""One connection as a card: its state and health at a glance, the switches that change it,
the Test button, the Logs button (the Logs page on this connection), and the checkbox that
selects it for a batch test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui.choices import API_TYPES, EXCHANGES
from webui.components.accessible import named
from webui.components.health_badge import HealthRow

Action = Callable[[pb.Connection], Awaitable[None]]
Switch = Callable[[pb.Connection, bool], Awaitable[None]]
Select = Callable[[pb.Connection, bool], None]


def logs_path(connection_id: str) -> str:
    """The Logs page on one connection's entries."""
    return f"/logs?{urlencode({'connection': connection_id})}"


class ConnectionCard:
    """A card that ``update()`` refreshes in place when the stream delivers a change."""

    def __init__(
        self,
        connection: pb.Connection,
        *,
        on_enabled: Switch,
        on_active: Switch,
        on_live_trade: Switch,
        on_edit: Action,
        on_delete: Action,
        on_test: Action,
        on_select: Select,
        selected: bool = False,
        may_operate: bool = True,
        may_administer: bool = True,
    ) -> None:
        """Actions the signed-in role may not take are not shown (``may_operate``: test,
        enable, activate, select for a batch; ``may_administer``: live trading, edit, delete)."""
        self.connection = connection
        self._on_enabled = on_enabled
        self._on_active = on_active
        self._on_live_trade = on_live_trade
        with (
            ui.card()
            .classes("w-full")
            .mark(f"connection-card connection-{connection.id}") as self.card
        ):
            with ui.row().classes("w-full items-center gap-3"):
                self.select = (
                    ui.checkbox(
                        value=selected,
                        on_change=lambda e: on_select(self.connection, bool(e.value)),
                    )
                    .props("dense")
                    .mark("card-select")
                )
                self.select.tooltip("Select for a batch test")
                self.select.set_visibility(may_operate)
                self.name = ui.label().classes("text-lg font-semibold").mark("card-name")
                self.exchange = ui.badge().props("outline").mark("card-exchange")
                self.api_type = ui.label().classes("text-sm text-gray-600").mark("card-api-type")
                ui.space()
                self.chips = ui.row().classes("gap-1")
            with ui.row().classes("w-full items-center gap-6 text-sm"):
                self.details = ui.label().classes("text-gray-700").mark("card-details")
                self.credentials = ui.label().classes("text-gray-500").mark("card-credentials")
            self.health = HealthRow()
            with ui.row().classes("w-full items-center gap-4"):
                self.enabled = ui.switch("Enabled", on_change=self._enabled_changed).mark(
                    "card-enabled"
                )
                self.active = ui.switch("Active", on_change=self._active_changed).mark(
                    "card-active"
                )
                self.live_trade = ui.switch(
                    "Live trading", on_change=self._live_trade_changed
                ).mark("card-live-trade")
                self.enabled.set_enabled(may_operate)
                self.active.set_enabled(may_operate)
                self.live_trade.set_enabled(may_administer)
                ui.space()
                self.test = (
                    ui.button(
                        "Test", icon="network_check", on_click=lambda: on_test(self.connection)
                    )
                    .props("flat color=primary")
                    .mark("card-test")
                )
                self.test.set_visibility(may_operate)
                self.logs = (
                    ui.button(
                        "Logs",
                        icon="article",
                        on_click=lambda: ui.navigate.to(logs_path(self.connection.id)),
                    )
                    .props("flat")
                    .mark("card-logs")
                )
                self.edit = (
                    ui.button("Edit", icon="edit", on_click=lambda: on_edit(self.connection))
                    .props("flat")
                    .mark("card-edit")
                )
                self.edit.set_visibility(may_administer)
                self.delete_button = (
                    ui.button("Delete", icon="delete", on_click=lambda: on_delete(self.connection))
                    .props("flat color=negative")
                    .mark("card-delete")
                )
                self.delete_button.set_visibility(may_administer)
        self.update(connection)

    def update(self, connection: pb.Connection) -> None:
        self.connection = connection
        self.name.set_text(connection.name)
        self.exchange.set_text(EXCHANGES.get(connection.exchange, connection.exchange))
        self.api_type.set_text(API_TYPES.get(connection.api_type, connection.api_type))
        self.details.set_text(
            f"{connection.margin_type} margin · {connection.position_mode} · "
            f"volume ×{connection.volume_factor} · leverage {connection.leverage}× · "
            f"preset {connection.preset_type}"
        )
        self.credentials.set_text(
            f"key {connection.api_key_hint}" if connection.has_credentials else "no credentials"
        )
        self.chips.clear()
        with self.chips:
            for shown, text, color in (
                (connection.is_enabled, "enabled", "positive"),
                (not connection.is_enabled, "disabled", "neutral"),
                (connection.is_active, "active", "primary"),
                (connection.is_live_trade, "LIVE", "negative"),
                (connection.is_testnet, "testnet", "info"),
                (connection.is_simulated, "simulated", "simulated"),
                (connection.is_predefined, "predefined", "neutral"),
            ):
                if shown:
                    ui.chip(text, color=color).props("dense square text-color=white").mark(
                        f"chip-{text.lower()}"
                    )
        self.health.update(connection)
        self._name_controls(connection.name)
        # Setting a switch fires its handler; the handlers ignore values equal to the state.
        self.enabled.set_value(connection.is_enabled)
        self.active.set_value(connection.is_active)
        self.live_trade.set_value(connection.is_live_trade)

    def _name_controls(self, name: str) -> None:
        """Each control's accessible name says which connection it acts on (the visible words
        first, as WCAG's "label in name" asks)."""
        for element, words in (
            (self.select, "Select"),
            (self.test, "Test connection"),
            (self.logs, "Logs of"),
            (self.edit, "Edit"),
            (self.delete_button, "Delete"),
        ):
            named(element, f"{words} {name}")
        for switch, words in (
            (self.enabled, "Enabled"),
            (self.active, "Active"),
            (self.live_trade, "Live trading"),
        ):
            named(switch, f"{words}: {name}")

    async def _enabled_changed(self, event: object) -> None:
        if self.enabled.value != self.connection.is_enabled:
            await self._on_enabled(self.connection, bool(self.enabled.value))

    async def _active_changed(self, event: object) -> None:
        if self.active.value != self.connection.is_active:
            await self._on_active(self.connection, bool(self.active.value))

    async def _live_trade_changed(self, event: object) -> None:
        if self.live_trade.value != self.connection.is_live_trade:
            await self._on_live_trade(self.connection, bool(self.live_trade.value))

    def revert(self) -> None:
        """Show the stored state again (after a refused change)."""
        self.update(self.connection)

    def delete(self) -> None:
        self.card.delete()
