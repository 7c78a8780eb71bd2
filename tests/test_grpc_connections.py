"""ConnectionService over a real grpc.aio server: every RPC, its errors, and authentication."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.rpc import details
from tests.support.server_thread import ServerThread
from tests.support.storage import dump

Stub = connection_pb2_grpc.ConnectionServiceStub


async def create(stub: Stub, name: str, **fields: object) -> pb.Connection:
    values = {"exchange": "binance", "api_type": "spot", **fields}
    return await stub.CreateConnection(
        pb.CreateConnectionRequest(connection=pb.Connection(name=name, **values)), metadata=auth()
    )  # type: ignore[arg-type]


def storage(server: ServerThread) -> dict[str, list[tuple[object, ...]]]:
    from sqlalchemy import create_engine

    engine = create_engine(server.settings.resolved_database_url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


async def test_create_get_list_round_trip(connections_stub: Stub) -> None:
    created = await create(
        connections_stub,
        "Round trip",
        api_key="ROUNDTRIP-KEY-1234",
        api_secret="secret-value",
        volume_factor="2.50",
        is_enabled=True,
    )
    assert created.id and uuid.UUID(created.id)
    assert created.volume_factor == "2.5" and created.is_enabled
    assert created.api_key_hint == "****1234" and created.has_credentials
    assert (
        not created.HasField("api_key")
        and not created.HasField("api_secret")
        and not created.HasField("api_passphrase")
    )
    assert created.created_at.seconds > 0

    fetched = await connections_stub.GetConnection(
        pb.GetConnectionRequest(id=created.id), metadata=auth()
    )
    assert fetched == created
    listed = await connections_stub.ListConnections(
        pb.ListConnectionsRequest(exchange="binance"), metadata=auth()
    )
    assert [c.id for c in listed.connections] == [created.id] and listed.total_size == 1
    everything = await connections_stub.ListConnections(
        pb.ListConnectionsRequest(), metadata=auth()
    )
    assert everything.total_size == 5  # four predefined connections + this one
    assert sum(c.is_predefined for c in everything.connections) == 4


async def test_update_with_and_without_mask(connections_stub: Stub) -> None:
    made = await create(connections_stub, "Updatable", leverage=3)
    present = await connections_stub.UpdateConnection(
        pb.UpdateConnectionRequest(
            id=made.id, connection=pb.Connection(margin_type="isolated", is_enabled=False)
        ),
        metadata=auth(),
    )
    assert (present.margin_type, present.leverage, present.is_enabled) == ("isolated", 3, False)
    masked = await connections_stub.UpdateConnection(
        pb.UpdateConnectionRequest(
            id=made.id,
            connection=pb.Connection(name="ignored: not in mask", leverage=9),
            update_mask=field_mask_pb2.FieldMask(paths=["leverage"]),
        ),
        metadata=auth(),
    )
    assert (masked.name, masked.leverage) == ("Updatable", 9)
    for wrong in (["leverage", "created_at"], ["id"], ["health"], ["name", "", ""]):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await connections_stub.UpdateConnection(
                pb.UpdateConnectionRequest(
                    id=made.id,
                    connection=pb.Connection(leverage=5),
                    update_mask=field_mask_pb2.FieldMask(paths=wrong),
                ),
                metadata=auth(),
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, wrong
        assert "update_mask" in details(refused.value)[1], wrong
    reset = await connections_stub.UpdateConnection(
        pb.UpdateConnectionRequest(
            id=made.id, update_mask=field_mask_pb2.FieldMask(paths=["margin_type"])
        ),
        metadata=auth(),
    )
    assert reset.margin_type == "cross"  # named in the mask, not sent: back to the default
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await connections_stub.UpdateConnection(
            pb.UpdateConnectionRequest(
                id=made.id, update_mask=field_mask_pb2.FieldMask(paths=["colour"])
            ),
            metadata=auth(),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in details(caught.value)[1]


async def test_toggle_active_live_trade_settings_preset(connections_stub: Stub) -> None:
    made = await create(connections_stub, "Switches", api_key="SWITCHES-KEY-0001", api_secret="s")
    md = auth()
    assert (
        await connections_stub.ToggleConnection(pb.ToggleConnectionRequest(id=made.id), metadata=md)
    ).is_enabled
    assert not (
        await connections_stub.ToggleConnection(
            pb.ToggleConnectionRequest(id=made.id, is_enabled=False), metadata=md
        )
    ).is_enabled
    assert (
        await connections_stub.ActivateConnection(
            pb.ActivateConnectionRequest(id=made.id), metadata=md
        )
    ).is_active
    assert not (
        await connections_stub.DeactivateConnection(
            pb.DeactivateConnectionRequest(id=made.id), metadata=md
        )
    ).is_active
    with pytest.raises(grpc.aio.AioRpcError) as unconfirmed:
        await connections_stub.SetLiveTrade(
            pb.SetLiveTradeRequest(id=made.id, is_live_trade=True), metadata=md
        )
    assert unconfirmed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(unconfirmed.value)[0] == "LIVE_TRADE_NOT_CONFIRMED"
    live = await connections_stub.SetLiveTrade(
        pb.SetLiveTradeRequest(id=made.id, is_live_trade=True, confirm=True), metadata=md
    )
    assert live.is_live_trade
    settings = await connections_stub.UpdateTradingSettings(
        pb.UpdateTradingSettingsRequest(
            id=made.id, settings=pb.TradingSettings(volume_factor="0.5", leverage=10)
        ),
        metadata=md,
    )
    assert (settings.volume_factor, settings.leverage, settings.margin_type) == ("0.5", 10, "cross")
    assert (
        await connections_stub.GetTradingSettings(
            pb.GetTradingSettingsRequest(id=made.id), metadata=md
        )
        == settings
    )
    preset = await connections_stub.SetPresetType(
        pb.SetPresetTypeRequest(id=made.id, preset_type="aggressive"), metadata=md
    )
    assert preset.preset_type == "aggressive"


async def test_precondition_failures(connections_stub: Stub) -> None:
    bare = await create(connections_stub, "No keys")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await connections_stub.SetLiveTrade(
            pb.SetLiveTradeRequest(id=bare.id, is_live_trade=True, confirm=True), metadata=auth()
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(caught.value)[0] == "CREDENTIALS_MISSING"


async def test_delete(connections_stub: Stub) -> None:
    made = await create(connections_stub, "Doomed")
    await connections_stub.DeleteConnection(pb.DeleteConnectionRequest(id=made.id), metadata=auth())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await connections_stub.GetConnection(pb.GetConnectionRequest(id=made.id), metadata=auth())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert details(caught.value)[0] == "CONNECTION_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await connections_stub.DeleteConnection(
            pb.DeleteConnectionRequest(id=made.id), metadata=auth()
        )
    assert again.value.code() == grpc.StatusCode.NOT_FOUND


BAD_REQUESTS = [
    (
        "CreateConnection",
        pb.CreateConnectionRequest(
            connection=pb.Connection(name="", exchange="bybit", api_type="spot")
        ),
        "name",
    ),
    (
        "CreateConnection",
        pb.CreateConnectionRequest(
            connection=pb.Connection(name="n", exchange="nyse", api_type="spot")
        ),
        "exchange",
    ),
    (
        "CreateConnection",
        pb.CreateConnectionRequest(connection=pb.Connection(name="n", exchange="bybit")),
        "api_type",
    ),
    (
        "CreateConnection",
        pb.CreateConnectionRequest(
            connection=pb.Connection(name="n" * 101, exchange="bybit", api_type="spot")
        ),
        "name",
    ),
    (
        "CreateConnection",
        pb.CreateConnectionRequest(
            connection=pb.Connection(name="n", exchange="bybit", api_type="spot", volume_factor="x")
        ),
        "volume_factor",
    ),
    (
        "CreateConnection",
        pb.CreateConnectionRequest(
            connection=pb.Connection(
                name="n", exchange="bybit", api_type="spot", is_live_trade=True
            )
        ),
        "is_live_trade",
    ),
    ("GetConnection", pb.GetConnectionRequest(id=""), "id"),
    ("ListConnections", pb.ListConnectionsRequest(page_size=-5), "page_size"),
    ("ListConnections", pb.ListConnectionsRequest(api_type="swap"), "api_type"),
    ("ListConnections", pb.ListConnectionsRequest(page_token="not-a-token"), "page_token"),
    ("SetPresetType", pb.SetPresetTypeRequest(id="", preset_type="default"), "id"),
]


@pytest.mark.parametrize(("method", "request_message", "field"), BAD_REQUESTS)
async def test_bad_input_is_invalid_argument_naming_the_field_and_changes_nothing(
    server: ServerThread, connections_stub: Stub, method: str, request_message: object, field: str
) -> None:
    before = storage(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(connections_stub, method)(request_message, metadata=auth())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(caught.value)[1]
    assert field in (caught.value.details() or "")
    assert storage(server) == before


async def test_duplicate_name_is_already_exists(
    server: ServerThread, connections_stub: Stub
) -> None:
    await create(connections_stub, "Twin")
    before = storage(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(connections_stub, "TWIN")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details(caught.value)[0] == "CONNECTION_NAME_TAKEN"
    assert storage(server) == before


async def test_oversized_message_is_refused(server: ServerThread, connections_stub: Stub) -> None:
    before = storage(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(connections_stub, "big", api_secret="s" * (2 * 1024 * 1024))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert storage(server) == before


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer wrong-token"),),
        (("authorization", TEST_TOKEN),),  # no scheme
        (("authorization", "Basic " + TEST_TOKEN),),
        (("authorization", "Bearer "),),
    ],
    ids=["missing", "wrong", "no-scheme", "basic", "empty"],
)
async def test_every_rpc_needs_a_valid_token(
    server: ServerThread, connections_stub: Stub, metadata: tuple[tuple[str, str], ...]
) -> None:
    before = storage(server)
    calls = [
        connections_stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection=pb.Connection(name="x", exchange="okx", api_type="spot")
            ),
            metadata=metadata,
        ),
        connections_stub.ListConnections(pb.ListConnectionsRequest(), metadata=metadata),
        connections_stub.GetConnection(
            pb.GetConnectionRequest(id=str(uuid.uuid4())), metadata=metadata
        ),
        connections_stub.DeleteConnection(
            pb.DeleteConnectionRequest(id=str(uuid.uuid4())), metadata=metadata
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "wrong-token" not in (caught.value.details() or "")
    stream = connections_stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        await stream.read()
    assert streamed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert storage(server) == before


async def test_health_and_reflection_need_no_token(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    assert (
        await health.Check(health_pb2.HealthCheckRequest())
    ).status == health_pb2.HealthCheckResponse.SERVING
    service = await health.Check(
        health_pb2.HealthCheckRequest(service="cts.connection.v1.ConnectionService")
    )
    assert service.status == health_pb2.HealthCheckResponse.SERVING

    # A reflection client that sends no headers (the schema is public; reflection holds no data).
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names = []
    async for response in reflection.ServerReflectionInfo(iter([request])):
        names = [s.name for s in response.list_services_response.service]
    assert {
        "cts.connection.v1.ConnectionService",
        "cts.engine.v1.EngineService",
        "cts.monitoring.v1.MonitoringService",
        "cts.monitoring.v1.MarketService",
    } <= set(names)


async def test_internal_errors_reveal_only_a_reference(
    server: ServerThread, connections_stub: Stub
) -> None:
    # Break storage underneath the server: the table is gone, so every write fails in SQLAlchemy.
    from sqlalchemy import create_engine, text

    engine = create_engine(server.settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("alter table connections rename to connections_gone"))
    engine.dispose()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(connections_stub, "Never stored", api_secret="internal-error-secret")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    message = caught.value.details() or ""
    assert message.startswith("internal error (reference ")
    assert "connections" not in message and "sqlite" not in message.lower()
    assert "internal-error-secret" not in message
    assert details(caught.value)[0] == "INTERNAL"


async def test_revoked_token_is_refused(server: ServerThread, connections_stub: Stub) -> None:
    from server.access.tokens import create_token, revoke_token
    from server.storage.database import Database

    db = Database(server.settings.resolved_database_url, threads=1)
    try:
        token, _ = db.write_now(lambda s: create_token(s, "temporary"))
        md = (("authorization", f"Bearer {token}"),)
        assert (
            await connections_stub.ListConnections(pb.ListConnectionsRequest(), metadata=md)
        ).total_size == 4
        db.write_now(lambda s: revoke_token(s, "temporary"))
    finally:
        db.close()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await connections_stub.ListConnections(pb.ListConnectionsRequest(), metadata=md)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_server_runs_on_postgresql(postgres_schema_url: str, tmp_path: Path) -> None:
    thread = ServerThread(
        make_settings(tmp_path / "data", database_url=postgres_schema_url)
    ).start()
    try:
        async with grpc.aio.insecure_channel(thread.target) as channel:
            stub = Stub(channel)
            made = await create(stub, "On PostgreSQL", api_key="POSTGRES-KEY-0001", api_secret="s")
            await stub.ToggleConnection(pb.ToggleConnectionRequest(id=made.id), metadata=auth())
            listed = await stub.ListConnections(
                pb.ListConnectionsRequest(enabled=True), metadata=auth()
            )
            assert [c.name for c in listed.connections] == ["On PostgreSQL"]
    finally:
        thread.stop()
    restarted = ServerThread(
        make_settings(tmp_path / "data", database_url=postgres_schema_url)
    ).start()
    try:
        async with grpc.aio.insecure_channel(restarted.target) as channel:
            again = await Stub(channel).GetConnection(
                pb.GetConnectionRequest(id=made.id), metadata=auth()
            )
            assert again.is_enabled and again.api_key_hint == "****0001"
            everything = await Stub(channel).ListConnections(
                pb.ListConnectionsRequest(), metadata=auth()
            )
            assert everything.total_size == 5  # seeded once, not again on restart
    finally:
        restarted.stop()
