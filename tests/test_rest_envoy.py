"""The old REST paths through the real Envoy (gRPC-JSON transcoding) in front of a real server."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.ports import free_port
from tests.support.server_thread import ServerThread
from tests.support.storage import dump

BASE = "/api/settings/connections"
HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
OLD_CLIENT_PAYLOAD = {
    "name": "Old client",
    "exchange": "bybit",
    "api_type": "perpetual_futures",
    "connection_method": "library",
    "authentication_type": "api_key_secret",
    "api_key": "OLDCLIENT-KEY-7777",
    "api_secret": "old-client-secret-value",
    "api_passphrase": "old-client-passphrase",
    "margin_type": "cross",
    "position_mode": "hedge",
    "is_testnet": True,
    "is_enabled": True,
    "is_active": False,
    "preset_type": "conservative",
    "volume_factor": "1.25",
}
SECRETS = ("OLDCLIENT-KEY-7777", "old-client-secret-value", "old-client-passphrase")


class Stack:
    def __init__(self, server: ServerThread, envoy: EnvoyProcess) -> None:
        self.server = server
        self.envoy = envoy
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=10)

    def storage(self) -> dict[str, list[tuple[Any, ...]]]:
        from sqlalchemy import create_engine

        engine = create_engine(self.server.settings.resolved_database_url)
        try:
            return dump(engine)
        finally:
            engine.dispose()

    def create(self, name: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post(
            BASE, json={"name": name, "exchange": "okx", "api_type": "spot", **fields}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("rest") / "data"
    server = ServerThread(make_settings(data)).start()
    settings = server.settings.model_copy(update={"grpc_port": server.port})
    envoy = EnvoyProcess(settings).start()
    stack = Stack(server, envoy)
    yield stack
    stack.http.close()
    envoy.stop()
    server.stop()


def assert_json_error(
    response: httpx.Response, status: int, grpc_code: int, *, names: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = dict(response.json())
    assert body["code"] == grpc_code and body["message"], body
    if names is not None:
        assert names in body["message"], body
    return body


def test_old_client_json_is_accepted_and_returned(stack: Stack) -> None:
    response = stack.http.post(BASE, json=OLD_CLIENT_PAYLOAD)
    assert response.status_code == 200, response.text
    body = response.json()
    for name in (
        "name",
        "exchange",
        "api_type",
        "connection_method",
        "authentication_type",
        "margin_type",
        "position_mode",
        "is_testnet",
        "is_enabled",
        "is_active",
        "preset_type",
    ):
        assert body[name] == OLD_CLIENT_PAYLOAD[name], name
    assert body["volume_factor"] == "1.25"
    assert body["is_live_trade"] is False and body["is_predefined"] is False
    assert body["api_key_hint"] == "****7777" and body["has_credentials"] and body["has_passphrase"]
    for field in ("id", "created_at", "updated_at"):
        assert body[field]
    assert body["created_at"].endswith("Z")  # RFC 3339 / ISO-8601 in UTC
    for secret in SECRETS:
        assert secret not in response.text
    fetched = stack.http.get(f"{BASE}/{body['id']}")
    assert fetched.json() == body
    listed = stack.http.get(BASE)
    assert not any(secret in listed.text for secret in SECRETS)
    assert "api_key" not in body and "api_secret" not in body and "api_passphrase" not in body


def test_camel_case_field_names_are_accepted_too(stack: Stack) -> None:
    response = stack.http.post(
        BASE, json={"name": "Camel", "exchange": "okx", "apiType": "margin", "isEnabled": True}
    )
    assert response.status_code == 200, response.text
    assert response.json()["api_type"] == "margin" and response.json()["is_enabled"] is True


def test_list_filters_and_pagination_through_query_parameters(stack: Stack) -> None:
    made = [
        stack.create(f"Filter {i}", exchange="kraken", is_active=i == 1, is_enabled=i != 2)
        for i in range(3)
    ]
    kraken = stack.http.get(BASE, params={"exchange": "kraken"}).json()
    assert [c["id"] for c in kraken["connections"]] == [c["id"] for c in made]
    assert kraken["total_size"] == 3 and kraken["next_page_token"] == ""
    assert [
        c["name"]
        for c in stack.http.get(BASE, params={"exchange": "kraken", "active": "true"}).json()[
            "connections"
        ]
    ] == ["Filter 1"]
    assert [
        c["name"]
        for c in stack.http.get(BASE, params={"exchange": "kraken", "enabled": "false"}).json()[
            "connections"
        ]
    ] == ["Filter 2"]
    assert (
        stack.http.get(BASE, params={"exchange": "kraken", "apiType": "spot"}).json()["total_size"]
        == 3
    )
    assert (
        stack.http.get(BASE, params={"exchange": "kraken", "api_type": "margin"}).json()[
            "total_size"
        ]
        == 0
    )
    first = stack.http.get(BASE, params={"exchange": "kraken", "pageSize": 2}).json()
    assert len(first["connections"]) == 2 and first["next_page_token"]
    rest = stack.http.get(
        BASE, params={"exchange": "kraken", "pageSize": 2, "pageToken": first["next_page_token"]}
    ).json()
    assert [c["name"] for c in rest["connections"]] == ["Filter 2"]


def test_update_by_patch_and_put(stack: Stack) -> None:
    made = stack.create("Patchable", leverage=4)
    patched = stack.http.patch(f"{BASE}/{made['id']}", json={"margin_type": "isolated"}).json()
    assert (patched["margin_type"], patched["leverage"], patched["name"]) == (
        "isolated",
        4,
        "Patchable",
    )
    put = stack.http.put(f"{BASE}/{made['id']}", json={"position_mode": "hedge"}).json()
    assert (put["position_mode"], put["margin_type"]) == ("hedge", "isolated")
    masked = stack.http.patch(
        f"{BASE}/{made['id']}",
        params={"updateMask": "leverage"},
        json={"leverage": 7, "name": "not in the mask"},
    ).json()
    assert (masked["leverage"], masked["name"]) == (7, "Patchable")
    replaced = stack.http.put(
        f"{BASE}/{made['id']}",
        params={"updateMask": "*"},
        json={"name": "Replaced", "exchange": "okx", "api_type": "spot"},
    ).json()
    assert (replaced["name"], replaced["margin_type"], replaced["leverage"]) == (
        "Replaced",
        "cross",
        1,
    )


def test_state_switch_routes(stack: Stack) -> None:
    made = stack.create("Switchboard", api_key="SWITCHBOARD-KEY-1", api_secret="s")
    url = f"{BASE}/{made['id']}"
    assert stack.http.post(f"{url}/toggle").json()["is_enabled"] is True  # no body: flips
    assert stack.http.put(f"{url}/toggle", json={"is_enabled": False}).json()["is_enabled"] is False
    assert (
        stack.http.post(f"{url}/toggle", json={"is_enabled": False}).json()["is_enabled"] is False
    )
    assert stack.http.post(f"{url}/active").json()["is_active"] is True
    assert stack.http.delete(f"{url}/active").json()["is_active"] is False
    refused = stack.http.post(f"{url}/live-trade", json={"is_live_trade": True})
    assert (
        assert_json_error(refused, 400, 3, names="confirm")["details"][0]["reason"]
        == "LIVE_TRADE_NOT_CONFIRMED"
    )
    assert stack.http.post(
        f"{url}/live-trade", json={"is_live_trade": True, "confirm": True}
    ).json()["is_live_trade"]
    assert (
        stack.http.post(f"{url}/live-trade", json={"is_live_trade": False}).json()["is_live_trade"]
        is False
    )
    assert stack.http.get(f"{url}/settings").json() == {
        "margin_type": "cross",
        "position_mode": "one-way",
        "volume_factor": "1",
        "leverage": 1,
        "max_position_notional": "100",
        "max_total_notional": "500",
    }
    changed = stack.http.post(
        f"{url}/settings",
        json={"volume_factor": "0.5", "margin_type": "isolated", "maxPositionNotional": "250"},
    ).json()
    assert changed == {
        "margin_type": "isolated",
        "position_mode": "one-way",
        "volume_factor": "0.5",
        "leverage": 1,
        "max_position_notional": "250",
        "max_total_notional": "500",
    }
    over = stack.http.post(f"{url}/settings", json={"max_position_notional": "501"})
    assert "max_position_notional must not exceed max_total_notional" in str(
        assert_json_error(over, 400, 3)
    )
    assert (
        stack.http.post(f"{url}/preset-type", json={"preset_type": "aggressive"}).json()[
            "preset_type"
        ]
        == "aggressive"
    )
    deleted = stack.http.delete(url)
    assert deleted.status_code == 200 and deleted.json() == {}
    assert_json_error(stack.http.get(url), 404, 5, names=made["id"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "names"),
    [
        ("POST", BASE, '{"name": ', 400, 3, None),  # malformed JSON
        ("POST", BASE, "[1, 2]", 400, 3, None),
        ("POST", BASE, '{"name": 5, "exchange": "okx", "api_type": "spot"}', 400, 3, "name"),
        (
            "POST",
            BASE,
            '{"name": "n", "exchange": "okx", "api_type": "spot", "leverage": "ten"}',
            400,
            3,
            "leverage",
        ),
        (
            "POST",
            BASE,
            '{"name": "n", "exchange": "okx", "api_type": "spot", "volume_factor": 1.5}',
            400,
            3,
            "volume_factor",
        ),
        ("POST", BASE, '{"name": "n", "exchange": "nyse", "api_type": "spot"}', 400, 3, "exchange"),
        ("POST", BASE, '{"name": "n", "exchange": "okx"}', 400, 3, "api_type"),
        (
            "POST",
            BASE,
            json.dumps({"name": "n" * 101, "exchange": "okx", "api_type": "spot"}),
            400,
            3,
            "name",
        ),
        (
            "POST",
            BASE,
            '{"name": "n", "exchange": "okx", "api_type": "spot", "is_live_trade": true}',
            400,
            3,
            "is_live_trade",
        ),
        ("GET", BASE + "?pageSize=-1", None, 400, 3, "page_size"),
        ("GET", BASE + "?exchange=nyse", None, 400, 3, "exchange"),
        ("GET", BASE + "?pageToken=bogus", None, 400, 3, "page_token"),
        ("GET", BASE + "?colour=red", None, 400, 3, "colour"),  # unknown query parameter
        ("GET", BASE + "?enabled=perhaps", None, 400, 3, None),
        ("GET", f"{BASE}/{uuid.uuid4()}", None, 404, 5, "not found"),
        ("GET", f"{BASE}/not-a-uuid", None, 404, 5, "not-a-uuid"),
        ("PATCH", f"{BASE}/{uuid.uuid4()}", '{"name": "x"}', 404, 5, None),
        ("DELETE", f"{BASE}/{uuid.uuid4()}", None, 404, 5, None),
        ("POST", f"{BASE}/{uuid.uuid4()}/toggle", None, 404, 5, None),
        ("POST", f"{BASE}/{uuid.uuid4()}/preset-type", '{"preset_type": "default"}', 404, 5, None),
        ("GET", "/api/no/such/route", None, 404, 5, None),
        ("DELETE", BASE, None, 404, 5, None),  # a bound path with an unbound verb
        (
            "POST",
            "/api/settings/connections/x/toggle",
            '{"id": "y"}',
            400,
            3,
            None,
        ),  # body/path collision
    ],
)
def test_bad_requests_get_json_errors_and_change_nothing(
    stack: Stack,
    method: str,
    path: str,
    body: str | None,
    status: int,
    code: int,
    names: str | None,
) -> None:
    before = stack.storage()
    response = stack.http.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert_json_error(response, status, code, names=names)
    assert stack.storage() == before


def test_field_violations_are_rendered_as_details(stack: Stack) -> None:
    response = stack.http.post(BASE, json={"name": "", "exchange": "nyse", "api_type": "spot"})
    body = assert_json_error(response, 400, 3)
    by_type = {d["@type"].rsplit("/", 1)[-1]: d for d in body["details"]}
    assert by_type["google.rpc.ErrorInfo"]["reason"] == "INVALID_ARGUMENT"
    assert by_type["google.rpc.ErrorInfo"]["domain"] == "cts"
    assert {v["field"] for v in by_type["google.rpc.BadRequest"]["field_violations"]} == {
        "name",
        "exchange",
    }


def test_duplicate_names_conflict(stack: Stack) -> None:
    stack.create("Only once")
    before = stack.storage()
    body = assert_json_error(
        stack.http.post(BASE, json={"name": "ONLY ONCE", "exchange": "okx", "api_type": "spot"}),
        409,
        6,
    )
    assert body["details"][0]["reason"] == "CONNECTION_NAME_TAKEN"
    assert stack.storage() == before


def test_oversized_bodies_are_refused(stack: Stack) -> None:
    before = stack.storage()
    big = json.dumps(
        {
            "name": "big",
            "exchange": "okx",
            "api_type": "spot",
            "api_secret": "s" * (2 * 1024 * 1024),
        }
    )
    response = stack.http.post(BASE, content=big, headers={"content-type": "application/json"})
    assert_json_error(response, 413, 3, names="larger")
    assert stack.storage() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": TEST_TOKEN},
        {"authorization": "Basic abc"},
    ],
    ids=["missing", "wrong", "no-scheme", "basic"],
)
def test_requests_without_a_valid_token_are_401_and_do_nothing(
    stack: Stack, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=stack.envoy.base_url, headers=headers, timeout=10) as anonymous:
        made = stack.create(f"Target of anonymous calls {uuid.uuid4()}")
        before = stack.storage()
        for method, path, body in [
            ("GET", BASE, None),
            ("POST", BASE, {"name": "sneaky", "exchange": "okx", "api_type": "spot"}),
            ("GET", f"{BASE}/{made['id']}", None),
            ("DELETE", f"{BASE}/{made['id']}", None),
            ("POST", f"{BASE}/{made['id']}/toggle", None),
            ("POST", f"{BASE}/{made['id']}/live-trade", {"is_live_trade": True, "confirm": True}),
            ("GET", "/v1/connections:watch", None),
        ]:
            response = anonymous.request(method, path, json=body)
            assert_json_error(response, 401, 16)
    assert stack.storage() == before


def test_watch_streams_server_sent_events_with_live_changes(stack: Stack) -> None:
    with stack.http.stream(
        "GET", "/v1/connections:watch", params={"exchange": "binance"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.iter_lines())
        snapshot = next(events)
        assert "snapshot" in snapshot and int(snapshot["revision"]) > 0
        made = stack.create("Streamed over HTTP", exchange="binance")  # a change on the open stream
        added = next(events)
        assert added["change"]["type"] == "CHANGE_TYPE_ADDED"
        assert added["change"]["connection"]["id"] == made["id"]
        assert int(added["revision"]) > int(snapshot["revision"])
        stack.http.post(f"{BASE}/{made['id']}/toggle")
        modified = next(events)
        assert modified["change"]["type"] == "CHANGE_TYPE_MODIFIED"
        assert modified["change"]["connection"]["is_enabled"] is True


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data:"):
            yield json.loads(line.removeprefix("data:").strip())


def test_cors_allows_the_dashboard_origin_only(stack: Stack) -> None:
    origin = f"http://127.0.0.1:{stack.server.settings.webui_port}"
    allowed = stack.http.options(
        BASE,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        },
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    other = stack.http.options(
        BASE, headers={"origin": "http://evil.example", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
    simple = stack.http.get(BASE, headers={"origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin


async def test_native_grpc_reflection_and_health_share_the_listener(stack: Stack) -> None:
    target = f"127.0.0.1:{stack.envoy.settings.http_port}"
    async with grpc.aio.insecure_channel(target) as channel:
        listed = await connection_pb2_grpc.ConnectionServiceStub(channel).ListConnections(
            pb.ListConnectionsRequest(), metadata=auth()
        )
        assert listed.total_size >= 4
        health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names: list[str] = []
        async for response in reflection_pb2_grpc.ServerReflectionStub(
            channel
        ).ServerReflectionInfo(iter([request]), metadata=auth()):
            names = [s.name for s in response.list_services_response.service]
        assert "cts.connection.v1.ConnectionService" in names


def test_a_down_server_is_a_json_503(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", grpc_port=free_port())  # nothing listens there
    envoy = EnvoyProcess(settings).start()
    try:
        with httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=10) as client:
            assert_json_error(client.get(BASE), 503, 14)
    finally:
        envoy.stop()


def test_streams_outlive_envoys_default_route_timeout(tmp_path: Path) -> None:
    """Envoy cuts routes after 15 s by default; the watch route must stay open far longer."""
    server = ServerThread(make_settings(tmp_path / "data", stream_heartbeat_seconds=1.0)).start()
    settings = server.settings.model_copy(update={"grpc_port": server.port})
    envoy = EnvoyProcess(settings).start()
    try:
        with (
            httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=10) as client,
            client.stream("GET", "/v1/connections:watch") as response,
        ):
            events = _events(response.iter_lines())
            assert "snapshot" in next(events)
            started = time.monotonic()
            beats = 0
            while time.monotonic() - started < 17:
                assert "heartbeat" in next(events)
                beats += 1
            assert beats >= 15
            made = client.post(
                BASE, json={"name": "After 17 s", "exchange": "okx", "api_type": "spot"}
            )
            assert made.status_code == 200
            change = next(e for e in events if "change" in e)
            assert change["change"]["connection"]["name"] == "After 17 s"
    finally:
        envoy.stop()
        server.stop()
