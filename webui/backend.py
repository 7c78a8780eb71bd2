"""The dashboard's one gRPC channel to the CTS server, and calls made with a user's token.

The channel is created on app start-up (inside NiceGUI's event loop) and closed on shutdown.
Failed calls raise :class:`BackendError` with a message fit to show in a toast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from cts.access.v1 import access_pb2_grpc
from cts.connection.v1 import account_pb2_grpc, connection_pb2_grpc
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import alerts_pb2_grpc, market_pb2_grpc, monitoring_pb2_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

R = TypeVar("R")

CHANNEL_OPTIONS = (
    # Reconnect quickly after a server restart (see shared notes on NiceGUI as a gRPC client).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
)
CALL_TIMEOUT_SECONDS = 10.0
# A test makes three exchange calls, each up to the server's exchange timeout (10 s by default)
# plus waits for the account's rate limits; a batch runs at most 10 tests at a time.
TEST_TIMEOUT_SECONDS = 120.0
BATCH_TIMEOUT_SECONDS = 600.0


class BackendError(Exception):
    """A failed call: ``code`` for programs, ``message`` for people."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str = "",
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        #: The refused fields (as the request names them) and why, from the server's BadRequest.
        self.fields = fields or {}

    @classmethod
    def of(cls, error: grpc.aio.AioRpcError) -> BackendError:
        reason = ""
        fields: dict[str, str] = {}
        message = error.details() or error.code().name
        status = rpc_status.from_call(error)
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    message = "; ".join(f"{v.field}: {v.description}" for v in bad.field_violations)
                    fields = {v.field: v.description for v in bad.field_violations}
                elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason = info.reason
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            message = "the CTS server is not reachable"
        return cls(error.code(), message, reason, fields)


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class Backend:
    """Owns the channel; hands out stubs."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._channel: grpc.aio.Channel | None = None
        self.connections: Any = None
        self.engines: Any = None
        self.monitoring: Any = None
        self.market: Any = None
        self.access: Any = None
        self.accounts: Any = None
        self.alerts: Any = None

    async def open(self) -> None:
        self._channel = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        self.connections = connection_pb2_grpc.ConnectionServiceStub(self._channel)
        self.engines = engine_pb2_grpc.EngineServiceStub(self._channel)
        self.monitoring = monitoring_pb2_grpc.MonitoringServiceStub(self._channel)
        self.market = market_pb2_grpc.MarketServiceStub(self._channel)
        self.access = access_pb2_grpc.AccessServiceStub(self._channel)
        self.accounts = account_pb2_grpc.AccountServiceStub(self._channel)
        self.alerts = alerts_pb2_grpc.AlertServiceStub(self._channel)

    def connected(self) -> bool:
        """Whether the channel is connected to the server now."""
        return (
            self._channel is not None
            and self._channel.get_state() == grpc.ChannelConnectivity.READY
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def call(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        token: str,
        *,
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> R:
        """Call a unary RPC with ``token``; :class:`BackendError` on failure."""
        try:
            return await method(request, metadata=auth_metadata(token), timeout=timeout)
        except grpc.aio.AioRpcError as error:
            raise BackendError.of(error) from None
