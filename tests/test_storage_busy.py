"""Storage that stays busy is UNAVAILABLE for the caller (try again), never an internal error.

Under a burst of engine fills, SQLite's single write lock can be held past its busy timeout
(10 s); a request that needed to write then got INTERNAL. Here another connection holds the
write lock for longer than that, for real."""

from __future__ import annotations

import sqlite3

import grpc
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc

from tests.conftest import auth
from tests.support.rpc import details
from tests.support.server_thread import ServerThread


async def test_a_write_that_waits_out_the_lock_is_unavailable_and_changes_nothing(
    server: ServerThread,
    connections_stub: connection_pb2_grpc.ConnectionServiceStub,
) -> None:
    path = server.settings.resolved_database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock, and keeps it
    try:
        try:
            await connections_stub.CreateConnection(
                pb.CreateConnectionRequest(
                    connection=pb.Connection(name="busy", exchange="binance", api_type="spot")
                ),
                metadata=auth(),
            )
            raise AssertionError("the write went through a held lock")
        except grpc.aio.AioRpcError as error:
            assert error.code() is grpc.StatusCode.UNAVAILABLE
            assert "storage is busy" in (error.details() or "")
            assert details(error)[0] == "STORAGE_UNAVAILABLE"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    listed = await connections_stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
    assert "busy" not in {c.name for c in listed.connections}
