"""`cts up` as a user runs it: one foreground command for server, Envoy and dashboard."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.stack_process import Up, listening


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "data")
    yield running
    running.stop()


def test_cts_up_runs_the_stack_and_sigterm_stops_it_all(up: Up, tmp_path: Path) -> None:
    up.wait_for("Admin API token (shown once")
    up.wait_for("CTS is running")
    banner = "".join(up.output)
    http_port, webui_port = up.ports["CTS_HTTP_PORT"], up.ports["CTS_WEBUI_PORT"]
    assert f"http://127.0.0.1:{webui_port}" in banner
    assert f"http://127.0.0.1:{http_port}/api/settings/connections" in banner
    metrics_url = f"http://127.0.0.1:{up.ports['CTS_METRICS_PORT']}/metrics"
    assert metrics_url in banner
    assert "grpc_server_started_total" in httpx.get(metrics_url, timeout=10).text
    token_file = tmp_path / "data" / "admin.token"
    assert str(token_file) in banner
    token = token_file.read_text().strip()

    listed = httpx.get(
        f"http://127.0.0.1:{http_port}/api/settings/connections",
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert listed.status_code == 200
    connections = {c["name"]: c for c in listed.json()["connections"]}
    # The four seeded connections of the original system, and the demo on the simulator.
    assert len(connections) == 5
    demo = connections["Demo — simulated exchange"]
    assert demo["is_enabled"] and demo["is_active"] and demo["is_simulated"]
    # It works with no network and no keys of the user's: `cts up` runs the simulator.
    tested = httpx.post(
        f"http://127.0.0.1:{http_port}/api/settings/connections/{demo['id']}/test",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert tested.status_code == 200 and tested.json()["status"] == "success", tested.text
    assert tested.json()["is_simulated"] and tested.json()["balance"] == "10000"
    # Its engine starts on its own (enabled and active) and runs against the simulator.
    with httpx.stream(
        "GET",
        f"http://127.0.0.1:{http_port}/v1/engines:watch",
        params={"connection_id": demo["id"]},
        headers={"authorization": f"Bearer {token}"},
        timeout=60,
    ) as events:
        states = []
        for line in events.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line.removeprefix("data:"))
            engines = event.get("snapshot", {}).get("engines", [])
            if "change" in event:
                engines = [event["change"]["engine"]]
            states += [e.get("state") for e in engines]
            if "running" in states:
                break
    assert "running" in states, states
    assert httpx.get(f"http://127.0.0.1:{webui_port}/healthz", timeout=10).json() == {
        "status": "ok"
    }
    login = httpx.get(f"http://127.0.0.1:{webui_port}/connections", timeout=10)
    assert login.status_code == 307 and "/login" in login.headers["location"]

    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=30) == 0
    for port in up.ports.values():
        assert not listening(port), f"port {port} still open after `cts up` stopped"
    assert banner.count(token) == 1  # printed exactly once, at first start
