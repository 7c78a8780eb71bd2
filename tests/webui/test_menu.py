"""The frame's menu (the drawer a phone opens instead of the header's links): the same pages as
the header, for what the token may open (sign-out from it: tests/webui/test_dashboard.py)."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing.user import User

from server.access.roles import Role
from tests.support.server_thread import ServerThread
from tests.webui.test_dashboard import sign_in
from tests.webui.test_roles_view import token_for

PAGES = ["Overview", "Connections", "Live trading", "Monitoring", "Logs", "Alerts"]


def menu_links(user: User) -> list[str]:
    """The menu's links, in its order."""
    (menu,) = user.find(marker="menu").elements
    return [link.text for link in menu.default_slot.children if isinstance(link, ui.link)]


async def test_the_menu_offers_the_pages_an_admin_may_open(user: User) -> None:
    await sign_in(user)
    assert menu_links(user) == [*PAGES, "Audit"]
    (button,) = user.find(marker="menu-button").elements
    assert button.props["aria-label"] == "Menu"


async def test_the_menu_offers_a_viewer_no_audit(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user, token_for(dashboard_server, Role.VIEWER))
    assert menu_links(user) == PAGES
