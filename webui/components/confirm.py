"""A yes/no dialog that returns the answer."""

from __future__ import annotations

from nicegui import ui

from webui import theme


async def confirm(
    question: str, detail: str = "", *, action: str = "Confirm", danger: bool = False
) -> bool:
    with (
        ui.dialog() as dialog,
        ui.card().classes(theme.dialog_card("w-[24rem]")).mark("confirm-dialog"),
    ):
        ui.label(question).classes("text-lg font-semibold")
        if detail:
            ui.label(detail).classes("text-sm text-gray-600")
        with ui.row().classes(theme.DIALOG_ACTIONS):
            ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat").mark(
                "confirm-cancel"
            )
            ui.button(action, on_click=lambda: dialog.submit(True)).props(
                f"color={'negative' if danger else 'primary'}"
            ).mark("confirm-ok")
    answer = await dialog
    dialog.delete()
    return bool(answer)
