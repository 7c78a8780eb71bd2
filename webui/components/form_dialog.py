"""The dashboard's edit dialogs (connection, alert rule, alert channel): a form, Cancel and
Save; a refusal shown where it belongs: each refused field's reason under that field, the rest in
one line above the buttons. The dialog, with every secret typed into it, is deleted on close."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from nicegui import ui

from webui import theme
from webui.backend import BackendError

# Saves the changes: None when saved, else the refusal (shown on its fields in the dialog).
Submit = Callable[[dict[str, Any]], Awaitable[BackendError | None]]


class Form(Protocol):
    """What a dialog needs of its form."""

    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def refusal(self) -> ui.label: ...

    def changes(self) -> dict[str, Any]: ...


def refusal_line(mark: str) -> ui.label:
    """The line for refusals of no single field (hidden while empty); screen readers announce
    it."""
    line = ui.label().classes("text-sm text-negative").props('role="alert"').mark(mark)
    line.set_visibility(False)
    return line


def show_refusal(
    inputs: Mapping[str, ui.element],
    line: ui.label,
    refusal: BackendError | None,
    *,
    message: str = "",
) -> None:
    """Show ``refusal`` on ``inputs`` (named as the request names them, with or without the
    request's message prefix, e.g. ``channel.url``) and ``line``; None clears them."""
    fields = dict(refusal.fields) if refusal else {}
    for name, element in inputs.items():
        reason = fields.pop(name, None) or (
            fields.pop(f"{message}.{name}", None) if message else None
        )
        if "error" in element.props or reason:
            element.props["error"] = reason is not None
            element.props["error-message"] = reason or ""
            element.update()
    rest = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
    if refusal is not None and not refusal.fields:
        rest = refusal.message
    line.set_text(rest)
    line.set_visibility(bool(rest))


async def form_dialog(
    title: str,
    mark: str,
    width: str,
    make_form: Callable[[], Form],
    submit: Submit,
    *,
    message: str,
    buttons: tuple[str, str],
) -> None:
    """Show the dialog until it is saved or cancelled; ``submit(changes)`` says if it may close.
    ``message`` is the request's field that holds the form (refusals may name ``<message>.x``);
    ``buttons`` the marks of Cancel and Save."""
    with ui.dialog() as dialog, ui.card().classes(theme.dialog_card(width)).mark(mark):
        ui.label(title).classes("text-lg font-semibold")
        form = make_form()

        async def save() -> None:
            changes = form.changes()
            refusal = await submit(changes) if changes else None
            show_refusal(form.inputs, form.refusal, refusal, message=message)
            if refusal is None:
                dialog.submit(True)

        with ui.row().classes(theme.DIALOG_ACTIONS):
            ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat").mark(
                buttons[0]
            )
            ui.button("Save", on_click=save).props("color=primary").mark(buttons[1])
    await dialog
    dialog.delete()
