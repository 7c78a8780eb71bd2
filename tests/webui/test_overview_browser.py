"""The Overview in a real headless Chromium, against `cts webui` as a real process in front of a
real server whose engines trade on a real exchange simulator (assets held flat at 100; one moved
to 102 opens one pseudo long position, as in test_live_trading)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from google.protobuf.timestamp_pb2 import Timestamp
from playwright.async_api import Browser, Page, WebSocket, expect

from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.chromium import BROWSER_TEST, screenshot_path
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import EngineStub, Stub, engine_status, simulated
from tests.webui.test_live_trading import ENGINE_SETTINGS, hold_prices, positions_of
from tests.webui.test_overview_accounts import BALANCE_SETTINGS
from tests.webui.test_overview_positions import many_open, remark
from tests.webui.test_session import Dashboard, webui_process
from webui.components.overview_money import amount, held_for

pytestmark = BROWSER_TEST
SETTINGS = {
    **ENGINE_SETTINGS,
    **BALANCE_SETTINGS,
    "rate_limit_per_second": 0,
    "address_rate_limit_per_second": 0,
}


@dataclass
class Running:
    server: ServerThread
    dashboard: Dashboard


@pytest.fixture
def running(tmp_path: Path, sim: SimulatorThread) -> Iterator[Running]:
    """A server with engines on the simulator, and `cts webui` in front of it."""
    hold_prices(sim, "100")
    settings = make_settings(tmp_path / "server", simulator_url=sim.base_url, **SETTINGS)
    server = ServerThread(settings).start()
    try:
        with webui_process(server, tmp_path) as dashboard:
            yield Running(server, dashboard)
    finally:
        server.stop()


@pytest.fixture
async def channel(running: Running) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(running.server.target) as opened:
        yield opened


async def sign_in(page: Page, running: Running) -> None:
    """A plain sign-in: the page after it is the Overview."""
    await page.goto(f"{running.dashboard.url}/login")
    await page.get_by_label("API token").fill(TEST_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{running.dashboard.url}/overview")


# The duration the positions grid shows for positions opened ``offsets`` seconds ago.
HELD_OF = """offsets => {
  const grid = getElement(document.querySelector('[aria-label^="Open positions"]'));
  const count = grid.api.getColumnDef('held').valueGetter;
  return offsets.map(s => count({data: {opened_us: Date.now() * 1000 - s * 1e6}}));
}"""


def stamp(moment: datetime) -> Timestamp:
    made = Timestamp()
    made.FromDatetime(moment)
    return made


def received(page: Page) -> list[str | bytes]:
    """Every websocket message the page will receive, as it comes."""
    frames: list[str | bytes] = []

    def follow(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", follow)
    return frames


def text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode()


async def spot_accounts(stub: Stub, names: list[str]) -> list[cpb.Connection]:
    """Connections without keys (no engine runs for them), one per name."""
    return [
        await stub.CreateConnection(
            cpb.CreateConnectionRequest(
                connection=cpb.Connection(name=name, exchange="okx", api_type="spot")
            ),
            metadata=auth(),
        )
        for name in names
    ]


async def test_the_overview_lands_after_sign_in_and_sends_one_row_per_change(
    running: Running, channel: grpc.aio.Channel, browser: Browser
) -> None:
    stub = Stub(channel)
    made = await spot_accounts(stub, [f"Acct {n:03d}" for n in range(96)])
    page = await browser.new_page()
    frames = received(page)
    await sign_in(page, running)
    grid = page.locator(".ag-root")
    await expect(grid.get_by_text("Acct 002", exact=True)).to_be_visible()
    await expect(page.get_by_text("Live", exact=True).first).to_be_visible()

    await stub.UpdateConnection(
        cpb.UpdateConnectionRequest(id=made[2].id, connection=cpb.Connection(name="Renamed 002")),
        metadata=auth(),
    )
    await expect(grid.get_by_text("Renamed 002", exact=True)).to_be_visible()
    carrying = [f for f in frames if "Renamed 002" in text(f)]
    # One message with one row (measured: 514 B), not the 100 rows again (their rowData: 30 kB).
    assert len(carrying) == 1 and len(carrying[0]) < 1500, [len(f) for f in carrying]
    assert "applyTransaction" in str(carrying[0])

    await page.get_by_label("Search name or exchange").fill("renamed")
    await expect(grid.get_by_text("Acct 003", exact=True)).to_be_hidden()
    await expect(grid.get_by_text("Renamed 002", exact=True)).to_be_visible()
    await page.screenshot(path=screenshot_path("dashboard-overview-search.png"), full_page=True)


async def test_totals_change_live_when_a_pseudo_position_closes(
    running: Running, channel: grpc.aio.Channel, browser: Browser, sim: SimulatorThread
) -> None:
    stub, engines = Stub(channel), EngineStub(channel)
    made = await simulated(stub, sim, "Sim closer", is_enabled=True, is_active=True)
    page = await browser.new_page()
    await sign_in(page, running)
    positions = page.locator(".q-card").filter(has_text="Open positions")
    totals = page.locator(".q-card").filter(has_text="Totals per quote currency")
    await expect(page.locator(".ag-root").get_by_text("Sim closer")).to_be_visible()
    await expect(page.locator(".ag-root").get_by_text("running")).to_be_visible(timeout=60_000)
    status = await engine_status(engines, made.id)
    symbol = status.symbols[0]
    hold_prices(sim, "102", [symbol.split("/")[0]])
    row = positions.get_by_role("row").filter(has_text=symbol)
    await expect(row).to_be_visible(timeout=60_000)
    currency = symbol.split("/")[1].split(":")[0]
    before = amount("0", currency, signed=True)
    await expect(totals.locator("tr").filter(has_text=currency)).to_contain_text(before)
    held = row.locator("[col-id='held']")  # counted on in the browser: no message says it
    await expect(held).to_have_text(re.compile(r"^\d+ s$"))
    await expect(held).not_to_have_text(await held.inner_text())
    marker = await page.evaluate("window.__cts_marker = Math.random()")

    await row.get_by_role("button", name=f"Close pseudo long {symbol} on Sim closer").click()
    # The close has been made once the page says so (the engine may open another one later).
    await expect(page.get_by_text("Closed pseudo long")).to_be_visible()
    (closed,) = [p for p in await positions_of(engines, made.id) if p.status == "closed"]
    realized = amount(closed.realized_pnl, currency, signed=True)
    assert realized != before
    await expect(totals.locator("tr").filter(has_text=currency)).to_contain_text(realized)
    assert await page.evaluate("window.__cts_marker") == marker  # live, not reloaded
    await page.screenshot(path=screenshot_path("dashboard-overview.png"), full_page=True)


async def test_a_thousand_positions_filter_in_the_browser_and_a_remark_is_one_small_message(
    running: Running, channel: grpc.aio.Channel, browser: Browser
) -> None:
    made = await spot_accounts(Stub(channel), ["Many", "Few"])
    many = await many_open(running.server, made[0].id, 990)
    few = await many_open(running.server, made[1].id, 10)
    page = await browser.new_page()
    frames = received(page)
    await sign_in(page, running)
    positions = page.locator(".q-card").filter(has_text="Open positions")
    await expect(positions.get_by_text("1000 of 1000 open")).to_be_visible()
    rows = positions.locator(".ag-center-cols-container [role=row]")
    top = rows.and_(page.locator("[row-index='0']"))
    newest = max([*many, *few], key=lambda v: v.opened_at)
    await expect(top).to_have_attribute("row-id", str(newest.id))  # newest opened first
    assert await rows.count() < 100  # only the rows in view are drawn

    picked = len(frames)
    await page.get_by_label("Account", exact=True).click()
    await page.get_by_role("option", name="Few", exact=True).click()
    await expect(positions.get_by_text("10 of 1000 open")).to_be_visible()
    await expect(rows).to_have_count(10)
    ids = await rows.evaluate_all("rows => rows.map(r => r.getAttribute('row-id'))")
    assert set(ids) == {str(v.id) for v in few}
    newest = max(few, key=lambda v: v.opened_at)
    await expect(top).to_have_attribute("row-id", str(newest.id))
    after = [len(f) for f in frames[picked:]]
    # The grid filters in the browser: a filter model of a few bytes, no rows again.
    assert any("setFilterModel" in text(f) for f in frames[picked:])
    assert max(after) < 2000, after

    marked = len(frames)
    remark(running.server, [newest], "101.5")
    await expect(top.get_by_text("101.5", exact=True)).to_be_visible()
    carrying = [f for f in frames[marked:] if "101.5" in text(f)]
    # One message with one row (measured: 625 B), not the 1000 rows again (the page's first
    # messages carried them: 415 kB).
    assert len(carrying) == 1 and len(carrying[0]) < 1500, [len(f) for f in carrying]
    assert "applyTransaction" in text(carrying[0])

    # How long each has been open: counted in the browser, as held_for says it.
    offsets = [0, 5, 59, 60, 600, 3 * 3600 + 300, 86400 - 1, 2 * 86400 + 4 * 3600]
    counted = await page.evaluate(HELD_OF, offsets)
    now = datetime.now(UTC)
    assert counted == [held_for(stamp(now - timedelta(seconds=s)), now) for s in offsets]
    now = datetime.now(UTC)
    either = {held_for(stamp(newest.opened_at), now + timedelta(seconds=s)) for s in (0, 10)}
    await expect(top.locator("[col-id='held']")).to_have_text(
        re.compile("^(" + "|".join(map(re.escape, either)) + ")$")
    )

    # The Close of a row by keyboard: Tab into the grid, down to the first row, right to Close.
    await page.get_by_label("Side", exact=True).focus()
    await page.keyboard.press("Tab")
    await page.keyboard.press("ArrowDown")
    focused = page.locator(":focus")
    for _ in range(20):
        if await focused.get_attribute("col-id") == "close":
            break
        await page.keyboard.press("ArrowRight")
    name = f"Close pseudo long {newest.symbol} on Few"
    await expect(focused.get_by_role("button", name=name, exact=True)).to_be_visible()
    await page.keyboard.press("Enter")
    # No engine runs for Few: the server refuses, and the page says so next to the grid.
    refusal = positions.get_by_role("alert")
    await expect(refusal).to_contain_text(f"Could not close pseudo long 0.5 {newest.symbol} on Few")
    await page.screenshot(path=screenshot_path("dashboard-overview-positions.png"), full_page=True)
