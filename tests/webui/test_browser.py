"""The dashboard in a real headless Chromium, against the stack `cts up` runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.simulator.demo import DEMO_CONNECTION_ACCOUNT, DEMO_CONNECTION_NAME
from tests.support.chromium import BROWSER_TEST, screenshot_path
from tests.support.stack_process import Up

pytestmark = BROWSER_TEST


@dataclass
class Tab:
    """A browser tab on the stack's dashboard, with the admin token and the page's errors."""

    page: Page
    token: str
    ports: dict[str, int]
    data: Path
    errors: list[str] = field(default_factory=list)

    def url(self, port: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[port]}{path}"

    async def sign_in(self, path: str) -> None:
        """Open ``path``: the login page comes first and leads back to it."""
        webui = self.url("CTS_WEBUI_PORT")
        await self.page.goto(f"{webui}{path}")
        await expect(self.page).to_have_url(f"{webui}/login?redirect_to={path}")
        await self.page.get_by_label("API token").fill(self.token)
        await self.page.get_by_role("button", name="Sign in").click()


@pytest.fixture
async def tab(stack: Up, browser: Browser, tmp_path: Path) -> Tab:
    opened = Tab(
        await browser.new_page(),
        (tmp_path / "data" / "admin.token").read_text().strip(),
        stack.ports,
        tmp_path / "data",
    )
    opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))
    # What the Content-Security-Policy blocks is reported on the console: an error here too.
    opened.page.on(
        "console",
        lambda message: (
            opened.errors.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return opened


async def test_sign_in_add_a_connection_see_changes_arrive_live_test_the_demo_see_its_engine(
    tab: Tab,
) -> None:
    page, token = tab.page, tab.token
    webui = tab.url("CTS_WEBUI_PORT")
    rest = tab.url("CTS_HTTP_PORT", "/api/settings/connections")

    login = await page.request.get(f"{webui}/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-content-type-options"] == "nosniff"
    assert login.headers["referrer-policy"] == "no-referrer"
    await tab.sign_in("/connections")
    await expect(page.get_by_text("5 of 5 connections")).to_be_visible()
    await expect(page.get_by_text("Live", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Add connection").click()
    dialog = page.locator(".q-dialog")
    await dialog.get_by_label("Name").fill("Browser made")
    await dialog.get_by_label("API key").fill("BROWSER-KEY-0000-4321")
    await dialog.get_by_label("API secret").fill("browser-secret")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Browser made added")).to_be_visible()
    await expect(page.get_by_text("key ****4321")).to_be_visible()
    await expect(page.get_by_text("6 of 6 connections")).to_be_visible()
    assert "BROWSER-KEY-0000-4321" not in await page.content()

    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        listed = (await client.get(rest, params={"exchange": "bybit"})).json()["connections"]
        made = next(c for c in listed if c["name"] == "Browser made")
        response = await client.patch(f"{rest}/{made['id']}", json={"name": "Renamed over REST"})
        assert response.status_code == 200, response.text
        # The open page shows it without a reload: its JS context stays the same throughout.
        marker = await page.evaluate("window.__cts_marker = Math.random()")
        await expect(page.get_by_text("Renamed over REST")).to_be_visible()
        created = await client.post(
            rest, json={"name": "Created over REST", "exchange": "okx", "api_type": "spot"}
        )
        assert created.status_code == 200, created.text
        await expect(page.get_by_text("Created over REST")).to_be_visible()
        await expect(page.get_by_text("7 of 7 connections")).to_be_visible()
        assert await page.evaluate("window.__cts_marker") == marker

    # Test the demo connection. Its key's requests (the balance: after the server time) are
    # answered slowly until the first lines are on screen, so that the test is seen running:
    # its log arrives live, before its result.
    faults = tab.url("CTS_SIMULATOR_PORT", "/__simulator/faults")
    control = (tab.data / "simulator.token").read_text().strip()
    async with httpx.AsyncClient(
        timeout=10, headers={"authorization": f"Bearer {control}"}
    ) as client:
        slow = {"api_key": DEMO_CONNECTION_ACCOUNT.api_key, "latency_ms": 2000}
        assert (await client.post(faults, json=slow)).status_code == 200
        demo = page.locator(".q-card").filter(has_text=DEMO_CONNECTION_NAME)
        await expect(demo.get_by_text("simulated", exact=True)).to_be_visible()
        await demo.get_by_role("button", name=f"Test connection {DEMO_CONNECTION_NAME}").click()
        dialog = page.locator(".q-dialog")
        await expect(dialog.get_by_text(f"Testing {DEMO_CONNECTION_NAME}")).to_be_visible()
        await expect(dialog.get_by_text("Server time: latency")).to_be_visible()
        await expect(dialog.get_by_text("Running…")).to_be_visible()
        await expect(dialog.get_by_text("success", exact=True)).to_have_count(0)
        assert (await client.delete(faults)).status_code == 200
    await expect(dialog.get_by_text("success", exact=True)).to_be_visible(timeout=15_000)
    await expect(dialog.get_by_text("Balance: 10000")).to_be_visible()  # the log line
    await expect(dialog.get_by_text("Running…")).to_be_hidden()
    await expect(page.get_by_text(f"{DEMO_CONNECTION_NAME}: test success")).to_be_visible()
    await page.screenshot(path=screenshot_path("dashboard-connection-test.png"))
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    await expect(demo.get_by_text("last test success")).to_be_visible()
    await page.screenshot(path=screenshot_path("dashboard-connections.png"), full_page=True)

    # The demo connection is enabled and active, so `cts up` runs its engine.
    await page.get_by_role("link", name="Live trading").click()
    await expect(page).to_have_url(f"{webui}/live-trading")
    await page.get_by_label("Connection").click()
    await page.get_by_role("option", name=DEMO_CONNECTION_NAME).click()
    panel = page.locator(".q-card").filter(has_text="Loading stages")
    await expect(panel.get_by_text(DEMO_CONNECTION_NAME)).to_be_visible()
    await expect(panel.get_by_text("running", exact=True)).to_be_visible(timeout=60_000)
    await expect(panel.get_by_text("wanted: running")).to_be_visible()
    await expect(panel.get_by_role("button", name="Pause")).to_be_enabled()
    await expect(panel.get_by_role("button", name="Start")).to_be_disabled()
    overview = page.locator(".q-card").filter(has_text="All engines")
    await expect(overview.get_by_text(DEMO_CONNECTION_NAME)).to_be_visible()
    await page.screenshot(path=screenshot_path("dashboard-live-trading.png"), full_page=True)
    assert not tab.errors, tab.errors


async def test_the_logs_page_shows_a_new_entry_live(tab: Tab) -> None:
    page = tab.page
    await tab.sign_in("/logs")
    await expect(page).to_have_url(tab.url("CTS_WEBUI_PORT", "/logs"))
    await expect(page.get_by_text("Following new entries live")).to_be_visible()
    await expect(page.get_by_text("Time (UTC)")).to_be_visible()
    marker = await page.evaluate("window.__cts_marker = Math.random()")

    message = "Written over REST while the Logs page is open"
    entry = {"level": "warning", "category": "system", "message": message}
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {tab.token}"}) as client:
        response = await client.post(
            tab.url("CTS_HTTP_PORT", "/api/system/log"), json=entry, timeout=10
        )
    assert response.status_code == 200, response.text
    await expect(page.get_by_text(message)).to_be_visible()  # streamed in: no reload
    line = page.locator(".contents").filter(has_text=message)
    await expect(line.get_by_text("warning", exact=True)).to_be_visible()
    assert await page.evaluate("window.__cts_marker") == marker
    await page.screenshot(path=screenshot_path("dashboard-logs.png"), full_page=True)
    assert not tab.errors, tab.errors
