"""Input no client should send, sent anyway: an answer that names the problem, never a server
error, never a word about internal types, and nothing before authentication."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import grpc
import httpx
import pytest

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
