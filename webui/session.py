"""Who is signed in to the dashboard: the API token kept in NiceGUI's per-browser storage."""

from __future__ import annotations

from urllib.parse import urlsplit

from nicegui import app

from server.access.roles import Role
from server.errors import InvalidArgument

TOKEN_KEY = "token"
ROLE_KEY = "role"


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


def remember_role(role: str) -> None:
    """The signed-in token's role (a token's role never changes), to show only what it may do."""
    app.storage.user[ROLE_KEY] = role


def allows(needed: Role) -> bool:
    """Whether the signed-in token's role may do what needs ``needed`` (the server checks
    every call anyway: this only hides what would be refused)."""
    word = app.storage.user.get(ROLE_KEY)
    try:
        role = Role.parse(word) if isinstance(word, str) else Role.VIEWER
    except InvalidArgument:
        role = Role.VIEWER
    return role.allows(needed)
