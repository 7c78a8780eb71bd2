"""The add / edit dialog of a connection. Secrets are password fields and never prefilled."""

from __future__ import annotations

from typing import Any

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui.choices import (
    CONNECTION_METHODS,
    EXCHANGES,
    MARGIN_TYPES,
    POSITION_MODES,
    PRESET_TYPES,
    api_types_of,
)
from webui.components.form_dialog import Submit, form_dialog, refusal_line

# The fields the form edits, in the order of the Connection message.
FORM_FIELDS = (
    "name",
    "exchange",
    "api_type",
    "connection_method",
    "margin_type",
    "position_mode",
    "volume_factor",
    "leverage",
    "preset_type",
    "is_testnet",
    "is_enabled",
    "is_active",
    "is_simulated",
    "max_position_notional",
    "max_total_notional",
)
# Left out when empty: the server's defaults apply (a new connection) or the value stays.
OPTIONAL_FIELDS = ("max_position_notional", "max_total_notional")
SECRET_FIELDS = ("api_key", "api_secret", "api_passphrase")

# Two fields side by side on a wide screen, one under the other on a phone.
FIELD_PAIR = "w-full gap-2 grid grid-cols-1 sm:grid-cols-2"


class ConnectionForm:
    """Collects what the user typed; ``changes()`` is what differs from the original."""

    def __init__(self, original: pb.Connection | None) -> None:
        self.original = original
        current = original or pb.Connection(
            exchange="bybit",
            api_type="perpetual_futures",
            connection_method="library",
            margin_type="cross",
            position_mode="one-way",
            volume_factor="1",
            leverage=1,
            preset_type="default",
        )
        self.inputs: dict[str, Any] = {}
        with ui.column().classes("w-full gap-2"):
            self.inputs["name"] = (
                ui.input("Name", value=current.name)
                .props("autofocus")
                .classes("w-full")
                .mark("form-name")
            )
            with ui.row().classes(FIELD_PAIR):
                self.inputs["exchange"] = (
                    ui.select(
                        EXCHANGES,
                        label="Exchange",
                        value=current.exchange,
                        on_change=lambda e: self._offer_api_types(e.value),
                    )
                    .classes("grow")
                    .mark("form-exchange")
                )
                self.inputs["api_type"] = (
                    ui.select(
                        api_types_of(current.exchange, keep=current.api_type),
                        label="API type",
                        value=current.api_type,
                    )
                    .classes("grow")
                    .mark("form-api-type")
                )
            with ui.row().classes(FIELD_PAIR):
                self.inputs["margin_type"] = (
                    ui.select(MARGIN_TYPES, label="Margin type", value=current.margin_type)
                    .classes("grow")
                    .mark("form-margin-type")
                )
                self.inputs["position_mode"] = (
                    ui.select(POSITION_MODES, label="Position mode", value=current.position_mode)
                    .classes("grow")
                    .mark("form-position-mode")
                )
            with ui.row().classes(FIELD_PAIR):
                self.inputs["volume_factor"] = (
                    ui.input("Volume factor", value=current.volume_factor)
                    .classes("grow")
                    .mark("form-volume-factor")
                )
                self.inputs["leverage"] = (
                    ui.number(
                        "Leverage", value=current.leverage, min=1, max=125, step=1, precision=0
                    )
                    .classes("grow")
                    .mark("form-leverage")
                )
            with ui.row().classes(FIELD_PAIR):
                self.inputs["preset_type"] = (
                    ui.select(PRESET_TYPES, label="Preset", value=current.preset_type)
                    .classes("grow")
                    .mark("form-preset-type")
                )
                self.inputs["connection_method"] = (
                    ui.select(
                        CONNECTION_METHODS,
                        label="Connection method",
                        value=current.connection_method,
                    )
                    .classes("grow")
                    .mark("form-connection-method")
                )
            with ui.row().classes(FIELD_PAIR):
                self.inputs["max_position_notional"] = (
                    ui.input(
                        "Max notional per live position",
                        value=current.max_position_notional,
                        placeholder="server default",
                    )
                    .classes("grow")
                    .mark("form-max-position-notional")
                )
                self.inputs["max_total_notional"] = (
                    ui.input(
                        "Max live notional in total",
                        value=current.max_total_notional,
                        placeholder="server default",
                    )
                    .classes("grow")
                    .mark("form-max-total-notional")
                )
            with ui.row().classes("w-full gap-4"):
                self.inputs["is_testnet"] = ui.checkbox("Testnet", value=current.is_testnet).mark(
                    "form-testnet"
                )
                self.inputs["is_simulated"] = ui.checkbox(
                    "Simulated exchange", value=current.is_simulated
                ).mark("form-simulated")
                self.inputs["is_enabled"] = ui.checkbox("Enabled", value=current.is_enabled).mark(
                    "form-enabled"
                )
                self.inputs["is_active"] = ui.checkbox("Active", value=current.is_active).mark(
                    "form-active"
                )
            stored = original is not None and original.has_credentials
            key_kept = (
                f"stored ({original.api_key_hint}) — leave empty to keep"
                if stored and original
                else ""
            )
            ui.label("Credentials are encrypted at rest and never shown again.").classes(
                "text-xs text-gray-500"
            )
            kept = "stored — leave empty to keep"
            has_passphrase = original is not None and original.has_passphrase
            for name, label, placeholder in (
                ("api_key", "API key", key_kept),
                ("api_secret", "API secret", kept if stored else ""),
                ("api_passphrase", "Passphrase (OKX and others)", kept if has_passphrase else ""),
            ):
                self.inputs[name] = (
                    ui.input(label, password=True, placeholder=placeholder)
                    .classes("w-full")
                    .mark(f"form-{name.replace('_', '-')}")
                )
            # Refusals of no single field, last in the form (above the dialog's buttons).
            self.refusal = refusal_line("form-refusal")

    def _offer_api_types(self, exchange: str) -> None:
        """Only the API types CTS trades on the chosen exchange; the chosen type stays if the
        exchange has it, else the exchange's first."""
        select = self.inputs["api_type"]
        keep = (
            self.original.api_type if self.original and self.original.exchange == exchange else ""
        )
        offered = api_types_of(exchange, keep=keep)
        chosen = select.value if select.value in offered else next(iter(offered), None)
        select.set_options(offered, value=chosen)

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in FORM_FIELDS:
            value = self.inputs[name].value
            if name == "leverage":
                value = int(value) if value is not None else 1
            elif isinstance(value, str):
                value = value.strip()
            if name in OPTIONAL_FIELDS and not value:
                continue
            values[name] = value
        for name in SECRET_FIELDS:
            secret = (self.inputs[name].value or "").strip()
            if secret:
                values[name] = secret
        return values

    def changes(self) -> dict[str, Any]:
        """Every field on create; on edit, only fields that differ (and secrets typed in)."""
        values = self.values()
        if self.original is None:
            return values
        return {
            name: value
            for name, value in values.items()
            if name in SECRET_FIELDS or getattr(self.original, name) != value
        }


async def connection_dialog(original: pb.Connection | None, submit: Submit) -> None:
    """Show the dialog until it is saved or cancelled; ``submit(changes)`` says if it may close.

    The dialog (and with it every typed secret) is deleted as soon as it closes.
    """
    await form_dialog(
        "Add connection" if original is None else f"Edit {original.name}",
        "connection-dialog",
        "w-[32rem]",
        lambda: ConnectionForm(original),
        submit,
        message="connection",
        buttons=("form-cancel", "form-save"),
    )
