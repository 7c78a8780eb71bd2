"""An engine error, end to end in a real headless Chromium against the stack `cts up` runs: the
builtin rule raises an alert, the open page shows it as a toast and in the bell, and the rule's
webhook channel delivers it, signed, to a real local receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from server.simulator.demo import DEMO_CONNECTION_NAME
from tests.support.chromium import BROWSER_TEST, screenshot_path
from tests.support.stack_process import Up

pytestmark = BROWSER_TEST

SECRET = "receiver-signing-secret-7f3a"


@dataclass
class Receiver:
    """A webhook receiver that checks every delivery's signature itself, over the raw body."""

    url: str = ""
    deliveries: asyncio.Queue[tuple[bool, dict[str, Any], dict[str, str]]] = field(
        default_factory=asyncio.Queue
    )

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(request.headers.get("X-CTS-Signature-256", ""), expected)
        await self.deliveries.put((signed, json.loads(body), dict(request.headers)))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    app = web.Application()
    app.router.add_post("/cts-alerts", made.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    made.url = f"http://127.0.0.1:{port}/cts-alerts"
    yield made
    await runner.cleanup()


async def test_an_engine_error_is_a_toast_and_in_the_bell_and_reaches_the_signed_webhook(
    stack: Up, browser: Browser, tmp_path: Path, receiver: Receiver
) -> None:
    data = tmp_path / "data"
    token = (data / "admin.token").read_text().strip()
    rest = f"http://127.0.0.1:{stack.ports['CTS_HTTP_PORT']}"
    webui = f"http://127.0.0.1:{stack.ports['CTS_WEBUI_PORT']}"
    faults = f"http://127.0.0.1:{stack.ports['CTS_SIMULATOR_PORT']}/__simulator/faults"
    control = (data / "simulator.token").read_text().strip()
    async with httpx.AsyncClient(
        timeout=15, headers={"authorization": f"Bearer {token}"}
    ) as client:
        channel = await client.post(
            f"{rest}/v1/channels",
            json={
                "name": "Desk receiver",
                "kind": "webhook",
                "url": receiver.url,
                "secret": SECRET,
            },
        )
        assert channel.status_code == 200, channel.text
        assert SECRET not in channel.text
        rules = (await client.get(f"{rest}/v1/alertRules")).json()["rules"]
        rule = next(r for r in rules if r["kind"] == "engine_error")
        routed = await client.patch(
            f"{rest}/v1/alertRules/{rule['id']}", json={"channel_ids": [channel.json()["id"]]}
        )
        assert routed.status_code == 200, routed.text
        listed = (await client.get(f"{rest}/api/settings/connections")).json()
        demo = next(c for c in listed["connections"] if c["name"] == DEMO_CONNECTION_NAME)

        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{webui}/alerts")
        await page.get_by_label("API token").fill(token)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{webui}/alerts")
        bell = page.get_by_role("button", name="Alerts: none unacknowledged")
        await expect(bell).to_be_visible()

        # The demo's exchange goes down and its engine is restarted: loading fails, the engine
        # is in error (and retries with back-off): one alert, not one per retry.
        down = {"exchange": "binance", "down": True}
        assert (
            await client.post(faults, json=down, headers={"authorization": f"Bearer {control}"})
        ).status_code == 200
        command = {"connection_id": demo["id"]}
        assert (await client.post(f"{rest}/api/trade-engine/stop", json=command)).status_code == 200
        assert (
            await client.post(f"{rest}/api/trade-engine/start", json=command)
        ).status_code == 200

        toast = page.locator(".q-notification").filter(has_text=DEMO_CONNECTION_NAME)
        await expect(toast).to_be_visible(timeout=60_000)
        await expect(page.get_by_role("button", name="Alerts: 1 unacknowledged")).to_be_visible()
        await page.get_by_role("button", name="Alerts: 1 unacknowledged").click()
        menu = page.locator(".q-menu")
        await expect(menu.get_by_text(f"Engine error: {DEMO_CONNECTION_NAME}")).to_be_visible()
        await page.screenshot(path=screenshot_path("dashboard-alert.png"))

        signed, payload, headers = await asyncio.wait_for(receiver.deliveries.get(), 30)
        assert signed, "the webhook's X-CTS-Signature-256 does not match its body"
        assert payload["kind"] == "engine_error" and headers["X-CTS-Event"] == "engine_error"
        assert payload["connection"] == {"id": demo["id"], "name": DEMO_CONNECTION_NAME}
        assert headers["X-CTS-Delivery"] == payload["id"]

        await menu.get_by_role("button", name=f"Acknowledge {payload['title']}").click()
        await expect(page.get_by_role("button", name="Alerts: none unacknowledged")).to_be_visible()
        stored = (await client.get(f"{rest}/v1/alerts")).json()["alerts"]
        (alert,) = [a for a in stored if a["id"] == payload["id"]]
        assert alert["acknowledged"] and alert["acknowledged_by"]
        assert [d["state"] for d in alert["deliveries"]] == ["delivered"]
        assert receiver.deliveries.empty()  # delivered once
        assert not errors, errors
