"""Helpers for gRPC calls in tests: rich error details, and waiting on the engine stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.conftest import auth


def details(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    """(ErrorInfo reason, {field: description} of BadRequest violations)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"
    reason, fields = "", {}
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "cts"
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = {v.field: v.description for v in bad.field_violations}
    return reason, fields


def engine_statuses(message: epb.WatchEnginesResponse) -> list[epb.EngineStatus]:
    """The engine statuses one WatchEngines message carries (snapshot or change)."""
    event = message.WhichOneof("event")
    if event == "snapshot":
        return list(message.snapshot.engines)
    if event == "change":
        return [message.change.engine]
    return []


async def engine_until(
    stub: engine_pb2_grpc.EngineServiceStub,
    connection_id: str,
    wanted: Callable[[epb.EngineStatus], bool],
    timeout: float = 30,
) -> epb.EngineStatus:
    """The first status of the engine (in the snapshot or a change) that ``wanted`` accepts."""
    stream = stub.WatchEngines(
        epb.WatchEnginesRequest(connection_id=connection_id), metadata=auth()
    )
    try:
        async with asyncio.timeout(timeout):
            async for message in stream:
                for status in engine_statuses(message):
                    if wanted(status):
                        return status
    finally:
        stream.cancel()
    raise AssertionError("the engine stream ended")
