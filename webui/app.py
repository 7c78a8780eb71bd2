"""Assembles the dashboard: the gRPC backend, the live feeds, the login guard and the pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

from server.settings import Settings
from webui import api_docs, frame, session
from webui.alert_feed import AlertFeeds
from webui.backend import Backend
from webui.feeds import Feeds
from webui.pages import (
    alerts,
    audit,
    connections,
    live_trading,
    login,
    logs,
    monitoring,
    overview,
)

# /api-docs is the public REST contract (it is in the repository) and holds no data.
OPEN_PATHS = (
    "/login",
    session.LOGOUT_PATH,
    "/_nicegui",
    "/healthz",
    "/favicon.ico",
    api_docs.PATH,
)


class SignInRequired(BaseHTTPMiddleware):
    """Every page but the login page needs a signed-in browser."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        session.settle()  # whatever the path: the first request after a sign-in
        if not request.url.path.startswith(OPEN_PATHS) and session.current_token() is None:
            return RedirectResponse(f"/login?redirect_to={request.url.path}")
        return await call_next(request)


# NiceGUI renders with Vue templates compiled in the page (hence 'unsafe-eval') and inline
# scripts and styles; everything else comes from the dashboard itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class SecurityHeaders(BaseHTTPMiddleware):
    """Every answer forbids framing, sniffing and referrers, and limits where code comes from."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def build(settings: Settings) -> Backend:
    """Register everything on NiceGUI's app. Call once per process (tests: once per app reset)."""
    backend = Backend(settings.grpc_target)
    feeds = Feeds(backend)
    alert_feeds = AlertFeeds(backend)
    frame.configure(backend, feeds, alert_feeds)
    app.on_startup(backend.open)
    app.on_shutdown(feeds.close)
    app.on_shutdown(alert_feeds.close)
    app.on_shutdown(backend.close)
    app.add_middleware(SignInRequired)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # The HTTP halves of sign-in and sign-out: their answers carry the new session cookie.
    @app.get(session.COMPLETE_PATH)
    def complete_sign_in(request: Request, ticket: str = "") -> RedirectResponse:
        return RedirectResponse(session.complete_sign_in(request, ticket), status_code=303)

    @app.get(session.LOGOUT_PATH)
    def finish_sign_out(request: Request) -> RedirectResponse:
        return RedirectResponse(session.finish_sign_out(request), status_code=303)

    api_docs.register(settings)
    login.register(backend)
    overview.register(backend, feeds)
    connections.register(backend, feeds)
    live_trading.register(backend, feeds)
    monitoring.register(backend, feeds)
    logs.register(backend, feeds)
    audit.register(backend)
    alerts.register(backend, feeds, alert_feeds)
    return backend
