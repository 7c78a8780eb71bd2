"""Waiting for log entries in tests: entries are stored in batches, off the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc

from tests.conftest import auth


async def entries(
    stub: monitoring_pb2_grpc.MonitoringServiceStub, **query: Any
) -> list[mpb.LogEntry]:
    response = await stub.ListLogs(mpb.ListLogsRequest(**query), metadata=auth())
    return list(response.entries)


async def until_logged(
    stub: monitoring_pb2_grpc.MonitoringServiceStub, timeout: float = 10.0, **query: Any
) -> list[mpb.LogEntry]:
    """The matching entries, once StreamLogs has shown that there are any."""
    async with asyncio.timeout(timeout):
        stream = stub.StreamLogs(mpb.StreamLogsRequest(**query), metadata=auth())
        async for message in stream:
            if message.entries:
                stream.cancel()
                return await entries(stub, **query)
    raise AssertionError("the log stream ended")
