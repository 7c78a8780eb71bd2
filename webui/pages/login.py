"""The sign-in page: paste an API token (the admin token, or one from ``cts token create``)."""

from __future__ import annotations

import grpc
from cts.access.v1 import access_pb2 as pb
from nicegui import ui

from webui import session
from webui.backend import Backend, BackendError


def register(backend: Backend) -> None:
    @ui.page("/login")
    def login_page(redirect_to: str = "/") -> None:
        ui.page_title("Sign in · CTS")

        async def submit() -> None:
            token = (token_input.value or "").strip()
            if not token:
                ui.notify("Enter an API token", type="warning")
                return
            try:
                caller = await backend.call(backend.access.GetCaller, pb.GetCallerRequest(), token)
            except BackendError as error:
                text = (
                    "That token is not valid"
                    if error.code == grpc.StatusCode.UNAUTHENTICATED
                    else error.message
                )
                ui.notify(text, type="negative")
                return
            # The HTTP route behind this path issues the new session id (see webui/session.py).
            ui.navigate.to(session.begin_sign_in(token, redirect_to, caller.role))

        with ui.card().classes("absolute-center w-96").mark("login-card"):
            ui.label("CTS").classes("text-2xl font-bold")
            ui.label("Sign in with an API token").classes("text-gray-600")
            token_input = ui.input("API token", password=True).classes("w-full").mark("login-token")
            token_input.on("keydown.enter", submit)
            ui.button("Sign in", on_click=submit).classes("w-full").mark("login-submit")
            ui.label(
                "The admin token is in $CTS_DATA_DIR/admin.token; "
                "`cts token create --name NAME --role viewer|operator|admin` makes more."
            ).classes("text-xs text-gray-500")
