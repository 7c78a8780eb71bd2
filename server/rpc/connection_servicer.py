"""ConnectionService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from google.protobuf import empty_pb2

from server.connections.draft import SETTINGS_FIELDS
from server.connections.monitor import HealthMonitor
from server.connections.rules import connection_filter
from server.connections.service import UPDATABLE_FIELDS, Connections
from server.connections.testing import ConnectionTester
from server.rpc.connection_messages import (
    OUTPUT_ONLY_FIELDS,
    ConnectionMessages,
    batch_message,
    health_message,
    settings_message,
    test_result_message,
    test_watch_message,
)
from server.rpc.messages import masked_fields, present_fields


def _optional(message: Any, name: str) -> Any:
    """The value of an ``optional`` field, or None when it was not sent."""
    return getattr(message, name) if message.HasField(name) else None


class ConnectionServicer(connection_pb2_grpc.ConnectionServiceServicer):  # type: ignore[misc]
    def __init__(
        self, connections: Connections, tester: ConnectionTester, monitor: HealthMonitor
    ) -> None:
        self._connections = connections
        self._tester = tester
        self._monitor = monitor
        self._messages = ConnectionMessages()

    async def CreateConnection(
        self, request: pb.CreateConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        fields = present_fields(request.connection, UPDATABLE_FIELDS)
        return self._messages.of(await self._connections.create(fields))

    async def GetConnection(
        self, request: pb.GetConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        return self._messages.of(await self._connections.get(request.id))

    async def ListConnections(
        self, request: pb.ListConnectionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListConnectionsResponse:
        where = connection_filter(
            exchange=_optional(request, "exchange"),
            api_type=_optional(request, "api_type"),
            enabled=_optional(request, "enabled"),
            active=_optional(request, "active"),
        )
        page = await self._connections.list(
            where, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListConnectionsResponse(
            connections=[self._messages.of(view) for view in page.connections],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UpdateConnection(
        self, request: pb.UpdateConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        paths = list(request.update_mask.paths)
        replace_all = paths == ["*"]
        if paths and not replace_all:
            changes = masked_fields(
                request.connection, paths, settable=UPDATABLE_FIELDS, output_only=OUTPUT_ONLY_FIELDS
            )
        else:
            changes = present_fields(request.connection, UPDATABLE_FIELDS)
        view = await self._connections.update(request.id, changes, replace_all=replace_all)
        return self._messages.of(view)

    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._connections.delete(request.id)
        return empty_pb2.Empty()

    async def ToggleConnection(
        self, request: pb.ToggleConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        view = await self._connections.set_enabled(request.id, _optional(request, "is_enabled"))
        return self._messages.of(view)

    async def ActivateConnection(
        self, request: pb.ActivateConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        return self._messages.of(await self._connections.set_active(request.id, True))

    async def DeactivateConnection(
        self, request: pb.DeactivateConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        return self._messages.of(await self._connections.set_active(request.id, False))

    async def SetLiveTrade(
        self, request: pb.SetLiveTradeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        view = await self._connections.set_live_trade(
            request.id, _optional(request, "is_live_trade"), confirmed=request.confirm
        )
        return self._messages.of(view)

    async def GetTradingSettings(
        self, request: pb.GetTradingSettingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.TradingSettings:
        return settings_message(await self._connections.trading_settings(request.id))

    async def UpdateTradingSettings(
        self, request: pb.UpdateTradingSettingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.TradingSettings:
        paths = list(request.update_mask.paths)
        if paths:
            changes = masked_fields(
                request.settings, paths, settable=SETTINGS_FIELDS, output_only=set()
            )
        else:
            changes = present_fields(request.settings, SETTINGS_FIELDS)
        return settings_message(
            await self._connections.update_trading_settings(request.id, changes)
        )

    async def SetPresetType(
        self, request: pb.SetPresetTypeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Connection:
        view = await self._connections.set_preset_type(request.id, request.preset_type)
        return self._messages.of(view)

    async def WatchConnections(
        self, request: pb.WatchConnectionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:  # serialised WatchConnectionsResponse messages
        where = connection_filter(
            exchange=_optional(request, "exchange"),
            api_type=_optional(request, "api_type"),
            enabled=_optional(request, "enabled"),
            active=_optional(request, "active"),
        )
        async for item in self._connections.watch(where, resume_revision=request.resume_revision):
            yield self._messages.watch_response(item)

    async def TestConnection(
        self, request: pb.TestConnectionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConnectionTestResult:
        return test_result_message(await self._tester.test(request.id))

    async def BatchTestConnections(
        self, request: pb.BatchTestConnectionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchTestResult:
        return batch_message(await self._tester.batch(list(request.connection_ids)))

    async def GetBatchTest(
        self, request: pb.GetBatchTestRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchTestResult:
        return batch_message(self._tester.batch_result(request.batch_id))

    async def WatchConnectionTests(
        self, request: pb.WatchConnectionTestsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchConnectionTestsResponse]:
        runs = self._tester.watch(
            connection_id=_optional(request, "connection_id"),
            batch_id=_optional(request, "batch_id"),
            resume_revision=request.resume_revision,
        )
        async for item in runs:
            yield test_watch_message(item)

    async def GetConnectionHealth(
        self, request: pb.GetConnectionHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConnectionHealthResponse:
        report = await self._monitor.report(
            connection_id=_optional(request, "id"),
            exchange=_optional(request, "exchange"),
            api_type=_optional(request, "api_type"),
        )
        response = pb.GetConnectionHealthResponse(
            connections=[health_message(view.id, health) for view, health in report]
        )
        summary = response.summary
        summary.total = len(report)
        for _, health in report:
            field = health.status.value
            setattr(summary, field, getattr(summary, field) + 1)
        return response
