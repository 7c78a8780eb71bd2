"""Monitoring's REST face through the real Envoy: the log routes (connection logs, POST
/api/system/log, the SSE stream), system status and its SSE stream, connection statuses, the
comprehensive report, start-up checks, structure metrics; errors that name the field; Envoy's
own access log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from queue import Queue
from typing import Any

import httpx
import pytest

from server.simulator.server import Simulator
from tests.conftest import TEST_TOKEN, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
CONNECTIONS = "/api/settings/connections"


class Stack:
    def __init__(self, server: ServerThread, envoy: EnvoyProcess, sim: SimulatorThread) -> None:
        self.server, self.envoy, self.sim = server, envoy, sim
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=15)

    def envoy_log(self) -> str:
        return (self.server.settings.resolved_data_dir / "envoy.log").read_text()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    sim = SimulatorThread(Simulator(seed=3)).start()
    data = tmp_path_factory.mktemp("logs-rest") / "data"
    server = ServerThread(make_settings(data, simulator_url=sim.base_url, demo=False)).start()
    settings = server.settings.model_copy(update={"grpc_port": server.port})
    envoy = EnvoyProcess(settings).start()
    stack = Stack(server, envoy, sim)
    yield stack
    stack.http.close()
    envoy.stop()
    server.stop()
    sim.stop()


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data:"):
            yield json.loads(line.removeprefix("data:").strip())


def test_a_posted_entry_arrives_on_an_open_sse_stream(stack: Stack) -> None:
    arrived: Queue[dict[str, Any]] = Queue()
    opened = threading.Event()

    def watch() -> None:
        with stack.http.stream(
            "GET", "/v1/logs:watch", params={"category": "api", "tail": 1}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for event in _events(response):
                opened.set()
                for entry in event.get("entries", []):
                    arrived.put(entry)
                    if entry["message"] == "written over REST":
                        return

    stack.http.post("/api/system/log", json={"level": "info", "category": "api", "message": "x"})
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert opened.wait(15)  # the tail (the entry just written) came: the stream is live
    response = stack.http.post(
        "/api/system/log",
        json={
            "level": "warning",
            "category": "api",
            "message": "written over REST",
            "context": {"script": "nightly"},
        },
    )
    assert response.status_code == 200, response.text
    written = response.json()
    assert written["level"] == "warning" and written["source"] == "client:admin"
    while (entry := arrived.get(timeout=15))["message"] != "written over REST":
        pass
    assert entry["id"] == written["id"] and entry["context"] == {"script": "nightly"}
    watcher.join(15)


def test_a_failing_test_shows_on_the_connection_logs_route(stack: Stack) -> None:
    wrong = "rest-wrong-secret-9a8b7c6d"
    created = stack.http.post(
        CONNECTIONS,
        json={
            "name": "Logged over REST",
            "exchange": "binance",
            "api_type": "spot",
            "api_key": "cts-demo-binance-key-0001",
            "api_secret": wrong,
            "is_simulated": True,
        },
    ).json()
    tested = stack.http.post(f"{CONNECTIONS}/{created['id']}/test").json()
    assert tested["status"] == "failed"
    response = stack.http.get(
        f"{CONNECTIONS}/{created['id']}/logs", params={"level": "error", "pageSize": 50}
    )
    assert response.status_code == 200, response.text
    logged = response.json()["entries"]
    assert any(e["context"].get("failure") == "authentication" for e in logged), logged
    assert all(e["connection_id"] == created["id"] and e["level"] == "error" for e in logged)
    assert wrong not in response.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/logs", {"level": "loud"}, "level"),
        ("/v1/logs", {"since": "not a time"}, "since"),
        ("/v1/logs", {"pageToken": "eyJiIjogLTF9"}, "page_token"),
        ("/v1/logs", {"pageSize": "-5"}, "page_size"),
        (f"{CONNECTIONS}/4f8e2b1a-0000-4000-8000-000000000000/logs", {"category": "x"}, "category"),
    ],
)
def test_bad_queries_answer_400_naming_the_field(
    stack: Stack, path: str, params: dict[str, str], field: str
) -> None:
    response = stack.http.get(path, params=params)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


def test_unknown_connections_answer_404_and_oversized_entries_400(stack: Stack) -> None:
    missing = stack.http.get(f"{CONNECTIONS}/4f8e2b1a-0000-4000-8000-000000000000/logs")
    assert missing.status_code == 404 and missing.json()["code"] == 5
    before = client_entries(stack)
    big = stack.http.post(
        "/api/system/log", json={"level": "info", "category": "api", "message": "x" * 8193}
    )
    assert big.status_code == 400 and "message" in big.json()["message"]
    assert client_entries(stack) == before


def client_entries(stack: Stack) -> list[dict[str, Any]]:
    """Entries clients wrote (the server's own API log notes each refused request)."""
    entries = stack.http.get("/v1/logs", params={"pageSize": 1000}).json()["entries"]
    return [e for e in entries if e["source"].startswith("client:")]


def test_envoy_logs_the_real_method_and_status_and_never_the_query(stack: Stack) -> None:
    planted = "query-string-secret-55aa"
    stack.http.get(CONNECTIONS, params={"api_key": planted})
    stack.http.get("/api/no-such-route", params={"token": planted})
    stack.http.post("/api/system/log", json={"level": "info", "category": "api", "message": "m"})
    # Envoy writes its access log when each request ends; read until all three are there.
    lines: list[str] = []
    for _ in range(200):
        lines = [line for line in stack.envoy_log().splitlines() if line.startswith("[envoy]")]
        if any("/api/no-such-route" in line for line in lines) and any(
            "/api/system/log" in line for line in lines
        ):
            break
        threading.Event().wait(0.05)  # polling a file another process appends to
    text = "\n".join(lines)
    assert planted not in text and "?" not in text
    # (an unknown query parameter is refused: 400)
    assert any(f"GET {CONNECTIONS} " in line and " 400 " in line for line in lines), text
    assert any("GET /api/no-such-route " in line and " 404 " in line for line in lines), text
    assert any("POST /api/system/log " in line for line in lines), text


def test_the_status_routes_answer_with_counts_as_json_numbers(stack: Stack) -> None:
    made = stack.http.post(
        CONNECTIONS,
        json={"name": "Counted", "exchange": "okx", "api_type": "spot", "is_enabled": True},
    ).json()
    status = stack.http.get("/api/system/status").json()
    assert isinstance(status["connections"], int) and status["connections"] >= 1
    assert isinstance(status["connections_by_exchange"]["okx"], int)
    assert isinstance(status["uptime_seconds"], float | int) and status["storage"]["reachable"]
    assert set(status["log_entries_last_hour"]) == {"debug", "info", "warning", "error"}

    one = stack.http.get(f"/api/connections/status/{made['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["state"] == "inactive" and one.json()["engine"]["state"] == "stopped"
    listed = stack.http.get("/api/connections/status").json()
    assert made["id"] not in [c["connection_id"] for c in listed.get("connections", [])]
    missing = stack.http.get("/api/connections/status/4f8e2b1a-0000-4000-8000-000000000000")
    assert missing.status_code == 404

    report = stack.http.get("/api/monitoring/comprehensive").json()
    assert report["system"]["connections"] == status["connections"]
    assert any(e["exchange"] == "okx" for e in report["exchanges"])
    assert isinstance(report["trades"], int)

    checks = stack.http.get("/api/system/verify-startup").json()
    assert checks["status"] in {"pass", "warn", "fail"}
    assert {c["name"] for c in checks["checks"]} >= {"storage", "schema", "master_key"}
    assert all(isinstance(c["duration_ms"], int) for c in checks["checks"])

    metrics = stack.http.get("/api/structure/metrics").json()
    assert isinstance(metrics["process"]["rss_bytes"], float | int)
    assert isinstance(metrics["storage"]["rows"]["connections"], int)
    assert any(r["method"].endswith("/GetSystemStatus") for r in metrics["rpcs"])


def test_the_system_status_streams_over_sse(stack: Stack) -> None:
    with stack.http.stream("GET", "/v1/systemStatus:watch") as response:
        assert response.status_code == 200
        events = _events(response)
        first = next(events)["status"]
        stack.http.post(
            CONNECTIONS, json={"name": "Streamed status", "exchange": "bybit", "api_type": "spot"}
        )
        for event in events:
            if "status" in event and event["status"]["connections"] == first["connections"] + 1:
                break
        else:
            raise AssertionError("the stream ended without the new connection")
