"""MonitoringService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import grpc
from cts.monitoring.v1 import monitoring_pb2 as pb
from cts.monitoring.v1 import monitoring_pb2_grpc

from server.monitoring.logs.query import log_filter, new_entry, page_size_of
from server.monitoring.logs.store import LogFilter
from server.monitoring.service import Monitoring
from server.rpc.boundary import current_principal
from server.rpc.monitoring_messages import (
    comprehensive_message,
    connection_status_message,
    log_entry_message,
    startup_report_message,
    stream_logs_message,
    structure_message,
    system_status_message,
    watch_status_message,
)


def _filter(
    request: pb.ListLogsRequest | pb.StreamLogsRequest, known: Callable[[str], str]
) -> LogFilter:
    where = log_filter(
        level=request.level,
        category=request.category,
        since=request.since,
        until=request.until,
        text=request.text,
    )
    if request.connection_id:  # after the words: a bad query is a 400 whatever the id
        where = replace(where, connection_id=known(request.connection_id))
    return where


class MonitoringServicer(monitoring_pb2_grpc.MonitoringServiceServicer):  # type: ignore[misc]
    def __init__(self, monitoring: Monitoring) -> None:
        self._monitoring = monitoring
        self._journal = monitoring.journal
        self._known = monitoring.known_connection

    async def ListLogs(
        self, request: pb.ListLogsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLogsResponse:
        where = _filter(request, self._known)
        entries, token = await self._journal.page(
            where, page_size_of(request.page_size), request.page_token
        )
        return pb.ListLogsResponse(
            entries=[log_entry_message(e) for e in entries], next_page_token=token
        )

    async def StreamLogs(
        self, request: pb.StreamLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamLogsResponse]:
        where = _filter(request, self._known)
        stream = self._journal.stream(where, tail=request.tail, after_id=request.resume_after_id)
        async for item in stream:
            yield stream_logs_message(item)

    async def WriteLog(
        self, request: pb.WriteLogRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogEntry:
        level, category = new_entry(
            request.level, request.category, request.message, request.context
        )
        connection_id = self._known(request.connection_id) if request.connection_id else None
        principal = current_principal.get()
        entry = await self._journal.write(
            level=level,
            category=category,
            message=request.message,
            connection_id=connection_id,
            context=dict(request.context),
            writer=principal.name if principal else "unknown",
        )
        return log_entry_message(entry)

    async def GetSystemStatus(
        self, request: pb.GetSystemStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.SystemStatus:
        return system_status_message(self._monitoring.status())

    async def WatchSystemStatus(
        self, request: pb.WatchSystemStatusRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchSystemStatusResponse]:
        async for status in self._monitoring.watch_status():
            yield watch_status_message(status)

    async def ListConnectionStatuses(
        self, request: pb.ListConnectionStatusesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListConnectionStatusesResponse:
        statuses = self._monitoring.connection_statuses()
        return pb.ListConnectionStatusesResponse(
            connections=[connection_status_message(s) for s in statuses]
        )

    async def GetConnectionStatus(
        self, request: pb.GetConnectionStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConnectionStatus:
        status = self._monitoring.connection_status(request.connection_id)
        return connection_status_message(status, with_engine=True)

    async def GetComprehensiveReport(
        self, request: pb.GetComprehensiveReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.ComprehensiveReport:
        return comprehensive_message(await self._monitoring.comprehensive())

    async def VerifyStartup(
        self, request: pb.VerifyStartupRequest, context: grpc.aio.ServicerContext
    ) -> pb.StartupReport:
        return startup_report_message(await self._monitoring.verify_startup())

    async def GetStructureMetrics(
        self, request: pb.GetStructureMetricsRequest, context: grpc.aio.ServicerContext
    ) -> pb.StructureMetrics:
        return structure_message(await self._monitoring.structure_metrics())
