"""Watch streams that ask for batches (``max_batch``): changes that wait together for a watcher
go out in one message, each exactly the response it would have been alone, in order; a watcher
that asks for none gets one change per message; a bad ``max_batch`` is refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.marks import PositionMarks, publish_position_event
from server.engine.positions import PositionView
from server.engine.status import EngineStatus
from tests.conftest import auth, make_settings
from tests.support.server_thread import ServerThread
from tests.support.stored_positions import store_open_positions


async def made_connection(channel: grpc.aio.Channel) -> str:
    made = await connection_pb2_grpc.ConnectionServiceStub(channel).CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(name="Batched", exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    return str(made.id)


def publish_burst(server: ServerThread, views: list[PositionView]) -> None:
    """Each position re-opened (a change each), then one engine's marks: all in one go on the
    server's loop, as a burst of fills and a mark would come."""

    async def publish() -> None:
        assert server.server is not None
        topic = server.server.position_topic
        for view in views:
            publish_position_event(topic, view)
        marked = tuple(replace(v, mark_price=D("101")) for v in views)
        publish_position_event(topic, PositionMarks(views[0].connection_id, marked))

    server.run(publish)


async def test_a_burst_comes_in_one_batch_for_a_watcher_that_asks_and_one_by_one_otherwise(
    server: ServerThread, channel: grpc.aio.Channel
) -> None:
    stub = engine_pb2_grpc.EngineServiceStub(channel)
    cid = await made_connection(channel)
    views = await store_open_positions(server.settings.resolved_database_url, cid, 5)
    batched = stub.WatchPositions(pb.WatchPositionsRequest(max_batch=4), metadata=auth())
    single = stub.WatchPositions(pb.WatchPositionsRequest(connection_id=cid), metadata=auth())
    assert (await batched.read()).WhichOneof("event") == "snapshot"
    assert (await single.read()).WhichOneof("event") == "snapshot"

    publish_burst(server, views)
    alone = [await single.read() for _ in range(6)]
    assert [m.WhichOneof("event") for m in alone] == ["change"] * 5 + ["marks"]
    first, second = await batched.read(), await batched.read()
    assert first.WhichOneof("event") == second.WhichOneof("event") == "batch"
    inner = [*first.batch.responses, *second.batch.responses]
    assert (len(first.batch.responses), len(second.batch.responses)) == (4, 2)  # max_batch: 4
    # Each exactly the message it is alone, in order; the batch carries the last revision.
    assert [m.SerializeToString() for m in inner] == [m.SerializeToString() for m in alone]
    assert first.revision == first.batch.responses[-1].revision
    assert [m.change.position.id for m in inner[:5]] == [str(v.id) for v in views]
    assert {m.position_id for m in inner[5].marks.marks} == {str(v.id) for v in views}
    batched.cancel()
    single.cancel()


@pytest.mark.parametrize("rpc", ["WatchEngines", "WatchPositions"])
async def test_a_negative_max_batch_is_refused_and_a_huge_one_lowered(
    channel: grpc.aio.Channel, rpc: str
) -> None:
    stub = engine_pb2_grpc.EngineServiceStub(channel)
    request = pb.WatchEnginesRequest if rpc == "WatchEngines" else pb.WatchPositionsRequest
    stream = getattr(stub, rpc)(request(max_batch=-1), metadata=auth())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stream.read()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_batch" in (refused.value.details() or "")
    huge = getattr(stub, rpc)(request(max_batch=2**31 - 1), metadata=auth())
    assert (await huge.read()).WhichOneof("event") == "snapshot"
    huge.cancel()


async def test_a_busy_batched_stream_sends_at_most_one_message_an_interval(
    tmp_path: Path,
) -> None:
    """CTS_STREAM_BATCH_INTERVAL_SECONDS through a real server: an idle watcher gets a change at
    once; changes that follow within the interval wait it out and come together, in order."""
    server = ServerThread(make_settings(tmp_path / "data", stream_batch_interval_seconds=1.0))
    server.start()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = engine_pb2_grpc.EngineServiceStub(channel)
            cid = await made_connection(channel)
            views = await store_open_positions(server.settings.resolved_database_url, cid, 5)
            stream = stub.WatchPositions(pb.WatchPositionsRequest(max_batch=100), metadata=auth())
            assert (await stream.read()).WhichOneof("event") == "snapshot"

            async def publish_paced() -> None:
                assert server.server is not None
                topic = server.server.position_topic
                for view in views:  # fills 10 ms apart: the stream is busy, not idle
                    publish_position_event(topic, view)
                    await asyncio.sleep(0.01)

            began = time.monotonic()
            server.run(publish_paced)
            first = await stream.read()
            second = await stream.read()
            arrived = time.monotonic()
            assert first.WhichOneof("event") == "change"  # the first at once, alone
            assert first.change.position.id == str(views[0].id)
            assert second.WhichOneof("event") == "batch"
            assert [m.change.position.id for m in second.batch.responses] == [
                str(v.id) for v in views[1:]
            ]
            assert arrived - began >= 1.0  # not before the interval after the first
            stream.cancel()
    finally:
        server.stop()


async def test_a_watcher_of_engines_gets_each_engines_latest_status_not_every_one(
    server: ServerThread, channel: grpc.aio.Channel
) -> None:
    """WatchEngines asks for latest-wins: statuses of an engine that wait for a watcher give way
    to its newest, at the newest one's turn (after another engine's status published between)."""
    stub = engine_pb2_grpc.EngineServiceStub(channel)
    stream = stub.WatchEngines(pb.WatchEnginesRequest(max_batch=100), metadata=auth())
    assert (await stream.read()).WhichOneof("event") == "snapshot"
    busy, quiet = uuid.uuid4(), uuid.uuid4()

    async def publish() -> None:
        assert server.server is not None
        topic = server.server.engine_topic
        for attempts in range(1, 51):  # fifty statuses of one engine in one go
            topic.publish(busy, EngineStatus(str(busy), attempts=attempts))
            if attempts == 10:
                topic.publish(quiet, EngineStatus(str(quiet), attempts=7))

    server.run(publish)
    message = await stream.read()
    changes = [message] if message.WhichOneof("event") == "change" else message.batch.responses
    got = [(c.change.engine.connection_id, c.change.engine.attempts) for c in changes]
    assert got == [(str(quiet), 7), (str(busy), 50)]
    stream.cancel()
