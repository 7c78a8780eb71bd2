"""WatchConnections over a real grpc.aio server: snapshot, live changes, filters, resume,
heartbeats, slow subscribers and shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from cts.stream.v1 import stream_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import auth, make_settings
from tests.support.server_thread import ServerThread

Stub = connection_pb2_grpc.ConnectionServiceStub
ADDED, MODIFIED, REMOVED = (
    stream_pb2.CHANGE_TYPE_ADDED,
    stream_pb2.CHANGE_TYPE_MODIFIED,
    stream_pb2.CHANGE_TYPE_REMOVED,
)


async def create(stub: Stub, name: str, **fields: object) -> pb.Connection:
    values = {"exchange": "okx", "api_type": "spot", **fields}
    request = pb.CreateConnectionRequest(connection=pb.Connection(name=name, **values))  # type: ignore[arg-type]
    return await stub.CreateConnection(request, metadata=auth())


def change(message: pb.WatchConnectionsResponse) -> tuple[int, str]:
    assert message.WhichOneof("event") == "change", message
    return message.change.type, message.change.connection.name


async def test_snapshot_then_every_change_in_order(connections_stub: Stub) -> None:
    stream = connections_stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
    first = await stream.read()
    assert first.WhichOneof("event") == "snapshot"
    assert first.snapshot.reason == stream_pb2.SNAPSHOT_REASON_INITIAL
    assert len(first.snapshot.connections) == 4  # the predefined ones

    made = await create(connections_stub, "Watched")
    await connections_stub.ToggleConnection(pb.ToggleConnectionRequest(id=made.id), metadata=auth())
    await connections_stub.DeleteConnection(pb.DeleteConnectionRequest(id=made.id), metadata=auth())
    messages = [await stream.read() for _ in range(3)]
    assert [change(m) for m in messages] == [
        (ADDED, "Watched"),
        (MODIFIED, "Watched"),
        (REMOVED, "Watched"),
    ]
    assert messages[1].change.connection.is_enabled
    revisions = [first.revision, *(m.revision for m in messages)]
    assert revisions == sorted(set(revisions))
    assert all(m.event_time.seconds > 0 for m in messages)
    stream.cancel()


async def test_filters_turn_changes_into_entering_and_leaving(connections_stub: Stub) -> None:
    enabled_only = connections_stub.WatchConnections(
        pb.WatchConnectionsRequest(enabled=True), metadata=auth()
    )
    binance_only = connections_stub.WatchConnections(
        pb.WatchConnectionsRequest(exchange="binance"), metadata=auth()
    )
    assert len((await enabled_only.read()).snapshot.connections) == 0
    assert len((await binance_only.read()).snapshot.connections) == 0

    quiet = await create(connections_stub, "Quiet")  # disabled okx: in neither view
    await connections_stub.ToggleConnection(
        pb.ToggleConnectionRequest(id=quiet.id), metadata=auth()
    )
    await connections_stub.UpdateConnection(
        pb.UpdateConnectionRequest(id=quiet.id, connection=pb.Connection(exchange="binance")),
        metadata=auth(),
    )
    await connections_stub.ToggleConnection(
        pb.ToggleConnectionRequest(id=quiet.id), metadata=auth()
    )
    await connections_stub.DeleteConnection(
        pb.DeleteConnectionRequest(id=quiet.id), metadata=auth()
    )

    assert [change(await enabled_only.read()) for _ in range(3)] == [
        (ADDED, "Quiet"),  # enabled
        (MODIFIED, "Quiet"),  # exchange changed while enabled
        (REMOVED, "Quiet"),  # disabled; the delete that follows is not in this view
    ]
    assert [change(await binance_only.read()) for _ in range(3)] == [
        (ADDED, "Quiet"),  # became binance
        (MODIFIED, "Quiet"),  # disabled
        (REMOVED, "Quiet"),  # deleted
    ]
    enabled_only.cancel()
    binance_only.cancel()


async def test_watchers_at_one_revision_get_exactly_their_own_snapshots(
    connections_stub: Stub,
) -> None:
    """Snapshots are serialised once per revision and set of connections: watchers with other
    filters, or at a later revision, still get exactly theirs."""
    await create(connections_stub, "Binance on", exchange="binance", is_enabled=True)
    await create(connections_stub, "Okx off")
    requests = [
        pb.WatchConnectionsRequest(),
        pb.WatchConnectionsRequest(exchange="binance"),
        pb.WatchConnectionsRequest(),
        pb.WatchConnectionsRequest(enabled=False),
    ]
    streams = [connections_stub.WatchConnections(r, metadata=auth()) for r in requests]
    firsts = [await s.read() for s in streams]

    async def listed(request: pb.WatchConnectionsRequest) -> list[pb.Connection]:
        fields = {f.name: v for f, v in request.ListFields()}
        page = await connections_stub.ListConnections(
            pb.ListConnectionsRequest(page_size=1000, **fields), metadata=auth()
        )
        return list(page.connections)

    for request, first in zip(requests, firsts, strict=True):
        assert first.WhichOneof("event") == "snapshot"
        assert list(first.snapshot.connections) == await listed(request)
    assert len({f.revision for f in firsts}) == 1  # nothing changed between them
    assert [c.name for c in firsts[1].snapshot.connections] == ["Binance on"]

    made = await create(connections_stub, "Later")
    later = connections_stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
    snapshot = await later.read()
    assert snapshot.revision > firsts[0].revision
    assert list(snapshot.snapshot.connections) == await listed(pb.WatchConnectionsRequest())
    assert made.id in {c.id for c in snapshot.snapshot.connections}
    for stream in [*streams, later]:
        stream.cancel()


async def test_bad_filter_is_refused(connections_stub: Stub) -> None:
    stream = connections_stub.WatchConnections(
        pb.WatchConnectionsRequest(exchange="nyse"), metadata=auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stream.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "exchange" in (caught.value.details() or "")


async def test_resume_replays_what_was_missed_without_a_snapshot(connections_stub: Stub) -> None:
    stream = connections_stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
    snapshot = await stream.read()
    made = await create(connections_stub, "Before the break")
    seen = await stream.read()
    stream.cancel()

    await connections_stub.ToggleConnection(pb.ToggleConnectionRequest(id=made.id), metadata=auth())
    await create(connections_stub, "During the break")

    resumed = connections_stub.WatchConnections(
        pb.WatchConnectionsRequest(resume_revision=seen.revision), metadata=auth()
    )
    missed = [await resumed.read() for _ in range(2)]
    assert [change(m) for m in missed] == [
        (MODIFIED, "Before the break"),
        (ADDED, "During the break"),
    ]
    assert missed[0].revision == seen.revision + 1 and seen.revision > snapshot.revision
    resumed.cancel()


async def test_resume_from_a_revision_never_issued_starts_with_a_snapshot(
    connections_stub: Stub,
) -> None:
    stream = connections_stub.WatchConnections(
        pb.WatchConnectionsRequest(resume_revision=1), metadata=auth()
    )
    first = await stream.read()
    assert first.WhichOneof("event") == "snapshot"
    assert first.snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESUME_TOO_OLD
    assert len(first.snapshot.connections) == 4
    stream.cancel()


@pytest.fixture
def tuned_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    overrides = getattr(request, "param", {})
    thread = ServerThread(make_settings(tmp_path / "data", **overrides)).start()
    yield thread
    thread.stop()


@pytest.mark.parametrize("tuned_server", [{"stream_heartbeat_seconds": 0.2}], indirect=True)
async def test_idle_streams_get_heartbeats(tuned_server: ServerThread) -> None:
    async with grpc.aio.insecure_channel(tuned_server.target) as channel:
        stream = Stub(channel).WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
        snapshot = await stream.read()
        beat = await stream.read()
        assert beat.WhichOneof("event") == "heartbeat"
        assert beat.revision == snapshot.revision
        stream.cancel()


# A client that reads nothing, with a small HTTP/2 window: the server cannot hand its stream
# more than about a kilobyte, so the stream's own buffer (4 changes here) overflows.
SLOW_CLIENT = [("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)]


# 200 changes as fast as the server takes them: more than a token's default rate allows.
BULK = {"rate_limit_per_second": 0, "address_rate_limit_per_second": 0}


@pytest.mark.parametrize("tuned_server", [{"stream_queue_size": 4, **BULK}], indirect=True)
async def test_a_subscriber_that_does_not_read_is_resynced_and_blocks_nobody(
    tuned_server: ServerThread,
) -> None:
    # The server's own followers (account summaries, alert sources) are subscribers too.
    own = tuned_server.run(lambda: _subscribers(tuned_server))
    async with (
        grpc.aio.insecure_channel(tuned_server.target, options=SLOW_CLIENT) as slow_channel,
        grpc.aio.insecure_channel(tuned_server.target) as channel,
    ):
        stub = Stub(channel)
        slow = Stub(slow_channel).WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
        initial = await slow.read()
        names = {c.name for c in initial.snapshot.connections}
        fast = stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
        assert (await fast.read()).WhichOneof("event") == "snapshot"

        total = 200
        for i in range(total):
            await create(stub, f"bulk {i:04d}")
            # The reading subscriber sees each change at once, whatever the slow one does.
            assert change(await fast.read()) == (ADDED, f"bulk {i:04d}")

        resynced = False
        while len(names) < 4 + total:
            message = await slow.read()
            if message.WhichOneof("event") == "snapshot":
                assert message.snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESYNC
                resynced = True
                names = {c.name for c in message.snapshot.connections}
            else:
                names.add(change(message)[1])
        assert resynced, "the slow subscriber was never resynchronised"
        # Both still subscribed.
        assert tuned_server.run(lambda: _subscribers(tuned_server)) == own + 2
        slow.cancel()
        fast.cancel()


async def _subscribers(thread: ServerThread) -> int:
    assert thread.server is not None
    return thread.server.connection_topic.subscriber_count


async def test_shutdown_marks_not_serving_and_ends_streams_cleanly(tmp_path: Path) -> None:
    thread = ServerThread(make_settings(tmp_path / "data")).start()
    try:
        async with grpc.aio.insecure_channel(thread.target) as channel:
            health = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            assert (await health.read()).status == health_pb2.HealthCheckResponse.SERVING
            stream = Stub(channel).WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
            assert (await stream.read()).WhichOneof("event") == "snapshot"
            stopping = asyncio.ensure_future(asyncio.to_thread(thread.stop))
            assert (await health.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert await stream.read() is grpc.aio.EOF
            assert await stream.code() == grpc.StatusCode.OK
            await stopping
    finally:
        thread.stop()
