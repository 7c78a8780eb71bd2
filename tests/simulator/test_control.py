"""The simulator's control API is for `cts` and the tests only: a token, no cross-origin
requests, JSON bodies; its request log never shows a whole API key."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from server.simulator.run import control_token
from server.simulator.server import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=3, control_token="control-token-for-this-test-0001")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_control_needs_the_token_and_health_does_not(sim: Simulator) -> None:
    faults = f"{sim.base_url}/__simulator/faults"
    slow = {"exchange": "okx", "latency_ms": 10}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.base_url}/__simulator/health") as open_health:
            assert open_health.status == 200
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic x"}):
            async with http.post(faults, json=slow, headers=headers) as refused:
                assert refused.status == 401
        assert sim.faults.effective("okx", None).latency_ms == 0  # nothing was injected
        good = {"authorization": f"Bearer {sim.control_token}"}
        async with http.post(faults, json=slow, headers=good) as accepted:
            assert accepted.status == 200
        assert sim.faults.effective("okx", None).latency_ms == 10


async def test_cross_origin_and_text_plain_requests_are_refused(sim: Simulator) -> None:
    faults = f"{sim.base_url}/__simulator/faults"
    good = {"authorization": f"Bearer {sim.control_token}"}
    async with aiohttp.ClientSession(headers=good) as http:
        # What a web page may send without a preflight: a text/plain POST, from its origin.
        async with http.post(
            faults, data='{"down": true}', headers={"origin": "http://evil.example"}
        ) as cross:
            assert cross.status == 403
        async with http.post(
            faults, data='{"down": true}', headers={"content-type": "text/plain"}
        ) as plain:
            assert plain.status == 415
    assert not sim.faults.effective("binance", None).down


async def test_the_request_log_masks_api_keys(sim: Simulator) -> None:
    account = sim.open_account("binance")
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{sim.base_url}/api/v3/account", headers={"X-MBX-APIKEY": account.api_key}
        ) as answered:
            assert answered.status in (400, 401)  # unsigned: refused, but recorded
        async with http.get(
            f"{sim.base_url}/__simulator/requests",
            headers={"authorization": f"Bearer {sim.control_token}"},
        ) as listed:
            records = await listed.json()
    keys = [r["api_key"] for r in records if r["api_key"]]
    assert keys == [f"****{account.api_key[-4:]}"]
    assert account.api_key not in str(records)


def test_the_control_token_file_is_the_owners_and_kept(tmp_path: Path) -> None:
    first = control_token(tmp_path)
    path = tmp_path / "simulator.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert control_token(tmp_path) == first
