"""A form's refusal shown where it belongs: each refused field's reason under that field, the
rest in one line above the form's buttons."""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from webui.backend import BackendError


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
