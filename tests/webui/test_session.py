"""The dashboard's session in a real headless Chromium, against `cts webui` as a real process:
the token is stored sealed, the session id changes at sign-in and sign-out, and the old
cookies sign in no more; over TLS the cookie is Secure."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Route, expect

from server.tls import TlsFiles, self_signed
from tests.conftest import TEST_TOKEN, make_settings
from tests.support.chromium import BROWSER_TEST
from tests.support.ports import free_port
from tests.support.server_thread import ServerThread
from tests.support.stack_process import REPOSITORY

pytestmark = BROWSER_TEST


@dataclass
class Dashboard:
    url: str
    storage: Path
    tls: TlsFiles | None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """Over TLS, the generated certificate is the only CA trusted."""
        return ssl.create_default_context(cafile=str(self.tls.cert)) if self.tls else True

    def client(self, session: str | None = None) -> httpx.AsyncClient:
        """An HTTP client presenting ``session`` as its cookie (no redirects followed)."""
        return httpx.AsyncClient(
            base_url=self.url,
            verify=self.verify,
            cookies={"session": session} if session else None,
            timeout=10,
        )


@pytest.fixture
def dashboard(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dashboard]:
    """`cts webui` in front of a real server; over TLS, with a pair made by the code of
    `cts cert self-signed`, when the test parametrizes it with True."""
    server = ServerThread(make_settings(tmp_path / "server")).start()
    try:
        with webui_process(server, tmp_path, tls=getattr(request, "param", False)) as running:
            yield running
    finally:
        server.stop()


@contextlib.contextmanager
def webui_process(
    server: ServerThread, tmp_path: Path, *, tls: bool = False
) -> Iterator[Dashboard]:
    """`cts webui` as a real process in front of ``server``, answering /healthz, until the
    block ends (its output in ``tmp_path / "webui.log"``)."""
    data = tmp_path / "webui-data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(
        CTS_HOST="127.0.0.1",
        CTS_GRPC_PORT=str(server.port),
        CTS_WEBUI_PORT=str(port),
        CTS_DATA_DIR=str(data),
    )
    pair = self_signed(data) if tls else None
    if pair is not None:
        env.update(CTS_TLS_CERT=str(pair.cert), CTS_TLS_KEY=str(pair.key))
    log = (tmp_path / "webui.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "webui"],
        cwd=REPOSITORY,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    running = Dashboard(
        f"{'https' if pair else 'http'}://127.0.0.1:{port}", data / "webui-storage", pair
    )
    try:
        wait_until_healthy(running, process)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_healthy(dashboard: Dashboard, process: subprocess.Popen[bytes]) -> None:
    with httpx.Client(verify=dashboard.verify, timeout=1) as client:
        for _ in range(600):  # 60 s at most
            if process.poll() is not None:
                pytest.fail(f"`cts webui` exited with {process.returncode}")
            try:
                if client.get(f"{dashboard.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            process_wait(process, 0.1)  # start-up readiness back-off, not test synchronisation
    pytest.fail("`cts webui` did not answer /healthz within 60 s")


def process_wait(process: subprocess.Popen[bytes], seconds: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=seconds)


async def session_cookie(context: BrowserContext) -> dict[str, object]:
    cookies = [c for c in await context.cookies() if c["name"] == "session"]
    assert len(cookies) == 1, cookies
    return dict(cookies[0])


def session_id(cookie_value: str) -> str:
    """The id in Starlette's signed session cookie (base64 JSON, then the signature)."""
    payload = cookie_value.split(".")[0]
    data: dict[str, str] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data["id"]


def storage_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


async def signed_in(dashboard: Dashboard, cookie: str) -> bool:
    """Whether a request presenting this cookie reaches a signed-in page."""
    async with dashboard.client(cookie) as client:
        answer = await client.get("/connections")
    assert answer.status_code in (200, 307), answer.status_code
    return answer.status_code == 200


@pytest.mark.parametrize("dashboard", [False, True], ids=["http", "tls"], indirect=True)
async def test_sign_in_and_out_issue_new_sessions_and_the_token_is_stored_sealed(
    dashboard: Dashboard, browser: Browser
) -> None:
    context = await browser.new_context(ignore_https_errors=dashboard.tls is not None)
    page = await context.new_page()
    await page.goto(f"{dashboard.url}/connections")
    await expect(page).to_have_url(f"{dashboard.url}/login?redirect_to=/connections")
    before = await session_cookie(context)
    assert before["httpOnly"] and before["sameSite"] == "Lax"
    assert before["secure"] is (dashboard.tls is not None)

    await page.get_by_label("API token").fill(TEST_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{dashboard.url}/connections")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    after = await session_cookie(context)
    assert after["value"] != before["value"]
    assert session_id(str(after["value"])) != session_id(str(before["value"]))
    assert after["httpOnly"] and after["sameSite"] == "Lax"
    assert after["secure"] is (dashboard.tls is not None)

    # The storage file of the new session holds the token, sealed: never the token itself.
    new_file = dashboard.storage / f"storage-user-{session_id(str(after['value']))}.json"
    for _ in range(100):  # NiceGUI writes it in the background; 10 s at most
        if new_file.exists() and '"token"' in new_file.read_text():
            break
        await asyncio.sleep(0.1)  # polls the file for a condition, with a deadline
    sealed = json.loads(new_file.read_text())["token"]
    assert sealed and TEST_TOKEN not in sealed
    assert TEST_TOKEN not in storage_text(dashboard.storage)

    # The cookie from before the sign-in does not sign in; the new one does.
    assert not await signed_in(dashboard, str(before["value"]))
    assert await signed_in(dashboard, str(after["value"]))

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{dashboard.url}/login")
    out = await session_cookie(context)
    assert session_id(str(out["value"])) not in {
        session_id(str(before["value"])),
        session_id(str(after["value"])),
    }
    assert not await signed_in(dashboard, str(after["value"]))
    assert not await signed_in(dashboard, str(out["value"]))
    await page.goto(f"{dashboard.url}/connections")
    await expect(page).to_have_url(f"{dashboard.url}/login?redirect_to=/connections")
    await context.close()


async def test_a_sign_in_ticket_works_once_and_only_for_its_browser(
    dashboard: Dashboard, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{dashboard.url}/login")
    before = str((await session_cookie(context))["value"])
    tickets: list[str] = []

    async def note(route: Route) -> None:
        tickets.append(route.request.url)
        await route.continue_()

    await page.route("**/login/complete*", note)
    await page.get_by_label("API token").fill(TEST_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert len(tickets) == 1
    path = tickets[0].removeprefix(dashboard.url)

    # Used: neither the browser's cookie from before nor a stranger can use it again.
    for cookie in (before, None):
        async with dashboard.client(cookie) as client:
            answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        assert "set-cookie" not in answer.headers or not await signed_in(
            dashboard, answer.cookies["session"]
        )
    assert not await signed_in(dashboard, before)
    await context.close()
