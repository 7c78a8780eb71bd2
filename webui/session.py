"""Who is signed in to the dashboard: the API token kept in NiceGUI's per-browser storage."""

from __future__ import annotations

from urllib.parse import urlsplit

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
    """Only same-site relative paths: no open redirect through the login. Browsers read a
    backslash as a slash (``/\\evil.example`` is ``//evil.example``, another host) and drop
    tabs and newlines, so none of those pass either."""
    if not target or not target.startswith("/") or "\\" in target:
        return "/"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target
