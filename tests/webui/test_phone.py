"""The dashboard on a phone (390 x 844 CSS pixels, touch, as a mobile browser lays it out) in a
real headless Chromium, against the stack `cts up` runs: every dialog inside the screen with
its buttons reachable, no page wider than the screen, the frame's menu instead of the header's
links. Measured in the page (getBoundingClientRect, scrollWidth against clientWidth).

One stack and one browser for the module; each test names one behaviour.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, expect

from server.simulator.demo import DEMO_CONNECTION_NAME
from tests.support.chromium import BROWSER_TEST, launched_chromium, screenshot_path
from tests.support.stack_process import Up

pytestmark = [*BROWSER_TEST, pytest.mark.asyncio(loop_scope="module")]

PHONE = {"width": 390, "height": 844}
# The pages besides Live trading (which needs a connection picked), each with what says that
# its live content is drawn.
PAGES = [
    ("/overview", "Totals per quote currency"),
    ("/connections", DEMO_CONNECTION_NAME),
    ("/monitoring", "overall:"),
    ("/logs", "Following new entries live"),
    ("/audit", "entries shown"),
    ("/alerts", "Channels"),
]

# The element's box against the viewport, and whether what is drawn at its centre is it.
BOX = """element => {
  const box = element.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {
    left: box.left, right: box.right, top: box.top, bottom: box.bottom,
    width: innerWidth, height: innerHeight,
    reachable: hit !== null && (element === hit || element.contains(hit)),
  };
}"""
# How much wider than the screen the page is, and (for the failure message) the innermost
# elements that stick out, outside the containers that scroll on their own.
OVERFLOW = """() => {
  const root = document.documentElement;
  const out = e => e.getBoundingClientRect().right > root.clientWidth + 1
    && !e.closest('.q-dialog, .q-drawer, .q-table__middle, .overflow-x-auto');
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => out(e) && ![...e.children].some(out))
    .slice(0, 8)
    .map(e => `${e.tagName}.${e.className} "${(e.textContent || '').slice(0, 30)}" `
              + Math.round(e.getBoundingClientRect().right));
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


# Every visible piece of text whose colour has a WCAG 2 contrast ratio under 4.5:1 against the
# background it is drawn on (the nearest opaque one; translucent ones are blended onto it).
# Disabled controls are left out (WCAG exempts inactive components).
LOW_CONTRAST = """() => {
  // Any CSS colour (Tailwind's are oklch) as sRGB bytes and alpha: painted on a canvas.
  const paint = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const rgba = color => {
    paint.clearRect(0, 0, 1, 1);
    paint.fillStyle = color;
    paint.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = paint.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3]));
  const linear = c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  const lum = rgb => {
    const [r, g, b] = rgb.map(c => linear(c / 255));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const color = rgba(getComputedStyle(e).backgroundColor);
      if (color[3] > 0) layers.push(color);
      if (color[3] === 1) break;
    }
    let rgb = [255, 255, 255];
    for (const layer of layers.reverse()) rgb = over(layer, rgb);
    return rgb;
  };
  const found = [];
  for (const element of document.querySelectorAll('body *')) {
    const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const shown = element.checkVisibility({opacityProperty: true, visibilityProperty: true});
    if (!own || !shown) continue;
    if (element.closest('.disabled, [disabled], [aria-disabled="true"], .q-tooltip')) continue;
    const bg = background(element);
    const fg = over(rgba(getComputedStyle(element).color), bg);
    const [light, dark] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    if (ratio < 4.5) found.push(`${element.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)} `
                                + `(${element.className})`);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def phone_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("phone") / "data"


@pytest.fixture(scope="module")
def phone_stack(phone_data: Path) -> Iterator[Up]:
    running = Up(phone_data)
    running.wait_for("CTS is running")
    yield running
    running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def phone_browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as browser:
        yield browser


async def phone_tab(browser: Browser) -> Page:
    """A new tab of its own (cookies too) the size of a phone."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def phone(phone_browser: Browser, phone_stack: Up, phone_data: Path) -> Page:
    """A phone-sized tab, signed in with the admin token (which sees every page)."""
    token = (phone_data / "admin.token").read_text().strip()
    page = await phone_tab(phone_browser)
    webui = f"http://127.0.0.1:{phone_stack.ports['CTS_WEBUI_PORT']}"
    await page.goto(f"{webui}/login?redirect_to=/connections")
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{webui}/connections")
    await expect(page.get_by_text(DEMO_CONNECTION_NAME)).to_be_visible()
    return page


def base(page: Page) -> str:
    """``http://127.0.0.1:<port>`` of the dashboard the tab is on."""
    return "/".join(page.url.split("/", 3)[:3])


async def opened(dialog: Locator) -> None:
    """The dialog's opening transition (a scale, which moves its box) has ended."""
    inner = dialog.locator("xpath=ancestor::div[contains(@class, 'q-dialog__inner')]")
    await expect(inner).not_to_have_class(re.compile(r"q-transition--"))


async def box(element: Locator) -> dict[str, Any]:
    measured: dict[str, Any] = await element.evaluate(BOX)
    return measured


async def assert_inside(element: Locator, what: str) -> None:
    """Wholly inside the viewport, and drawn on top there (not covered, not clipped away)."""
    measured = await box(element)
    assert measured["left"] >= 0 and measured["top"] >= 0, (what, measured)
    assert measured["right"] <= measured["width"], (what, measured)
    assert measured["bottom"] <= measured["height"], (what, measured)
    assert measured["reachable"], (what, measured)


async def open_connections(page: Page) -> None:
    await page.goto(f"{base(page)}/connections")
    await expect(page.get_by_text(DEMO_CONNECTION_NAME)).to_be_visible()


async def demo_dialog(page: Page, button: str, shows: str) -> Locator:
    """The dialog that the demo card's ``button`` opens, once it ``shows`` this text."""
    await open_connections(page)
    demo = page.locator(".q-card").filter(has_text=DEMO_CONNECTION_NAME)
    await demo.get_by_role("button", name=f"{button} {DEMO_CONNECTION_NAME}").click()
    dialog = page.locator(".q-dialog .q-card")
    await expect(dialog.get_by_text(shows, exact=True)).to_be_visible(timeout=30_000)
    await opened(dialog)
    return dialog


async def assert_fits(dialog: Locator, *buttons: str) -> None:
    """The dialog and its ``buttons`` inside the screen; then closed with the first button."""
    await assert_inside(dialog, "the dialog")
    for name in buttons:
        await assert_inside(dialog.get_by_role("button", name=name, exact=True), name)
    await dialog.get_by_role("button", name=buttons[0], exact=True).click()
    await expect(dialog).to_be_hidden()


async def test_the_add_dialog_fits_the_phone_with_its_buttons_reachable(phone: Page) -> None:
    await open_connections(phone)
    await phone.get_by_role("button", name="Add connection").click()
    dialog = phone.locator(".q-dialog .q-card")
    await expect(dialog.get_by_label("Name")).to_be_visible()
    await opened(dialog)
    await phone.screenshot(path=screenshot_path("phone-add-dialog.png"))
    await assert_inside(dialog.get_by_label("Name"), "the Name field")
    await assert_fits(dialog, "Cancel", "Save")


async def test_the_edit_dialog_fits_the_phone_with_its_buttons_reachable(phone: Page) -> None:
    dialog = await demo_dialog(phone, "Edit", f"Edit {DEMO_CONNECTION_NAME}")
    await assert_fits(dialog, "Cancel", "Save")


async def test_the_test_dialog_fits_the_phone_with_its_close_button_reachable(
    phone: Page,
) -> None:
    dialog = await demo_dialog(phone, "Test connection", "success")
    await phone.screenshot(path=screenshot_path("phone-test-dialog.png"))
    await assert_fits(dialog, "Close")


async def test_a_confirmation_fits_the_phone(phone: Page) -> None:
    dialog = await demo_dialog(phone, "Delete", f"Delete {DEMO_CONNECTION_NAME}?")
    await assert_fits(dialog, "Cancel", "Delete")


async def open_page(page: Page, path: str, ready: str) -> None:
    """Open ``path`` and wait until its live content (``ready``) is drawn."""
    await page.goto(f"{base(page)}{path}")
    await expect(page.get_by_text(ready).first).to_be_visible(timeout=30_000)


async def assert_no_sideways_scroll(page: Page, path: str) -> None:
    name = path.strip("/").replace("/", "-") or "root"
    await page.screenshot(path=screenshot_path(f"phone-{name}.png"), full_page=True)
    measured = await page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["client"], (path, measured)


@pytest.mark.parametrize(("path", "ready"), PAGES)
async def test_no_page_scrolls_sideways(phone: Page, path: str, ready: str) -> None:
    await open_page(phone, path, ready)
    await assert_no_sideways_scroll(phone, path)


async def open_live_trading(page: Page) -> None:
    """Live trading on the demo connection's running engine (its panel, signals, positions)."""
    await open_page(page, "/live-trading", "All engines")
    await page.get_by_label("Connection").click()
    await page.get_by_role("option", name=DEMO_CONNECTION_NAME).click()
    panel = page.locator(".q-card").filter(has_text="Loading stages")
    await expect(panel.get_by_text("running", exact=True)).to_be_visible(timeout=60_000)


async def test_live_trading_with_an_engine_picked_does_not_scroll_sideways(phone: Page) -> None:
    await open_live_trading(phone)
    await assert_no_sideways_scroll(phone, "/live-trading")


async def test_the_login_page_does_not_scroll_sideways(
    phone_browser: Browser, phone_stack: Up
) -> None:
    page = await phone_tab(phone_browser)  # nobody signed in
    await page.goto(f"http://127.0.0.1:{phone_stack.ports['CTS_WEBUI_PORT']}/login")
    await expect(page.get_by_label("API token")).to_be_visible()
    await assert_inside(page.get_by_role("button", name="Sign in"), "Sign in")
    await assert_no_sideways_scroll(page, "/login")
    await page.context.close()


async def test_the_header_collapses_to_a_menu_that_navigates(phone: Page) -> None:
    await open_page(phone, "/connections", DEMO_CONNECTION_NAME)
    header = phone.locator(".q-header")
    await expect(header.get_by_role("link", name="Monitoring")).to_be_hidden()
    await expect(header.get_by_role("button", name="Sign out")).to_be_hidden()
    menu = header.get_by_role("button", name="Menu")
    await assert_inside(menu, "the menu button")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    drawer = phone.get_by_role("navigation", name="Pages")
    await expect(drawer).to_be_visible()
    await expect(drawer.locator("xpath=ancestor::aside[1]")).to_have_css(
        "transform", "matrix(1, 0, 0, 1, 0, 0)"
    )  # slid in
    await expect(drawer.get_by_role("button", name="Sign out")).to_be_visible()
    link = drawer.get_by_role("link", name="Monitoring")
    await assert_inside(link, "the menu's Monitoring link")
    await link.click()
    await expect(phone).to_have_url(f"{base(phone)}/monitoring")
    await expect(phone.get_by_text("Health scores")).to_be_visible()


async def test_the_header_keeps_its_links_on_a_wide_screen(phone: Page) -> None:
    await phone.set_viewport_size({"width": 1280, "height": 800})
    try:
        await open_page(phone, "/connections", DEMO_CONNECTION_NAME)
        header = phone.locator(".q-header")
        await expect(header.get_by_role("link", name="Monitoring")).to_be_visible()
        await expect(header.get_by_role("button", name="Sign out")).to_be_visible()
        await expect(header.get_by_role("button", name="Menu")).to_be_hidden()
    finally:
        await phone.set_viewport_size(PHONE)


@pytest.mark.parametrize(("path", "ready"), PAGES)
async def test_every_text_on_the_pages_is_readable(phone: Page, path: str, ready: str) -> None:
    await open_page(phone, path, ready)
    assert await phone.evaluate(LOW_CONTRAST) == [], path


async def test_every_text_on_live_trading_is_readable(phone: Page) -> None:
    await open_live_trading(phone)
    assert await phone.evaluate(LOW_CONTRAST) == []


async def test_every_text_of_a_finished_connection_test_is_readable(phone: Page) -> None:
    dialog = await demo_dialog(phone, "Test connection", "success")
    assert await phone.evaluate(LOW_CONTRAST) == []
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()


async def test_the_batch_dialog_fits_the_phone_and_reads_clearly(phone: Page) -> None:
    await open_connections(phone)
    await phone.get_by_role("checkbox", name=f"Select {DEMO_CONNECTION_NAME}").click()
    await phone.get_by_role("button", name="Test selected (1)").click()
    dialog = phone.locator(".q-dialog .q-card")
    await expect(dialog.get_by_text("1 succeeded")).to_be_visible(timeout=30_000)
    await expect(dialog.get_by_role("progressbar", name="Batch test progress")).to_be_visible()
    await opened(dialog)
    await phone.screenshot(path=screenshot_path("phone-batch-dialog.png"))
    assert await phone.evaluate(LOW_CONTRAST) == []
    await assert_fits(dialog, "Close")
    await phone.get_by_role("checkbox", name=f"Select {DEMO_CONNECTION_NAME}").click()


async def test_the_login_page_reads_clearly(phone_browser: Browser, phone_stack: Up) -> None:
    page = await phone_tab(phone_browser)
    await page.goto(f"http://127.0.0.1:{phone_stack.ports['CTS_WEBUI_PORT']}/login")
    await page.get_by_role("button", name="Sign in").click()  # no token: the refusal shows
    await expect(page.get_by_text("Enter an API token")).to_be_visible()
    assert await page.evaluate(LOW_CONTRAST) == []
    await page.context.close()


async def test_a_cards_rate_bars_are_progress_bars_named_after_it(phone: Page) -> None:
    await open_connections(phone)
    for per in ("second", "minute"):
        bar = phone.get_by_role("progressbar", name=f"{DEMO_CONNECTION_NAME} requests per {per}")
        await expect(bar).to_be_visible()


async def test_live_trading_names_its_commands_stage_bars_and_chart(phone: Page) -> None:
    await open_live_trading(phone)
    panel = phone.locator(".q-card").filter(has_text="Loading stages")
    for command in ("Start", "Pause", "Resume"):
        name = f"{command} the engine of {DEMO_CONNECTION_NAME}"
        await expect(panel.get_by_role("button", name=name, exact=True)).to_be_visible()
    toggle = f"More ways to stop the engine of {DEMO_CONNECTION_NAME}"
    await expect(panel.get_by_role("button", name=toggle, exact=True)).to_be_visible()
    await expect(phone.get_by_role("progressbar", name="Loading history progress")).to_be_attached()
    chart = phone.get_by_role("img", name=f"Realized PnL over time of {DEMO_CONNECTION_NAME}: ")
    await expect(chart).to_be_attached()


async def test_an_engine_is_picked_from_the_overview_by_keyboard(phone: Page) -> None:
    await open_live_trading(phone)
    overview = phone.locator(".q-card").filter(has_text="All engines")
    name = overview.get_by_role("button", name="Bybit", exact=True)
    await name.focus()
    await name.press("Enter")
    panel = phone.locator(".q-card").filter(has_text="Loading stages")
    await expect(panel.get_by_text("Bybit", exact=True)).to_be_visible()
