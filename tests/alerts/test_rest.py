"""/v1/alerts, /v1/alertRules and /v1/channels through the real Envoy in front of a real
server: bad input is a 4xx naming the problem with storage unchanged, and a channel's secret is
never in a response, a listing, an audit entry or a log line."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from server.alerts.delivery.contract import OutcomeListener
from server.alerts.views import AlertEvent
from server.app import CtsServer
from tests.alerts.conftest import RecordingDispatcher, delivered
from tests.conftest import TEST_TOKEN, make_settings
from tests.monitoring.test_prices import sse_events
from tests.support.envoy_process import EnvoyProcess
from tests.support.server_thread import ServerThread
from tests.support.storage import dump

HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
HMAC_SECRET = "rest-hmac-secret-NEVER-SHOWN-42"
SLACK_URL = "https://hooks.slack.test/services/T1/B1/REST-SLACK-TOKEN-77"
SECRETS = (HMAC_SECRET, SLACK_URL, "REST-SLACK-TOKEN-77")
UNKNOWN_ID = "0b5c8c7e-91d2-4c4e-9a0e-3b8f7f6a1d22"


class Stack:
    def __init__(
        self, server: ServerThread, envoy: EnvoyProcess, dispatchers: list[RecordingDispatcher]
    ) -> None:
        self.server, self.envoy, self.dispatchers = server, envoy, dispatchers
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=15)

    def storage(self) -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(self.server.settings.resolved_database_url)
        try:
            return dump(engine, with_log=False)
        finally:
            engine.dispose()

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        for secret in SECRETS:
            assert secret not in response.text
        return response.json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("alerts-rest") / "data"
    dispatchers: list[RecordingDispatcher] = []

    def dispatcher(on_outcome: OutcomeListener) -> RecordingDispatcher:
        made = RecordingDispatcher(on_outcome)
        made.answer = delivered
        dispatchers.append(made)
        return made

    make = lambda s: CtsServer(s, alert_dispatcher=dispatcher)  # noqa: E731
    server = ServerThread(make_settings(data), make).start()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    stack = Stack(server, envoy, dispatchers)
    yield stack
    stack.http.close()
    envoy.stop()
    server.stop()


@pytest.fixture(scope="module")
def hook(stack: Stack) -> dict[str, Any]:
    made: dict[str, Any] = stack.ok(
        "POST",
        "/v1/channels",
        json={
            "name": "ops hook",
            "kind": "webhook",
            "url": "http://127.0.0.1:9/in",
            "secret": HMAC_SECRET,
        },
    )
    return made


def test_channels_and_rules_round_trip_without_ever_showing_a_secret(
    stack: Stack, hook: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (hook["kind"], hook["url"], hook["has_secret"]) == (
        "webhook",
        "http://127.0.0.1:9/in",
        True,
    )
    assert "secret" not in hook
    slack = stack.ok(
        "POST", "/v1/channels", json={"name": "ops slack", "kind": "slack", "url": SLACK_URL}
    )
    assert slack["has_secret"] is True and "url" not in slack
    renamed = stack.ok("PATCH", f"/v1/channels/{slack['id']}", json={"name": "trading slack"})
    assert renamed["name"] == "trading slack" and renamed["has_secret"] is True
    listed = stack.ok("GET", "/v1/channels")
    assert {c["name"] for c in listed["channels"]} == {"ops hook", "trading slack"}
    stack.ok("GET", f"/v1/channels/{hook['id']}")

    rule = stack.ok(
        "POST",
        "/v1/alertRules",
        json={
            "kind": "circuit_open",
            "channel_ids": [hook["id"], slack["id"]],
            "quiet_from": "22:00",
            "quiet_until": "06:30",
        },
    )
    assert (rule["kind"], rule["builtin"], rule["severity"], rule["enabled"]) == (
        "circuit_open",
        False,
        "warning",
        True,
    )
    changed = stack.ok(
        "PATCH",
        f"/v1/alertRules/{rule['id']}",
        params={"updateMask": "channel_ids,quiet_from,quiet_until"},
        json={},
    )
    assert changed["channel_ids"] == [] and "quiet_from" not in changed
    stack.ok("DELETE", f"/v1/alertRules/{rule['id']}")

    tested = stack.ok("POST", f"/v1/channels/{hook['id']}:test", json={})
    assert (tested["state"], tested["status_code"]) == ("delivered", 200)
    assert stack.ok("GET", f"/v1/channels/{hook['id']}")["last_delivery"]["state"] == "delivered"

    for secret in SECRETS:
        assert secret not in caplog.text


def test_no_audit_entry_holds_a_channel_secret(stack: Stack, hook: dict[str, Any]) -> None:
    stack.ok(
        "PATCH",
        f"/v1/channels/{hook['id']}",
        params={"updateMask": "secret"},
        json={"secret": HMAC_SECRET + "-rotated"},
    )
    engine = create_engine(stack.server.settings.resolved_database_url)
    try:
        entries = dump(engine, with_log=True)["audit_entries"]
    finally:
        engine.dispose()
    text = repr(entries)
    assert "CreateChannel" in text and "UpdateChannel" in text and "secret" in text
    assert HMAC_SECRET not in text and "rotated" not in text


def token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


BAD_REQUESTS = [
    ("GET", "/v1/alerts", {"params": {"connectionId": "not-a-uuid"}}, 400, "connection_id"),
    ("GET", "/v1/alerts", {"params": {"kind": "meteor"}}, 400, "unknown kind 'meteor'"),
    ("GET", "/v1/alerts", {"params": {"pageSize": -1}}, 400, "page_size"),
    ("GET", "/v1/alerts", {"params": {"pageToken": "garbage!"}}, 400, "page_token"),
    (
        "GET",
        "/v1/alerts",
        {"params": {"pageToken": token({"b": 5, "f": "x"})}},
        400,
        "different filters",
    ),
    ("POST", "/v1/alerts/abc:acknowledge", {"json": {}}, 400, "not an alert id"),
    ("POST", "/v1/alerts:acknowledge", {"json": {"up_to_id": "1e9"}}, 400, "up_to_id"),
    ("GET", "/v1/alertRules/not-a-uuid", {}, 400, "not an alert rule id"),
    ("GET", f"/v1/alertRules/{UNKNOWN_ID}", {}, 404, UNKNOWN_ID),
    ("POST", "/v1/alertRules", {"json": {"kind": "meteor"}}, 400, "unknown kind 'meteor'"),
    (
        "POST",
        "/v1/alertRules",
        {"json": {"kind": "engine_error", "quiet_from": "25:00", "quiet_until": "06:00"}},
        400,
        "quiet_from",
    ),
    (
        "POST",
        "/v1/alertRules",
        {"json": {"kind": "engine_error", "channel_ids": [UNKNOWN_ID]}},
        400,
        f"no channel '{UNKNOWN_ID}'",
    ),
    (
        "POST",
        "/v1/alertRules",
        {"json": {"kind": "engine_error", "connection_id": "x" * 300}},
        400,
        "connection_id",
    ),
    (
        "POST",
        "/v1/channels",
        {"json": {"name": "n" * 500, "kind": "webhook", "url": "http://h/"}},
        400,
        "at most 100",
    ),
    (
        "POST",
        "/v1/channels",
        {"json": {"name": "x", "kind": "webhook", "url": "http://h/" + "a" * 3000}},
        400,
        "url",
    ),
    (
        "POST",
        "/v1/channels",
        {"json": {"name": "x", "kind": "carrier-pigeon"}},
        400,
        "unknown channel kind",
    ),
    (
        "POST",
        "/v1/channels",
        {"json": {"name": "ops hook", "kind": "webhook", "url": "http://h/"}},
        400,
        "exists",
    ),
    ("PATCH", "/v1/channels/nope", {"json": {"name": "y"}}, 400, "not a channel id"),
    ("DELETE", f"/v1/channels/{UNKNOWN_ID}", {}, 404, UNKNOWN_ID),
    ("POST", f"/v1/channels/{UNKNOWN_ID}:test", {"json": {}}, 404, UNKNOWN_ID),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "words"), BAD_REQUESTS)
def test_bad_input_is_a_4xx_naming_the_problem_and_changes_nothing(
    stack: Stack,
    hook: dict[str, Any],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    words: str,
) -> None:
    before = stack.storage()
    response = stack.http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert words in response.json()["message"], response.text
    assert stack.storage() == before


def test_builtin_rules_cannot_be_deleted_and_named_channels_cannot_either(
    stack: Stack, hook: dict[str, Any]
) -> None:
    rules = stack.ok("GET", "/v1/alertRules")["rules"]
    builtin = next(r for r in rules if r["builtin"])
    before = stack.storage()
    response = stack.http.delete(f"/v1/alertRules/{builtin['id']}")
    assert response.status_code == 400 and "builtin" in response.json()["message"]
    rule = stack.ok(
        "POST", "/v1/alertRules", json={"kind": "engine_error", "channel_ids": [hook["id"]]}
    )
    refused = stack.http.delete(f"/v1/channels/{hook['id']}")
    assert refused.status_code == 400 and rule["id"] in refused.json()["message"]
    stack.ok("DELETE", f"/v1/alertRules/{rule['id']}")
    assert stack.storage() == before


def test_alerts_stream_as_server_sent_events_with_the_unacknowledged_count(
    stack: Stack,
) -> None:
    runtime = stack.server.server.alerts if stack.server.server else None
    assert runtime is not None
    event = AlertEvent("startup_check_failed", "disk nearly full", "1 GiB free")
    (raised,) = stack.server.run(lambda: runtime.alerts.raise_event(event))
    with stack.http.stream("GET", "/v1/alerts:watch") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        snapshot = next(events)["snapshot"]
        assert snapshot["unacknowledged_count"] >= 1
        assert snapshot["alerts"][0]["id"] == str(raised.id)
        assert snapshot["alerts"][0]["title"] == "disk nearly full"
        done = stack.ok("POST", "/v1/alerts:acknowledge", json={})
        assert done["acknowledged"] == snapshot["unacknowledged_count"]
        changes = [next(events)["change"] for _ in range(done["acknowledged"])]
        assert changes[-1]["type"] == "CHANGE_TYPE_MODIFIED"
        assert changes[-1]["unacknowledged_count"] == 0
        assert {c["alert"]["acknowledged_by"] for c in changes} == {"admin"}
