"""The REST API's reference at /api-docs, in a real headless Chromium, on `cts up`'s stack."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from tests.support.chromium import BROWSER_TEST, screenshot_path
from tests.support.stack_process import Up

ROOT = Path(__file__).resolve().parents[2]
pytestmark = BROWSER_TEST


async def test_api_docs_lists_every_operation_without_sign_in_under_its_csp(
    stack: Up, browser: Browser, tmp_path: Path
) -> None:
    webui = f"http://127.0.0.1:{stack.ports['CTS_WEBUI_PORT']}"
    envoy = f"http://127.0.0.1:{stack.ports['CTS_HTTP_PORT']}"
    committed = json.loads((ROOT / "proto" / "cts" / "openapi.json").read_text())
    operations = sum(len(item) for item in committed["paths"].values())

    # The raw document: the committed one, with where Envoy answers; no sign-in needed.
    async with httpx.AsyncClient(timeout=10) as client:
        raw = await client.get(f"{webui}/api-docs/openapi.json")
        assert raw.status_code == 200 and raw.headers["content-type"] == "application/json"
        served = raw.json()
        assert served.pop("servers") == [{"url": envoy}]
        assert served == committed
        html = await client.get(f"{webui}/api-docs")
        assert html.status_code == 200, html.text
        policy = html.headers["content-security-policy"]
        assert "script-src 'self';" in policy and f"connect-src 'self' {envoy};" in policy
        assert "frame-ancestors 'none'" in policy and html.headers["x-frame-options"] == "DENY"

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A script or style the Content-Security-Policy blocks is reported on the console.
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    await page.goto(f"{webui}/api-docs")
    await expect(page).to_have_url(f"{webui}/api-docs")  # not sent to /login
    await expect(page.get_by_role("heading", name="CTS API")).to_be_visible()
    blocks = page.locator(".opblock")
    await expect(blocks).to_have_count(operations)
    listed = page.locator(".opblock-summary-path", has_text="/api/settings/connections/batch-test")
    await expect(listed).to_be_visible()
    await expect(page.locator(".opblock-delete .opblock-summary-path").first).to_be_visible()
    await page.screenshot(path=screenshot_path("api-docs.png"))

    # "Try it out" calls Envoy from this page: its CSP and Envoy's CORS allow it.
    token = (tmp_path / "data" / "admin.token").read_text().strip()
    status = await page.evaluate(
        """async ([url, token]) =>
            (await fetch(url, {headers: {authorization: `Bearer ${token}`}})).status""",
        [f"{envoy}/api/settings/connections", token],
    )
    assert status == 200
    assert not errors, errors
