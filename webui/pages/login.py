"""The sign-in page: paste an API token (the admin token, or one from ``cts token create``)."""

from __future__ import annotations

import grpc
from cts.access.v1 import access_pb2 as pb
from nicegui import ui

from webui import session, theme
from webui.backend import Backend, BackendError


def register(backend: Backend) -> None:
    @ui.page("/login")
    def login_page(redirect_to: str = "/") -> None:
        ui.page_title("Sign in · CTS")
        theme.apply()

        def show_error(text: str) -> None:
            """The refusal under the token field (read out by screen readers), until it changes."""
            error.set_text(text)
            error.set_visibility(bool(text))

        async def submit() -> None:
            token = (token_input.value or "").strip()
            if not token:
                show_error("Enter an API token")
                return
            try:
                caller = await backend.call(backend.access.GetCaller, pb.GetCallerRequest(), token)
            except BackendError as error:
                text = (
                    "That token is not valid"
                    if error.code == grpc.StatusCode.UNAUTHENTICATED
                    else error.message
                )
                show_error(text)
                return
            # The HTTP route behind this path issues the new session id (see webui/session.py).
            ui.navigate.to(session.begin_sign_in(token, redirect_to, caller.role))

        with ui.card().classes("absolute-center w-96 max-w-[calc(100vw-2rem)]").mark("login-card"):
            ui.label("CTS").classes("text-2xl font-bold")
            ui.label("Sign in with an API token").classes("text-gray-600")
            token_input = (
                ui.input("API token", password=True, on_change=lambda: show_error(""))
                .props("autofocus")
                .classes("w-full")
                .mark("login-token")
            )
            token_input.on("keydown.enter", submit)
            error = (
                ui.label()
                .classes("text-sm text-negative")
                .props('role="alert" aria-live="assertive"')
                .mark("login-error")
            )
            error.set_visibility(False)
            ui.button("Sign in", on_click=submit).classes("w-full").mark("login-submit")
            ui.label(
                "The admin token is in $CTS_DATA_DIR/admin.token; "
                "`cts token create --name NAME --role viewer|operator|admin` makes more."
            ).classes("text-xs text-gray-500")
