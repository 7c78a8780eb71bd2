"""Who is signed in to the dashboard: the API token kept in NiceGUI's per-browser storage."""

from __future__ import annotations

from nicegui import app

TOKEN_KEY = "token"


def current_token() -> str | None:
    token = app.storage.user.get(TOKEN_KEY)
    return token if isinstance(token, str) and token else None


def sign_in(token: str) -> None:
    app.storage.user[TOKEN_KEY] = token


def sign_out() -> None:
    app.storage.user.pop(TOKEN_KEY, None)


def safe_redirect(target: str | None) -> str:
    """Only same-site paths (no ``//host`` or ``http://``): no open redirect through the login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
