"""Roles and the audit trail over a real grpc.aio server (and REST through the real Envoy):
the declared table covers every RPC, every RPC answers every role as declared, every change
is audited with names but never values, and expired tokens stop working."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from cts.access.v1 import access_pb2 as apb
from cts.access.v1 import access_pb2_grpc
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from google.protobuf import descriptor_pool, field_mask_pb2
from sqlalchemy import create_engine

from server.access.roles import Role
from server.access.tokens import create_token
from server.app import SERVICE_NAMES
from server.rpc.permissions import RULES
from server.storage.database import Database
from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.cli import run_cts
from tests.support.envoy_process import EnvoyProcess
from tests.support.rpc import details
from tests.support.server_thread import ServerThread
from tests.support.storage import dump

SECRET_KEY = "AKIAROLESTESTKEY123456"
SECRET_VALUE = "s3cr3t-roles-test-value-987654"


class Stack:
    def __init__(self, server: ServerThread, envoy: EnvoyProcess, tokens: dict[Role, str]):
        self.server, self.envoy, self.tokens = server, envoy, tokens


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("roles") / "data"
    server = ServerThread(make_settings(data, token_cache_seconds=0.5)).start()
    db = Database(server.settings.resolved_database_url, threads=1)
    tokens = {Role.ADMIN: TEST_TOKEN}
    for role in (Role.VIEWER, Role.OPERATOR):
        tokens[role], _ = db.write_now(lambda s, r=role: create_token(s, r.word, r))
    db.close()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    yield Stack(server, envoy, tokens)
    envoy.stop()
    server.stop()


@pytest.fixture
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        yield channel


def cts_methods() -> dict[str, bool]:
    """Every RPC of every CTS service: full name → whether it streams responses."""
    pool = descriptor_pool.Default()
    methods = {}
    for service_name in SERVICE_NAMES:
        service = pool.FindServiceByName(service_name)
        for method in service.methods:
            methods[f"/{service.full_name}/{method.name}"] = method.server_streaming
    return methods


def test_the_table_declares_every_rpc_and_nothing_else() -> None:
    assert set(RULES) == set(cts_methods())


async def _status(channel: grpc.aio.Channel, method: str, streams: bool, token: str) -> str:
    """The status of calling ``method`` with an empty request: OK once a streaming call has
    sent its first message."""
    try:
        if streams:
            call = channel.unary_stream(method)(b"", metadata=auth(token), timeout=10)
            await call.read()
            call.cancel()
        else:
            await channel.unary_unary(method)(b"", metadata=auth(token), timeout=10)
    except grpc.aio.AioRpcError as exc:
        return str(exc.code().name)
    return "OK"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.word)
async def test_every_rpc_answers_every_role_as_the_table_declares(
    stack: Stack, channel: grpc.aio.Channel, role: Role
) -> None:
    wrong = {}
    for method, streams in sorted(cts_methods().items()):
        status = await _status(channel, method, streams, stack.tokens[role])
        denied = status == "PERMISSION_DENIED"
        if denied != (not role.allows(RULES[method].role)):
            wrong[method] = status
        assert status not in {"UNKNOWN", "INTERNAL", "UNAUTHENTICATED"}, (method, status)
    assert not wrong, wrong


async def test_a_denied_call_names_the_role_it_needs_and_changes_nothing(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    stub = connection_pb2_grpc.ConnectionServiceStub(channel)
    before = _storage(stack)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateConnection(
            cpb.CreateConnectionRequest(
                connection=cpb.Connection(name="by viewer", exchange="binance", api_type="spot")
            ),
            metadata=auth(stack.tokens[Role.VIEWER]),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "admin role" in (caught.value.details() or "")
    reason, _ = details(caught.value)
    assert reason == "ROLE_NOT_ALLOWED"
    assert _storage(stack) == before
    # Through Envoy: 403 with a JSON message.
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            stack.envoy.base_url + "/api/settings/connections",
            json={"name": "by viewer", "exchange": "binance", "api_type": "spot"},
            headers={"authorization": f"Bearer {stack.tokens[Role.OPERATOR]}"},
        )
    assert response.status_code == 403, response.text
    assert "admin role" in response.json()["message"]
    assert _storage(stack) == before


def _storage(stack: Stack) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(stack.server.settings.resolved_database_url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


async def test_every_change_is_audited_by_name_never_by_value(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    stub = connection_pb2_grpc.ConnectionServiceStub(channel)
    access = access_pb2_grpc.AccessServiceStub(channel)
    created = await stub.CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(
                name="audited", exchange="binance", api_type="spot", api_key=SECRET_KEY
            )
        ),
        metadata=auth(),
    )
    await stub.UpdateConnection(
        cpb.UpdateConnectionRequest(
            id=created.id,
            connection=cpb.Connection(api_secret=SECRET_VALUE),
            update_mask=field_mask_pb2.FieldMask(paths=["api_secret"]),
        ),
        metadata=auth(),
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.DeleteConnection(
            cpb.DeleteConnectionRequest(id=created.id),
            metadata=auth(stack.tokens[Role.OPERATOR]),
        )
    await stub.DeleteConnection(cpb.DeleteConnectionRequest(id=created.id), metadata=auth())

    page = await access.ListAuditEntries(
        apb.ListAuditEntriesRequest(target_id=created.id), metadata=auth()
    )
    seen = [(e.method.rsplit("/", 1)[1], e.token_name, e.outcome) for e in page.entries]
    # Newest first. The two deletes may be stored in either order: the refused one's entry is
    # written as its call ends, on one of storage's threads, while the admin's delete runs.
    assert set(seen[:2]) == {
        ("DeleteConnection", "admin", "OK"),
        ("DeleteConnection", "operator", "PERMISSION_DENIED"),
    }
    assert seen[2:] == [("UpdateConnection", "admin", "OK"), ("CreateConnection", "admin", "OK")]
    create_entry = page.entries[-1]
    assert "connection.api_key" in create_entry.fields and "connection.name" in create_entry.fields
    assert list(page.entries[-2].fields) == ["api_secret"]
    assert create_entry.client_address == "127.0.0.1"
    assert create_entry.role == "admin" and create_entry.token_id
    stored = json.dumps(
        dump(create_engine(stack.server.settings.resolved_database_url), with_log=True), default=str
    )
    for secret in (SECRET_KEY, SECRET_VALUE, TEST_TOKEN, *stack.tokens.values()):
        assert secret not in stored
        assert secret not in str(page)
    # Reads are not audited.
    await stub.ListConnections(cpb.ListConnectionsRequest(), metadata=auth())
    again = await access.ListAuditEntries(apb.ListAuditEntriesRequest(), metadata=auth())
    assert not any(e.method.endswith("/ListConnections") for e in again.entries)


async def test_the_trail_is_filtered_paged_and_for_admins_only(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    monitoring = channel.unary_unary("/cts.monitoring.v1.MonitoringService/WriteLog")
    from cts.monitoring.v1 import monitoring_pb2 as mpb

    since = datetime.now(UTC).isoformat()
    for n in range(5):
        await monitoring(
            mpb.WriteLogRequest(
                level="info", category="api", message=f"paging {n}"
            ).SerializeToString(),
            metadata=auth(stack.tokens[Role.OPERATOR]),
        )
    access = access_pb2_grpc.AccessServiceStub(channel)
    ids: list[int] = []
    token = ""
    while True:
        page = await access.ListAuditEntries(
            apb.ListAuditEntriesRequest(
                token_name="operator",
                method="WriteLog",
                since=since,
                page_size=2,
                page_token=token,
            ),
            metadata=auth(),
        )
        ids.extend(e.id for e in page.entries)
        assert all(e.token_name == "operator" for e in page.entries)
        token = page.next_page_token
        if not token:
            break
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await access.ListAuditEntries(
            apb.ListAuditEntriesRequest(page_token="tampered"), metadata=auth()
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (caught.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await access.ListAuditEntries(
            apb.ListAuditEntriesRequest(since="2026-01-01T00:00:00"), metadata=auth()
        )
    assert "since" in (caught.value.details() or "")
    for role in (Role.VIEWER, Role.OPERATOR):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await access.ListAuditEntries(
                apb.ListAuditEntriesRequest(), metadata=auth(stack.tokens[role])
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # REST through Envoy: the admin reads it at /v1/auditEntries; others get 403.
    url = stack.envoy.base_url + "/v1/auditEntries?tokenName=operator&method=WriteLog&pageSize=1"
    viewer = {"authorization": f"Bearer {stack.tokens[Role.VIEWER]}"}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url, headers={"authorization": f"Bearer {TEST_TOKEN}"})
        assert (await http.get(url, headers=viewer)).status_code == 403
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["entries"]) == 1 and body["next_page_token"]
    assert body["entries"][0]["method"].endswith("/WriteLog")


async def test_the_caller_learns_its_own_role(stack: Stack, channel: grpc.aio.Channel) -> None:
    access = access_pb2_grpc.AccessServiceStub(channel)
    for role, token in stack.tokens.items():
        caller = await access.GetCaller(apb.GetCallerRequest(), metadata=auth(token))
        assert caller.role == role.word and not caller.HasField("expires_at")
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(
            stack.envoy.base_url + "/v1/caller",
            headers={"authorization": f"Bearer {stack.tokens[Role.OPERATOR]}"},
        )
    assert response.json()["role"] == "operator"


async def test_an_expiring_token_works_until_it_expires_then_its_stream_ends(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    db = Database(stack.server.settings.resolved_database_url, threads=1)
    token, info = db.write_now(
        lambda s: create_token(s, "short-lived", Role.VIEWER, expires_in=timedelta(seconds=2))
    )
    db.close()
    assert info.expires_at is not None
    access = access_pb2_grpc.AccessServiceStub(channel)
    caller = await access.GetCaller(apb.GetCallerRequest(), metadata=auth(token))
    assert caller.HasField("expires_at")
    stub = connection_pb2_grpc.ConnectionServiceStub(channel)
    stream = stub.WatchConnections(cpb.WatchConnectionsRequest(), metadata=auth(token))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async with asyncio.timeout(15):
            async for _ in stream:
                pass
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await access.GetCaller(apb.GetCallerRequest(), metadata=auth(token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in (caught.value.details() or "")


def test_the_command_line_makes_role_tokens_with_expiry_and_audits_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cts(
        data, "token", "create", "--name", "ops", "--role", "operator", "--expires-in", "30d"
    )
    assert made.returncode == 0, made.stderr
    assert "operator" in made.stdout and "expires" in made.stdout
    listed = run_cts(data, "token", "list").stdout
    assert "ops" in listed and "operator" in listed and "expires" in listed
    bad = run_cts(data, "token", "create", "--name", "x", "--role", "root")
    assert bad.returncode != 0 and "role" in bad.stderr
    bad = run_cts(
        data, "token", "create", "--name", "x", "--role", "viewer", "--expires-in", "soon"
    )
    assert bad.returncode == 1 and "expires_in" in bad.stderr
    assert run_cts(data, "token", "revoke", "ops").returncode == 0
    db = Database(f"sqlite:///{data / 'cts.db'}", threads=1)
    try:
        rows = db.read_now(
            lambda s: s.exec(
                __import__("sqlmodel").text(
                    "select method, token_name from audit_entries order by id"
                )
            ).all()
        )
    finally:
        db.close()
    assert [r[0] for r in rows] == ["cts token create", "cts token revoke"]
    assert all(r[1].startswith("cli:") for r in rows)
