"""RPC metrics under go-grpc-prometheus's names, so that Grafana dashboards for gRPC work as is.

``grpc_server_started_total``, ``grpc_server_handled_total`` (with ``grpc_code``, Go's names of
the codes: ``OK``, ``NotFound``, ...), ``grpc_server_msg_received_total``,
``grpc_server_msg_sent_total`` and the ``grpc_server_handling_seconds`` histogram, labelled
``grpc_type`` (unary, client_stream, server_stream, bidi_stream), ``grpc_service`` and
``grpc_method``. It must be the first interceptor, so that it sees the status the client gets
(after the error mapping of :mod:`server.rpc.boundary`). A method's labelled series are bound
once, at its first call; each call then costs a few counter steps and one observation.
Messages a handler writes with ``context.write`` (the health service's Watch) are not counted.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from server.rpc.wrapping import WrappingInterceptor

LABELS = ("grpc_type", "grpc_service", "grpc_method")
# go-grpc-prometheus's (Prometheus's default) buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KINDS = {  # the handler's attribute: (grpc_type, streaming requests, streaming responses)
    "unary_unary": ("unary", False, False),
    "unary_stream": ("server_stream", False, True),
    "stream_unary": ("client_stream", True, False),
    "stream_stream": ("bidi_stream", True, True),
}
BUILD = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}
# Go's names of the status codes (grpc-go codes.Code.String()).
GO_NAMES = {
    code: "".join(part.title() for part in code.name.split("_")) for code in grpc.StatusCode
} | {grpc.StatusCode.OK: "OK", grpc.StatusCode.CANCELLED: "Canceled"}
OK, CANCELED, UNKNOWN = "OK", "Canceled", "Unknown"


class RpcMetrics:
    """The five metric families, on a server's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, documentation: str, *extra: str) -> Counter:
            return Counter(name, documentation, [*LABELS, *extra], registry=registry)

        self.started = counter("grpc_server_started", "Total number of RPCs started on the server.")
        self.handled = counter(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            "grpc_code",
        )
        self.received = counter(
            "grpc_server_msg_received",
            "Total number of RPC stream messages received on the server.",
        )
        self.sent = counter(
            "grpc_server_msg_sent", "Total number of gRPC stream messages sent by the server."
        )
        self.seconds = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            LABELS,
            buckets=BUCKETS,
            registry=registry,
        )


class MethodMetrics:
    """One method's series, bound to its labels."""

    __slots__ = ("_handled", "_labels", "_metrics", "received", "seconds", "sent", "started")

    def __init__(self, metrics: RpcMetrics, grpc_type: str, full_method: str) -> None:
        service, _, method = full_method.lstrip("/").partition("/")
        self._labels = (grpc_type, service, method)
        self._metrics = metrics
        self.started = metrics.started.labels(*self._labels)
        self.received = metrics.received.labels(*self._labels)
        self.sent = metrics.sent.labels(*self._labels)
        self.seconds = metrics.seconds.labels(*self._labels)
        self._handled: dict[str, Counter] = {}

    def handled(self, code: str) -> Counter:
        counter = self._handled.get(code)
        if counter is None:
            counter = self._handled[code] = self._metrics.handled.labels(*self._labels, code)
        return counter


class Measured:
    """One call, from its start to its status (``with``, around the handler's work)."""

    __slots__ = ("_context", "_m", "_started")

    def __init__(self, m: MethodMetrics, context: grpc.aio.ServicerContext) -> None:
        self._m, self._context = m, context
        self._started = 0.0

    def __enter__(self) -> None:
        self._m.started.inc()
        self._started = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        code = _failure(exc, self._context) if exc is not None else _code(self._context)
        self._m.handled(code).inc()
        self._m.seconds.observe(time.perf_counter() - self._started)


class MetricsInterceptor(WrappingInterceptor):
    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._metrics = RpcMetrics(registry)

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        kind = next(k for k in KINDS if getattr(handler, k) is not None)
        grpc_type, stream_in, stream_out = KINDS[kind]
        measured = MethodMetrics(self._metrics, grpc_type, method)
        behavior = getattr(handler, kind)
        if stream_out and inspect.isasyncgenfunction(behavior):
            wrapped = _streaming(measured, behavior, stream_in)
        else:
            wrapped = _single(measured, behavior, stream_in, counts_response=not stream_out)
        return BUILD[kind](
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _single(
    m: MethodMetrics, behavior: Callable[..., Any], stream_in: bool, *, counts_response: bool
) -> Callable[..., Any]:
    """A behavior that returns its response (or writes its responses itself)."""

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        with Measured(m, context):
            response = await behavior(_received(m, request, stream_in), context)
        if counts_response:
            m.sent.inc()
        return response

    return call


def _streaming(
    m: MethodMetrics, behavior: Callable[..., AsyncIterator[Any]], stream_in: bool
) -> Callable[..., AsyncIterator[Any]]:
    """A behavior that yields its responses."""

    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        with Measured(m, context):
            async for response in behavior(_received(m, request, stream_in), context):
                m.sent.inc()
                yield response

    return call


def _received(m: MethodMetrics, request: Any, stream_in: bool) -> Any:
    if not stream_in:
        m.received.inc()
        return request

    async def counted() -> AsyncIterator[Any]:
        async for message in request:
            m.received.inc()
            yield message

    return counted()


def _code(context: grpc.aio.ServicerContext) -> str:
    """The status a handler that returned normally ends with (OK unless it set another)."""
    return _named(context.code()) or OK


def _failure(exc: BaseException, context: grpc.aio.ServicerContext) -> str:
    if isinstance(exc, grpc.aio.AbortError):  # context.abort(): the code it set
        return _named(context.code()) or UNKNOWN
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):  # the client went away
        return CANCELED
    return UNKNOWN  # what gRPC answers for an exception a handler let out


def _named(code: grpc.StatusCode | None) -> str | None:
    return None if code is None else GO_NAMES.get(code, UNKNOWN)
