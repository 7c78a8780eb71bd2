"""EngineService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.coordinator import Coordinator
from server.engine.dry_run import EngineDryRun
from server.engine.marks import PositionEvent
from server.engine.status import Desired, EngineStatus
from server.errors import InvalidArgument
from server.rpc.engine_messages import (
    coordinator_health_message,
    status_message,
    test_result_message,
    watch_message,
)
from server.rpc.messages import batch_parts, serialized_once
from server.rpc.position_messages import (
    position_message,
    progression_message,
    watch_positions_message,
    watch_positions_messages,
)
from server.streams.watch import ViewBatch, ViewChange


def _required(connection_id: str) -> str:
    if not connection_id:
        raise InvalidArgument.field("connection_id", "required")
    return connection_id


def _no_close(request: pb.EngineCommand) -> None:
    if request.close_positions:
        raise InvalidArgument.field("close_positions", "only applies to StopEngine")


class EngineServicer(engine_pb2_grpc.EngineServiceServicer):  # type: ignore[misc]
    def __init__(self, coordinator: Coordinator, dry_run: EngineDryRun) -> None:
        self._coordinator = coordinator
        self._dry_run = dry_run

    async def StartEngine(
        self, request: pb.EngineCommand, context: grpc.aio.ServicerContext
    ) -> pb.EngineStatus:
        connection_id = _required(request.connection_id)
        _no_close(request)
        return status_message(await self._coordinator.command(connection_id, Desired.RUNNING))

    async def StopEngine(
        self, request: pb.EngineCommand, context: grpc.aio.ServicerContext
    ) -> pb.EngineStatus:
        connection_id = _required(request.connection_id)
        status = await self._coordinator.command(
            connection_id, Desired.STOPPED, close_positions=request.close_positions
        )
        return status_message(status)

    async def PauseEngine(
        self, request: pb.EngineCommand, context: grpc.aio.ServicerContext
    ) -> pb.EngineStatus:
        connection_id = _required(request.connection_id)
        _no_close(request)
        return status_message(await self._coordinator.command(connection_id, Desired.PAUSED))

    async def ResumeEngine(
        self, request: pb.EngineCommand, context: grpc.aio.ServicerContext
    ) -> pb.EngineStatus:
        connection_id = _required(request.connection_id)
        _no_close(request)
        return status_message(await self._coordinator.resume(connection_id))

    async def GetEngineStatus(
        self, request: pb.GetEngineStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.EngineStatus:
        connection_id = _required(request.connection_id)
        return status_message(await self._coordinator.status_of(connection_id))

    async def ListEngineStatuses(
        self, request: pb.ListEngineStatusesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEngineStatusesResponse:
        statuses = await self._coordinator.all()
        return pb.ListEngineStatusesResponse(engines=[status_message(s) for s in statuses])

    async def WatchEngines(
        self, request: pb.WatchEnginesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchEnginesResponse | bytes]:
        connection_id = request.connection_id if request.HasField("connection_id") else None
        stream = self._coordinator.watch(
            connection_id=connection_id,
            resume_revision=request.resume_revision,
            max_batch=request.max_batch,
        )
        async for item in stream:
            if isinstance(item, ViewBatch):
                for part in batch_parts(item, pb.WatchEnginesResponse, _engine_change):
                    yield part
            else:
                yield serialized_once(item, watch_message(item))

    async def GetCoordinatorHealth(
        self, request: pb.GetCoordinatorHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.CoordinatorHealth:
        return coordinator_health_message(self._coordinator.health())

    async def TestEngine(
        self, request: pb.TestEngineRequest, context: grpc.aio.ServicerContext
    ) -> pb.EngineTestResult:
        connection_id = _required(request.connection_id)
        return test_result_message(await self._dry_run.run(connection_id))

    async def GetEngineProgression(
        self, request: pb.GetEngineProgressionRequest, context: grpc.aio.ServicerContext
    ) -> pb.EngineProgression:
        return progression_message(await self._coordinator.all())

    async def ListPositions(
        self, request: pb.ListPositionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPositionsResponse:
        positions, token = await self._coordinator.blotter.page(
            connection_id=request.connection_id or None,
            status=request.status or None,
            mode=request.mode or None,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListPositionsResponse(
            positions=[position_message(p) for p in positions], next_page_token=token
        )

    async def ClosePosition(
        self, request: pb.ClosePositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Position:
        closed = await self._coordinator.blotter.close(
            request.position_id, confirm_live=request.confirm_live
        )
        return position_message(closed)

    async def WatchPositions(
        self, request: pb.WatchPositionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchPositionsResponse | bytes]:
        connection_id = request.connection_id if request.HasField("connection_id") else None
        stream = self._coordinator.blotter.watch(
            connection_id=connection_id,
            resume_revision=request.resume_revision,
            max_batch=request.max_batch,
        )
        async for item in stream:
            if isinstance(item, ViewBatch):
                for part in batch_parts(item, pb.WatchPositionsResponse, _position_change):
                    yield part
                continue
            for message in watch_positions_messages(item):
                yield serialized_once(item, message)


def _engine_change(change: ViewChange[EngineStatus]) -> bytes:
    encoded: bytes = serialized_once(change, watch_message(change))
    return encoded


def _position_change(change: ViewChange[PositionEvent]) -> bytes:
    encoded: bytes = serialized_once(change, watch_positions_message(change))
    return encoded
