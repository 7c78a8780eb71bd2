"""The Monitoring page with NiceGUI's simulated user, against a real server whose connections
talk to a real exchange simulator: the system status stream, the health scores on the
connection stream, the start-up checks and the recent errors."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui
from nicegui.testing.user import User

from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.webui.conftest import MonitoringStub, Stub, simulated, write_log
from tests.webui.test_dashboard import sign_in

WAIT = 100  # `should_see` tries every 0.1 s; the status stream sends at most one a second


@pytest.fixture
def dashboard_settings(sim: SimulatorThread) -> dict[str, Any]:
    return {"simulator_url": sim.base_url, "demo": False}


async def open_monitoring(user: User) -> None:
    await sign_in(user)
    await user.open("/monitoring")
    await user.should_see(marker="status-connections", retries=WAIT)


async def test_the_system_status_is_shown_and_follows_a_new_connection_live(
    user: User, stub: Stub
) -> None:
    await open_monitoring(user)
    await user.should_see(
        marker="status-connections",
        content="4 connections · 0 enabled · 0 active · 0 live trading",  # the predefined ones
    )
    await user.should_see(marker="status-storage", content="storage: sqlite · reachable")
    await user.should_see(marker="status-started", content="UTC · up ")
    with user.scope(marker="status-health"):
        await user.should_see("no enabled connections")

    await stub.CreateConnection(
        pb.CreateConnectionRequest(
            connection=pb.Connection(
                name="Made now", exchange="okx", api_type="spot", is_enabled=True
            )
        ),
        metadata=auth(),
    )
    await user.should_see(  # arrived on the status stream: no reload, no timer
        marker="status-connections",
        content="5 connections · 1 enabled · 0 active · 0 live trading",
        retries=WAIT,
    )
    # Each on the status stream as well: waited for like the count.
    await user.should_see(marker="status-by-exchange", content="OKX 1", retries=WAIT)
    await user.should_see(  # never checked
        marker="band-unknown", content="no score yet 1", retries=WAIT
    )


async def test_each_connections_score_is_shown_with_its_band_and_components(
    user: User, stub: Stub, sim: SimulatorThread
) -> None:
    good = await simulated(stub, sim, "Sim good", is_enabled=True)
    # The other account's next request is answered 429: retried after a short pause, the test
    # passes, but the 429 is an error and the account paused (errors and headroom fall).
    account = sim.call(lambda: sim.simulator.open_account("bybit"))
    limited = {"rate_limit_burst": 1, "retry_after_seconds": 0.1}
    sim.call(lambda: sim.simulator.faults.set(limited, api_key=account.api_key))
    limited_one = await simulated(stub, sim, "Sim limited", account=account, is_enabled=True)
    await open_monitoring(user)
    await user.should_see(marker="score-rows", content="Sim good", retries=WAIT)
    await user.should_see(marker="score-rows", content="no data yet: never checked and no calls")

    scores: dict[str, pb.HealthScore] = {}
    for made in (good, limited_one):  # a test counts as a check, and its calls as the account's
        await stub.TestConnection(pb.TestConnectionRequest(id=made.id), metadata=auth())
        tested = await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
        scores[tested.name] = tested.health.score
    fast, limited = scores["Sim good"], scores["Sim limited"]
    assert fast.band == "operational"
    (errors,) = [c for c in limited.components if c.name == "errors"]
    assert errors.value == 0 and "rate_limited" in errors.reason  # 1 in 4 calls: budget spent
    assert limited.band == "partial_outage"  # at most 65 without the errors' 35
    await user.should_see(marker="score-rows", content="operational", retries=WAIT)
    await user.should_see(marker="score-rows", content="partial outage", retries=WAIT)  # words
    await user.should_see(marker="score-rows", content=f"errors: {errors.reason}")
    await user.should_see(marker="score-formula", content="35% errors + 25% latency")
    # Each row shows the server's score and components. They move as the rate-limit windows
    # empty (the stream brings each change): wait until the page and the server agree.
    table = user.find(marker="score-rows").elements.pop()
    assert isinstance(table, ui.table)
    for _ in range(WAIT):
        expected, shown = {}, {}
        rows = {row["name"]: row for row in table.rows}
        for made in (good, limited_one):
            now = await stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
            score = now.health.score
            expected[now.name] = (score.value, {c.name: f"{c.value:.2f}" for c in score.components})
            row = rows[now.name]
            shown[now.name] = (row["score"], {c: row[c] for c in expected[now.name][1]})
        if shown == expected:
            break
        await asyncio.sleep(0.1)
    assert shown == expected
    assert set(expected["Sim good"][1]) == {"errors", "latency", "headroom", "uptime"}
    assert [row["name"] for row in table.rows][:2] == ["Sim limited", "Sim good"]  # worst first

    # The system status counts them by band and shows Bybit's rate limits.
    await user.should_see(marker="band-operational", content="operational 1", retries=WAIT)
    await user.should_see(marker="band-partial_outage", content="partial outage 1")
    with user.scope(marker="rate-bybit"):
        await user.should_see(marker="rate-text", content="% of the fullest limit · ")


@pytest.fixture
def data_folder(dashboard_server: ServerThread) -> Iterator[Path]:
    folder = dashboard_server.settings.resolved_data_dir
    mode = stat.S_IMODE(folder.stat().st_mode)
    yield folder
    folder.chmod(mode)


async def test_the_start_up_checks_are_listed_with_their_statuses_and_run_again(
    user: User, data_folder: Path
) -> None:
    await open_monitoring(user)  # the checks run as the page opens
    await user.should_see(marker="checks-overall", content="overall: warn", retries=WAIT)
    await user.should_see(marker="checks-when", content="UTC in")
    for shown in ("Storage", "Schema", "Master key", "Data folder", "Disk space", "Envoy"):
        await user.should_see(marker="check-rows", content=shown)
    await user.should_see(marker="check-rows", content="mode 0700: private to its owner")
    table = user.find(marker="check-rows").elements.pop()
    assert isinstance(table, ui.table)
    statuses = {row["name"]: row["status"] for row in table.rows}
    assert statuses["Storage"] == statuses["Data folder"] == "pass"
    assert statuses["Envoy"] == "warn"  # not running next to this test server

    await asyncio.to_thread(data_folder.chmod, 0o750)  # its group may now enter it
    user.find(marker="run-checks").click()
    await user.should_see(
        marker="check-rows", content="unless the group is meant to share it", retries=WAIT
    )
    statuses = {row["name"]: row["status"] for row in table.rows}
    assert statuses["Data folder"] == "warn"


async def test_recent_errors_arrive_live(user: User, monitoring: MonitoringStub) -> None:
    await open_monitoring(user)
    with user.scope(marker="recent-errors"):
        await user.should_see(marker="log-empty", content="No errors logged")
    await write_log(monitoring, "an order was refused", level="error", category="order")
    await write_log(monitoring, "only a warning", level="warning", category="order")
    with user.scope(marker="recent-errors"):
        await user.should_see(marker="log-message", content="an order was refused", retries=WAIT)
        await user.should_see(marker="log-category", content="order")
        await user.should_not_see("only a warning")
        await user.should_not_see(marker="log-empty")
