"""Who is signed in to the dashboard: the API token, kept encrypted in NiceGUI's per-browser
storage, under a session id that changes at sign-in and sign-out.

How NiceGUI ties storage to a browser: Starlette's SessionMiddleware keeps a signed cookie
holding ``request.session['id']`` (NiceGUI's RequestTrackingMiddleware puts a random one there
on the first request), and ``app.storage.user`` is the storage of that id, saved as
``webui-storage/storage-user-<id>.json``. The cookie stays valid as long as its signature does:
to retire a browser's old cookie, its id's storage must be emptied and a new id issued.

- The token is stored sealed (Fernet; the key is derived with HKDF from the dashboard's storage
  secret, ``$CTS_DATA_DIR/webui.secret``, 0600): a copy of the storage files reveals nothing.
- Sign-in and sign-out start in a click, which arrives over the page's websocket, where no
  cookie can be set. So the click hands over to a plain HTTP route, and the route's answer
  carries the new cookie: ``/login/complete?ticket=…`` (the ticket is single-use, short-lived
  and bound to the old id) empties the old id's storage, puts a fresh id in the session and
  parks the sealed token for it in memory; the browser's next request, the first with the new
  id, takes it into that id's storage. Sign-out empties the storage at once (the old cookie
  signs in no more) and ``/logout`` then issues a fresh id.

Only NiceGUI's storage API is used (``app.storage.user``, ``app.storage.browser`` and the
current request they follow), never its internals.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from uuid import uuid4

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nicegui import app
from nicegui.context import context
from nicegui.storage import Storage, request_contextvar
from starlette.requests import Request

from server.access.roles import Role
from server.errors import InvalidArgument

TOKEN_KEY = "token"
ROLE_KEY = "role"  # the token's role (it never changes), to show only what it may do
COMPLETE_PATH = "/login/complete"
LOGOUT_PATH = "/logout"
HANDOVER_SECONDS = 60.0  # a ticket or a parked token unused this long is void


@dataclass(frozen=True)
class _Handover:
    session_id: str
    sealed: str
    role: str
    redirect_to: str
    expires: float


_tickets: dict[str, _Handover] = {}  # ticket -> sign-in waiting for /login/complete
_parked: dict[str, _Handover] = {}  # new session id -> sealed token waiting for its request


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cts webui api token")
    key = hkdf.derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _cipher() -> Fernet:
    if not Storage.secret:
        raise RuntimeError("the dashboard runs without a storage secret")
    return _fernet(Storage.secret)


def _session_id() -> str:
    return str(app.storage.browser["id"])


def _use_page_request() -> None:
    """In a click or event handler: make the page's own request NiceGUI's current one, so
    that ``app.storage`` is this browser's. A browser's click already runs so; an event fired
    by a background task (a refused token) and NiceGUI's simulated user in tests do not."""
    with contextlib.suppress(RuntimeError):  # not in a UI context: the request is current
        request_contextvar.set(context.client.request)


def _prune(store: dict[str, _Handover]) -> None:
    now = time.monotonic()
    for key in [k for k, v in store.items() if v.expires < now]:
        del store[key]


def settle() -> None:
    """On the first request with a new session id: take its parked token into its storage."""
    parked = _parked.pop(_session_id(), None)
    if parked is not None and parked.expires >= time.monotonic():
        app.storage.user[TOKEN_KEY] = parked.sealed
        app.storage.user[ROLE_KEY] = parked.role


def current_token() -> str | None:
    """The signed-in browser's token, or None."""
    settle()
    storage = app.storage.user
    sealed = storage.get(TOKEN_KEY)
    if not isinstance(sealed, str) or not sealed:
        return None
    try:
        return _cipher().decrypt(sealed.encode()).decode()
    except InvalidToken:  # sealed under another storage secret, or an old clear token
        storage.pop(TOKEN_KEY, None)
        return None


def begin_sign_in(token: str, redirect_to: str | None, role: str = Role.VIEWER.word) -> str:
    """Call from the login page once ``token`` is known to be good; navigate the browser to
    the returned path, which finishes the sign-in under a new session id."""
    _use_page_request()
    _prune(_tickets)
    ticket = secrets.token_urlsafe(32)
    _tickets[ticket] = _Handover(
        session_id=_session_id(),
        sealed=_cipher().encrypt(token.encode()).decode(),
        role=role,
        redirect_to=safe_redirect(redirect_to),
        expires=time.monotonic() + HANDOVER_SECONDS,
    )
    return f"{COMPLETE_PATH}?ticket={ticket}"


def complete_sign_in(request: Request, ticket: str) -> str:
    """The HTTP half of the sign-in: retire the old id, issue a new one. Returns where to
    go next (the login page again when the ticket is unknown, used, old or not this
    browser's)."""
    _prune(_tickets)
    _prune(_parked)
    handover = _tickets.pop(ticket, None)
    old_id = request.session.get("id")
    if handover is None or handover.session_id != old_id:
        return "/login"
    app.storage.user.clear()
    new_id = str(uuid4())
    request.session["id"] = new_id
    _parked[new_id] = handover
    return handover.redirect_to


def sign_out() -> None:
    """Forget the token at once: this browser's cookie no longer signs in."""
    _use_page_request()
    app.storage.user.pop(TOKEN_KEY, None)
    app.storage.user.pop(ROLE_KEY, None)


def finish_sign_out(request: Request) -> str:
    """The HTTP half of the sign-out: a signed-out browser gets a new id. A signed-in one
    (a link from elsewhere cannot sign anyone out) is sent home unchanged."""
    if current_token() is not None:
        return "/"
    app.storage.user.clear()
    request.session["id"] = str(uuid4())
    return "/login"


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


def allows(needed: Role) -> bool:
    """Whether the signed-in token's role may do what needs ``needed`` (the server checks
    every call anyway: this only hides what would be refused)."""
    word = app.storage.user.get(ROLE_KEY)
    try:
        role = Role.parse(word) if isinstance(word, str) else Role.VIEWER
    except InvalidArgument:
        role = Role.VIEWER
    return role.allows(needed)
