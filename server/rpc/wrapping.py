"""Interceptors that wrap a method's handler once and keep the wrapped handler per method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc


class WrappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Hands out, for every method it :meth:`covers`, the handler made by :meth:`wrap`."""

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or not self.covers(method):  # None: gRPC answers UNIMPLEMENTED
            return handler
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            wrapped = self._wrapped[method] = self.wrap(method, handler)
        return wrapped

    def covers(self, method: str) -> bool:
        return True

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        raise NotImplementedError


class PreSerialized(WrappingInterceptor):
    """Lets server-streaming handlers yield messages already serialised (``bytes``).

    A stream's messages shared by many subscribers are serialised once
    (:class:`server.rpc.messages.SerializedStream`), not once per subscriber. Messages are
    serialised as before. Must be the first (outermost) interceptor: the handler it returns is
    the one gRPC calls.
    """

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.unary_stream is None:
            return handler
        serialize = handler.response_serializer

        def serializer(message: Any) -> bytes:
            if type(message) is bytes or serialize is None:
                return message  # type: ignore[no-any-return]
            return serialize(message)  # type: ignore[no-any-return]

        return grpc.unary_stream_rpc_method_handler(
            handler.unary_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=serializer,
        )
