"""Input no client should send, sent anyway: an answer that names the problem, never a server
error, never a word about internal types, and nothing before authentication."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1.connection_pb2_grpc import ConnectionServiceStub as ConnectionStub

from server.access.tokens import create_token, revoke_token
from server.app import prepare_storage
from server.stack.envoy import admin_socket
from server.storage.database import Database
from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.rpc import details
from tests.support.server_thread import ServerThread

HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
INTERNAL_WORDS = ("DecodeError", "<class", "Traceback", "protobuf", "Exception")


class Stack:
    def __init__(self, server: ServerThread, envoy: EnvoyProcess) -> None:
        self.server, self.envoy = server, envoy
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("bad-input") / "data"
    server = ServerThread(make_settings(data)).start()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    stack = Stack(server, envoy)
    yield stack
    stack.http.close()
    envoy.stop()
    server.stop()


def plain(response: httpx.Response) -> str:
    assert response.status_code < 500, response.text
    text = response.text
    assert not any(word in text for word in INTERNAL_WORDS), text
    return text


@pytest.mark.parametrize(
    "path",
    [
        "/api/settings/connections/%FF%FE",
        "/api/settings/connections/%C3%28/settings",
        "/api/trade-engine/status/%FF",
        "/api/connections/status/%FF%FE",
        "/api/settings/connections/%FF/logs",
    ],
)
def test_an_id_that_is_not_utf8_is_a_400_naming_it_and_401_without_a_token(
    stack: Stack, path: str
) -> None:
    response = stack.http.get(path)
    plain(response)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "id" in body["message"] and "decode" in body["message"], body
    anonymous = httpx.get(stack.envoy.base_url + path, timeout=10)
    plain(anonymous)
    assert anonymous.status_code == 401, anonymous.text


def naive(token: str) -> str:
    """The list's own token, its time re-encoded without a zone (as a careless client might)."""
    payload = json.loads(base64.urlsafe_b64decode(token))
    payload["c"] = payload["c"].split("+")[0]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def test_page_tokens_edited_to_a_naive_time_are_refused(stack: Stack) -> None:
    for i in range(2):
        made = stack.http.post(
            "/api/settings/connections",
            json={"name": f"paged {i}", "exchange": "okx", "api_type": "spot"},
        )
        assert made.status_code == 200, made.text
    first = stack.http.get("/api/settings/connections", params={"pageSize": 1}).json()
    edited = stack.http.get(
        "/api/settings/connections",
        params={"pageSize": 1, "pageToken": naive(first["next_page_token"])},
    )
    plain(edited)
    assert edited.status_code == 400 and "page_token" in edited.json()["message"]
    positions = stack.http.get(
        "/api/trading/positions", params={"pageToken": f"2020-01-01T00:00:00|{uuid.uuid4()}"}
    )
    plain(positions)
    assert positions.status_code == 400 and "page_token" in positions.json()["message"]


GARBAGE = [
    ("/cts.connection.v1.ConnectionService/GetConnection", b"\x0a\x02\xff\xfe", "id"),
    ("/cts.connection.v1.ConnectionService/GetConnection", b"\x0a\x05ab", "id"),
    ("/cts.engine.v1.EngineService/StartEngine", b"\x0a\x01\xc3", "connection_id"),
    ("/cts.monitoring.v1.MonitoringService/ListLogs", b"\xff\xff\xff", "request"),
    (
        "/cts.connection.v1.ConnectionService/CreateConnection",
        b"\x0a\x04\x12\x02\xff\xff",  # connection { name: <not UTF-8> }
        "connection.name",
    ),
]


@pytest.mark.parametrize(("method", "body", "field"), GARBAGE)
async def test_undecodable_grpc_requests_are_invalid_argument_after_authentication(
    stack: Stack, method: str, body: bytes, field: str
) -> None:
    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await call(body)
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(body, metadata=auth())
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(refused.value)[1], details(refused.value)
    assert not any(word in (refused.value.details() or "") for word in INTERNAL_WORDS)


@pytest.mark.parametrize(
    "query",
    [
        "connection.api_key=Q-KEY-123456&connection.api_secret=Q-SECRET-654321",
        "connection.apiSecret=Q-SECRET-654321",
        "updateMask=name&connection.apiPassphrase=Q-PASS-777777",
        "connection.api%5Fkey=Q-KEY-123456",  # the name percent-encoded
        "connection%2EapiSecret=Q-SECRET-654321",
        "connection.API_KEY=Q-KEY-123456",
    ],
)
def test_credentials_in_a_query_string_are_refused_and_never_logged(
    stack: Stack, query: str
) -> None:
    made = stack.http.post(
        "/api/settings/connections",
        json={"name": f"query {uuid.uuid4()}", "exchange": "bybit", "api_type": "spot"},
    ).json()
    response = stack.http.patch(f"/api/settings/connections/{made['id']}?{query}", content=b"")
    plain(response)
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    assert "request body" in response.json()["message"]
    after = stack.http.get(f"/api/settings/connections/{made['id']}").json()
    assert after["updated_at"] == made["updated_at"] and not after.get("api_key_hint")
    log = (stack.server.settings.resolved_data_dir / "envoy.log").read_text()
    assert "Q-SECRET" not in log and "Q-KEY" not in log and "Q-PASS" not in log


def test_the_data_folder_and_its_files_are_the_owners_only(tmp_path: Path) -> None:
    """Whatever the umask and whatever an earlier version left behind."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    left = data / "left-by-an-earlier-version.txt"
    left.write_text("x")
    left.chmod(0o644)
    previous = os.umask(0o022)
    try:
        db, _ = prepare_storage(make_settings(data))
        db.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"cts.db", "master.key", left.name}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name


@pytest.mark.parametrize("via", ["grpc", "sse"])
async def test_a_revoked_tokens_open_stream_ends_unauthenticated(stack: Stack, via: str) -> None:
    """Within 1.5 token cache times (here the cache is off: the check runs every 0.5 s)."""
    db = Database(stack.server.settings.resolved_database_url, threads=1)
    name = f"watcher-{via}"
    try:
        token, _ = db.write_now(lambda s: create_token(s, name))
        if via == "grpc":
            async with grpc.aio.insecure_channel(stack.server.target) as channel:
                watch = ConnectionStub(channel).WatchConnections(
                    cpb.WatchConnectionsRequest(), metadata=(("authorization", f"Bearer {token}"),)
                )
                messages = aiter(watch)
                assert (await anext(messages)).WhichOneof("event") == "snapshot"
                db.write_now(lambda s: revoke_token(s, name))
                with pytest.raises(grpc.aio.AioRpcError) as ended:
                    async with asyncio.timeout(5):
                        while True:
                            await anext(messages)
                assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
        else:
            headers = {"authorization": f"Bearer {token}"}
            client = httpx.AsyncClient(base_url=stack.envoy.base_url, headers=headers, timeout=10)
            async with client, client.stream("GET", "/v1/connections:watch") as response:
                lines = aiter(response.aiter_lines())
                while not (await anext(lines)).startswith("data:"):
                    pass
                db.write_now(lambda s: revoke_token(s, name))
                revoked = time.monotonic()
                # The stream ends (its UNAUTHENTICATED travels in HTTP/1.1 trailers) well before
                # the next heartbeat (15 s) and the client's read timeout (10 s).
                rest = [line async for line in lines]
            assert time.monotonic() - revoked < 5, rest
            assert not any(line.startswith("data:") for line in rest), rest
    finally:
        db.close()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "\u202e\u200f\u2066"}, "name"),  # only bidi marks
        ({"name": "ok", "api_key": "KEY-1234", "api_secret": "se\x00cret-value"}, "api_secret"),
        ({"name": "ok", "api_key": "KEY\t1234", "api_secret": "secret-value"}, "api_key"),
    ],
)
def test_names_and_credentials_that_cannot_be_right_are_refused(
    stack: Stack, body: dict[str, str], field: str
) -> None:
    response = stack.http.post(
        "/api/settings/connections", json={"exchange": "okx", "api_type": "spot", **body}
    )
    plain(response)
    assert response.status_code == 400 and field in response.json()["message"], response.text
    assert "se\\u0000cret" not in response.text and "secret-value" not in response.text


def test_an_update_mask_with_output_only_fields_or_empty_paths_is_refused(stack: Stack) -> None:
    made = stack.http.post(
        "/api/settings/connections",
        json={"name": "masked over REST", "exchange": "okx", "api_type": "spot"},
    ).json()
    for query in (
        "updateMask=name,,",
        "updateMask=id",
        "updateMask=created_at,name",
        "update_mask=api_key_hint",
        "updateMask=name%2C%2C",
        "update%4Dask=,name",  # the name percent-encoded
        "updateMask=",
    ):
        response = stack.http.patch(
            f"/api/settings/connections/{made['id']}?{query}", json={"name": "renamed"}
        )
        plain(response)
        assert response.status_code == 400 and "update_mask" in response.json()["message"], query
    assert stack.http.get(f"/api/settings/connections/{made['id']}").json()["name"] == (
        "masked over REST"
    )


def test_envoys_admin_is_a_private_socket_and_only_its_read_only_pages_are_relayed(
    stack: Stack,
) -> None:
    socket_path = admin_socket(stack.envoy.settings)
    mode = socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    stats = f"http://127.0.0.1:{stack.envoy.settings.envoy_admin_port}"
    assert httpx.get(f"{stats}/ready", timeout=5).text.strip() == "LIVE"
    assert "envoy_server_live" in httpx.get(f"{stats}/stats/prometheus", timeout=5).text
    for method, path in (
        ("POST", "/logging?level=debug"),
        ("GET", "/config_dump"),
        ("POST", "/quitquitquit"),
        ("POST", "/ready"),
    ):
        assert httpx.request(method, f"{stats}{path}", timeout=5).status_code == 404, path
    assert stack.http.get("/api/settings/connections").status_code == 200  # still serving


PROTOBUF_WORDS = ("Proto field", "Root element", "TYPE_", "type.googleapis.com", "scalar field")


@pytest.mark.parametrize(
    ("method", "path", "body", "words"),
    [
        ("POST", "/api/settings/connections", "[]", "request body: must be a JSON object"),
        ("POST", "/api/settings/connections", '"text"', "connection: must be a JSON object"),
        ("POST", "/api/settings/connections", '{"name": []}', "connection: a JSON array"),
        ("POST", "/api/settings/connections", '{"name": {"a": 1}}', "connection.name: a JSON"),
        ("POST", "/api/settings/connections", '{"leverage": "x"}', "connection.leverage: must be"),
        ("POST", "/api/settings/connections", '{"volume_factor": 1.5e', "not valid JSON"),
        ("POST", "/api/settings/connections/{id}/toggle", "[]", "request body: must be"),
        (
            "POST",
            "/api/settings/connections/{id}/toggle",
            '{"is_enabled": "x"}',
            "is_enabled: must be true or false",
        ),
        ("POST", "/api/settings/connections/{id}/live-trade", "[1]", "request body: must be"),
        ("POST", "/api/settings/connections/{id}/preset-type", "[]", "request body: must be"),
        ("PATCH", "/api/settings/connections/{id}", "[]", "request body: must be"),
        ("GET", "/v1/logs?pageSize=abc", None, "page_size: must be a whole number"),
    ],
)
def test_envoys_own_400s_name_the_field_in_plain_words(
    stack: Stack, method: str, path: str, body: str | None, words: str
) -> None:
    made = stack.http.post(
        "/api/settings/connections",
        json={"name": f"words {uuid.uuid4()}", "exchange": "okx", "api_type": "spot"},
    ).json()
    response = stack.http.request(
        method,
        path.replace("{id}", made["id"]),
        content=body,
        headers={"content-type": "application/json"} if body is not None else {},
    )
    text = plain(response)
    assert response.status_code == 400, text
    message = response.json()["message"]
    assert words in message, message
    assert not any(word in message for word in PROTOBUF_WORDS), message


@pytest.mark.parametrize("name", ["+", "x!y", "a#b", "tick`"])
def test_a_header_name_grpc_cannot_carry_is_a_400_naming_it(stack: Stack, name: str) -> None:
    response = stack.http.get("/api/settings/connections", headers={name: "x"})
    text = plain(response)
    assert response.status_code == 400, text
    assert f"header name '{name}'" in response.json()["message"]
