"""The test, batch-test and health routes of the old REST face, through the real Envoy, with
connections on the exchange simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_TOKEN, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

BASE = "/api/settings/connections"
HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}


class RestDesk:
    def __init__(self, sim: SimulatorThread, server: ServerThread, envoy: EnvoyProcess) -> None:
        self.sim = sim
        self.server = server
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=20)

    def connect(self, exchange: str, *, wrong_secret: bool = False) -> dict[str, Any]:
        account = self.sim.call(lambda: self.sim.simulator.open_account(exchange))
        body = {
            "name": f"REST {exchange} {account.api_key[-6:]}",
            "exchange": exchange,
            "api_type": "spot",
            "api_key": account.api_key,
            "api_secret": "0" * 48 if wrong_secret else account.secret,
            "is_simulated": True,
        }
        if account.passphrase:
            body["api_passphrase"] = account.passphrase
        response = self.http.post(BASE, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestDesk]:
    sim = SimulatorThread().start()
    data: Path = tmp_path_factory.mktemp("rest-tests") / "data"
    server = ServerThread(make_settings(data, simulator_url=sim.base_url, demo=False)).start()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    desk = RestDesk(sim, server, envoy)
    yield desk
    desk.http.close()
    envoy.stop()
    server.stop()
    sim.stop()


def test_post_test_runs_the_test_and_returns_the_old_fields(rest: RestDesk) -> None:
    made = rest.connect("bybit")

    response = rest.http.post(f"{BASE}/{made['id']}/test")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["connection_id"] == made["id"] and body["status"] == "success"
    assert body["balance"] == "10000"  # a decimal string, never a float
    assert body["capabilities"]["read"] is True and body["capabilities"]["withdrawals"] is False
    assert len(body["log"]) == 5 and body["tested_at"].endswith("Z")
    assert [s["name"] for s in body["steps"]] == ["server_time", "balance", "permissions"]
    stored = rest.http.get(f"{BASE}/{made['id']}").json()
    assert stored["last_test_status"] == "success" and stored["last_test_balance"] == "10000"
    assert stored["last_test_log"] == body["log"]


def test_a_failed_test_is_a_200_with_the_failure_in_the_body(rest: RestDesk) -> None:
    """The test ran; its outcome is data, as in the old API (not an HTTP error)."""
    made = rest.connect("binance", wrong_secret=True)
    response = rest.http.post(f"{BASE}/{made['id']}/test")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    assert response.json()["error_reason"] == "authentication"


def test_batch_test_takes_the_old_camel_case_body(rest: RestDesk) -> None:
    made = [rest.connect(exchange) for exchange in ("binance", "bybit", "okx")]

    response = rest.http.post(f"{BASE}/batch-test", json={"connectionIds": [m["id"] for m in made]})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success_count"] == 3 and body.get("failure_count", 0) == 0
    assert [r["connection_id"] for r in body["results"]] == [m["id"] for m in made]
    again = rest.http.get(f"/v1/batchTests/{body['batch_id']}")
    assert again.status_code == 200 and again.json() == body


@pytest.mark.parametrize(
    ("payload", "status", "names"),
    [
        ({"connectionIds": [f"4f9a3c1e-0000-4000-8000-{n:012d}" for n in range(51)]}, 400, "50"),
        ({"connectionIds": []}, 400, "connection_ids"),
        ({"connectionIds": {"an": "object"}}, 400, None),
        ({"connectionIds": ["4f9a3c1e-0000-4000-8000-000000000009"]}, 404, None),
    ],
)
def test_bad_batch_tests_are_refused(
    rest: RestDesk, payload: dict[str, Any], status: int, names: str | None
) -> None:
    response = rest.http.post(f"{BASE}/batch-test", json=payload)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if names is not None:
        assert names in response.json()["message"]


def test_health_is_the_literal_route_not_a_connection_id(rest: RestDesk) -> None:
    made = rest.connect("okx")
    rest.http.post(f"{BASE}/{made['id']}/test")

    everything = rest.http.get(f"{BASE}/health")
    assert everything.status_code == 200, everything.text
    assert "connections" in everything.json() and "summary" in everything.json()
    only = rest.http.get(f"{BASE}/health", params={"id": made["id"]}).json()
    assert [h["connection_id"] for h in only["connections"]] == [made["id"]]
    assert only["connections"][0]["status"] == "healthy"
    assert only["connections"][0]["rate_limit"]["per_second_limit"] == 20
    # The health score, its band and its components (snake_case, zeros printed).
    score = only["connections"][0]["score"]
    assert [c["name"] for c in score["components"]] == ["errors", "latency", "headroom", "uptime"]
    assert [c["weight"] for c in score["components"]] == [0.35, 0.25, 0.2, 0.2]
    assert all(c["reason"] for c in score["components"]) and score["gate_reason"] == ""
    weighted = sum(c["weight"] * c["value"] for c in score["components"])
    assert abs(score["value"] - 100 * score["gate"] * weighted) <= 0.5 + 1e-9
    assert score["gate"] == 1 and score["band"] == "operational"
    okx = rest.http.get(f"{BASE}/health", params={"exchange": "okx"}).json()
    assert made["id"] in {h["connection_id"] for h in okx["connections"]}
    spot = rest.http.get(f"{BASE}/health", params={"apiType": "spot"}).json()
    assert made["id"] in {h["connection_id"] for h in spot["connections"]}
    bad = rest.http.get(f"{BASE}/health", params={"exchange": "nasdaq"})
    assert bad.status_code == 400 and "exchange" in bad.json()["message"]
    # An id-shaped path is still GetConnection.
    assert rest.http.get(f"{BASE}/{made['id']}").json()["name"] == made["name"]


def test_test_routes_need_a_token(rest: RestDesk) -> None:
    made = rest.connect("bybit")
    with httpx.Client(base_url=str(rest.http.base_url), timeout=10) as anonymous:
        for method, path, body in [
            ("POST", f"{BASE}/{made['id']}/test", None),
            ("POST", f"{BASE}/batch-test", {"connectionIds": [made["id"]]}),
            ("GET", f"{BASE}/health", None),
            ("GET", "/v1/connectionTests:watch", None),
        ]:
            response = anonymous.request(method, path, json=body)
            assert response.status_code == 401, (path, response.text)
    assert rest.http.get(f"{BASE}/{made['id']}").json().get("last_test_status", "") == ""


def test_test_logs_stream_as_server_sent_events(rest: RestDesk) -> None:
    made = rest.connect("binance")
    with rest.http.stream(
        "GET", "/v1/connectionTests:watch", params={"connection_id": made["id"]}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = (
            json.loads(line.removeprefix("data:"))
            for line in response.iter_lines()
            if line.startswith("data:")
        )
        assert next(events)["snapshot"].get("runs", []) == []
        with httpx.Client(base_url=str(rest.http.base_url), headers=HEADERS, timeout=20) as other:
            result = other.post(f"{BASE}/{made['id']}/test").json()
        states = []
        for event in events:
            if "change" in event:
                run = event["change"]["run"]
                states.append((run["state"], len(run["log"])))
                if run["state"] == "finished":
                    break
    assert states[-1] == ("finished", len(result["log"]))
    assert ("running", 1) in states and len(states) >= 4


def test_the_engine_dry_run_route_takes_the_old_body(rest: RestDesk) -> None:
    made = rest.connect("bybit")
    response = rest.http.post("/api/trade-engine/test", json={"connectionId": made["id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["connection_id"] == made["id"]
    assert [s["state"] for s in body["stages"]] == ["done"] * 7
    assert isinstance(body["history_bars"], int) and body["history_bars"] > 0  # a JSON number
    missing = rest.http.post("/api/trade-engine/test", json={})
    assert missing.status_code == 400 and "connection_id" in missing.json()["message"]
    unknown = rest.http.post(
        "/api/trade-engine/test", json={"connectionId": "5b0c6a43-0000-4000-8000-000000000001"}
    )
    assert unknown.status_code == 404


def test_engine_status_routes(rest: RestDesk) -> None:
    made = rest.connect("okx")
    everything = rest.http.get("/api/trade-engine/status-all")
    assert everything.status_code == 200, everything.text
    engines = {e["connection_id"]: e for e in everything.json()["engines"]}
    assert engines[made["id"]]["state"] == "stopped"
    one = rest.http.get(f"/api/trade-engine/status/{made['id']}")
    assert one.status_code == 200 and one.json()["desired"] == "running"
    # This server runs with CTS_ENGINES=false: commands are refused, and say why.
    refused = rest.http.post("/api/trade-engine/start", json={"connectionId": made["id"]})
    assert refused.status_code == 400 and "CTS_ENGINES" in refused.json()["message"]
    missing = rest.http.get("/api/trade-engine/status/5b0c6a43-0000-4000-8000-000000000002")
    assert missing.status_code == 404


def test_coordinator_health_route(rest: RestDesk) -> None:
    response = rest.http.get("/api/trade-engine/coordinator-health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("enabled", False) is False  # this server runs with CTS_ENGINES=false
    assert body.get("feeds", []) == []
