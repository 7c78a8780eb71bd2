"""The frame every signed-in page shares: header, navigation, live indicator, sign-out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from cts.monitoring.v1 import alerts_pb2 as alerts_pb
from nicegui import ui

from server.access.roles import Role
from webui import session, theme
from webui.alert_feed import AlertFeed, AlertFeeds
from webui.backend import Backend
from webui.components.alert_bell import AlertBell
from webui.components.price_ticker import price_ticker
from webui.components.stream_badge import show_live
from webui.feeds import Feeds, StreamFeed

NAVIGATION = (
    ("Overview", "/overview"),
    ("Connections", "/connections"),
    ("Live trading", "/live-trading"),
    ("Monitoring", "/monitoring"),
    ("Logs", "/logs"),
    ("Alerts", "/alerts"),
)
ADMIN_NAVIGATION = (("Audit", "/audit"),)


class _Parts:
    """What the frame's own live parts (the price ticker) need; set once by ``configure``."""

    backend: Backend | None = None
    feeds: Feeds | None = None
    alerts: AlertFeeds | None = None


def configure(backend: Backend, feeds: Feeds, alerts: AlertFeeds) -> None:
    _Parts.backend, _Parts.feeds, _Parts.alerts = backend, feeds, alerts


def live_badge(feeds: Sequence[StreamFeed]) -> ui.badge:
    """ "Live" while the page's streams are all up, "Reconnecting…" while one is not."""
    badge = ui.badge().mark("live-badge")

    def show() -> None:
        show_live(badge, all(feed.live for feed in feeds))

    show()
    for feed in feeds:
        feed.live_changed.subscribe(show)
    return badge


def signed_in() -> str | None:
    """The page's token; None, on the way to the login page, when nobody is signed in (the
    middleware redirects first: this is a second line)."""
    token = session.current_token()
    if token is None:
        ui.navigate.to("/login")
    return token


def use(*feeds: StreamFeed) -> None:
    """The page follows these shared feeds while it is open (a feed's stream runs while any
    page uses it)."""
    client = ui.context.client
    for feed in feeds:
        feed.attach()
        client.on_delete(feed.detach)


def sign_out() -> None:
    session.sign_out()
    ui.navigate.to(session.LOGOUT_PATH)


def token_rejected() -> None:
    session.sign_out()
    ui.notify("Your token is no longer accepted; sign in again", type="negative")
    ui.navigate.to(session.LOGOUT_PATH)


def alert_bell(backend: Backend, feed: AlertFeed, token: str) -> AlertBell:
    """The bell; acknowledging needs an operator."""
    if not session.allows(Role.OPERATOR):
        return AlertBell(feed, None, None)

    async def acknowledge(alert_id: str) -> None:
        await backend.call(
            backend.alerts.AcknowledgeAlert, alerts_pb.AcknowledgeAlertRequest(id=alert_id), token
        )

    async def acknowledge_all() -> int:
        done: alerts_pb.AcknowledgeAlertsResponse = await backend.call(
            backend.alerts.AcknowledgeAlerts, alerts_pb.AcknowledgeAlertsRequest(), token
        )
        return int(done.acknowledged)

    return AlertBell(feed, acknowledge, acknowledge_all)


@contextmanager
def frame(title: str, feeds: Sequence[StreamFeed]) -> Iterator[None]:
    """The page's header and body; a feed that the server refuses the token of signs out.

    Below Tailwind's ``md`` breakpoint (768 px: phones) the header keeps only the menu button,
    the name and the live badge; the pages and sign-out move into a drawer the button opens.
    The price ticker shows from ``lg`` (1024 px) up."""
    ui.page_title(f"{title} · CTS")
    theme.apply()
    token = session.current_token()
    alert_feed = None
    if token is not None and _Parts.alerts is not None:
        alert_feed = _Parts.alerts.of(token)
        use(alert_feed)
        feeds = [*feeds, alert_feed]
    links = NAVIGATION + (ADMIN_NAVIGATION if session.allows(Role.ADMIN) else ())
    with (
        ui.left_drawer(value=False)
        .props('behavior=mobile overlay role="navigation" aria-label="Pages"')
        .classes("bg-slate-800 gap-1")
        .mark("menu") as menu
    ):
        for label, path in links:
            ui.link(label, path).classes("text-white no-underline text-base py-2").mark("menu-link")
        ui.button("Sign out", on_click=sign_out).props("flat color=white no-caps").classes(
            "self-start -ml-2"
        ).mark("menu-sign-out")
    with ui.header().classes("items-center gap-4 bg-slate-800 no-wrap"):
        menu_button = (
            ui.button(icon="menu", on_click=menu.toggle)
            .props('flat round dense color=white aria-label="Menu" aria-expanded=false')
            .classes("md:hidden")
            .mark("menu-button")
        )
        menu.on_value_change(lambda e: menu_button.props(f"aria-expanded={str(e.value).lower()}"))
        ui.label("CTS").classes("text-lg font-bold tracking-wide")
        with ui.row().classes("max-md:hidden items-center gap-4 no-wrap shrink-0"):
            for label, path in links:
                ui.link(label, path).classes("text-white no-underline")
        ui.space()
        if token is not None and _Parts.backend is not None and _Parts.feeds is not None:
            with ui.element("div").classes("max-lg:hidden min-w-0 overflow-hidden"):
                price_ticker(_Parts.backend, _Parts.feeds, token)
        if alert_feed is not None and token is not None and _Parts.backend is not None:
            alert_bell(_Parts.backend, alert_feed, token)
        live_badge(feeds)
        ui.button("Sign out", on_click=sign_out).props("flat no-wrap color=white").classes(
            "max-md:hidden shrink-0"
        ).mark("sign-out")
    with ui.column().classes("w-full max-w-6xl mx-auto p-3 sm:p-4 gap-4 min-w-0"):
        ui.label(title).classes("text-2xl font-semibold")
        yield
    for feed in feeds:
        feed.rejected.subscribe(token_rejected)
