"""Watch streams that ask for batches (``max_batch``): changes that wait together for a watcher
go out in one message, each exactly the response it would have been alone, in order; a watcher
that asks for none gets one change per message; a bad ``max_batch`` is refused."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.marks import PositionMarks, publish_position_event
from server.engine.positions import PositionView
from tests.conftest import auth
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
