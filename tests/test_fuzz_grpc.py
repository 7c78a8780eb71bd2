"""Hypothesis over every unary gRPC method: arbitrary bytes as the request body, and valid
messages with arbitrary field values. Whatever arrives, the answer is a status a client can act
on — never UNKNOWN or INTERNAL, never a text naming an internal type."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import SERVICE_NAMES
from tests.conftest import auth, make_settings
from tests.support.server_thread import ServerThread

SERVER_FAULTS = (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
INTERNAL_WORDS = ("DecodeError", "<class", "Traceback", "protobuf")
# Methods whose valid requests reach exchanges or run long: their undecodable bodies are fuzzed,
# their decodable ones are not (the server here has no simulator).
SLOW = {"TestConnection", "BatchTestConnections", "TestEngine"}


def unary_methods() -> list[MethodDescriptor]:
    pool = descriptor_pool.Default()
    methods = []
    for name in SERVICE_NAMES:
        service = pool.FindServiceByName(name)
        methods += [m for m in service.methods if not m.client_streaming and not m.server_streaming]
    return methods


METHODS = unary_methods()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(make_settings(tmp_path_factory.mktemp("fuzz") / "data")).start()
    yield thread
    thread.stop()


def _call(server: ServerThread, method: MethodDescriptor, body: bytes) -> grpc.StatusCode:
    async def once() -> grpc.StatusCode:
        path = f"/{method.containing_service.full_name}/{method.name}"
        async with grpc.aio.insecure_channel(server.target) as channel:
            call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
            try:
                await call(body, metadata=auth(), timeout=10)
            except grpc.aio.AioRpcError as error:
                text = error.details() or ""
                assert not any(word in text for word in INTERNAL_WORDS), (method.name, text)
                return error.code()
            return grpc.StatusCode.OK

    return asyncio.run(once())


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run (no example database either)
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.binary(max_size=64))
def test_arbitrary_bytes_never_make_a_server_error(
    server: ServerThread, method: MethodDescriptor, body: bytes
) -> None:
    request_class = GetMessageClass(method.input_type)
    try:
        request_class.FromString(body)
        decodes = True
    except Exception:
        decodes = False
    if decodes and method.name in SLOW:
        return
    code = _call(server, method, body)
    assert code not in SERVER_FAULTS, (method.name, body, code)


def _values(field: FieldDescriptor) -> st.SearchStrategy[object]:
    text = st.text(max_size=40) | st.sampled_from(["", " ", "0", "-1", "\u202e", "x" * 300])
    if field.type == FieldDescriptor.TYPE_STRING:
        return text
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        return st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31)])
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.sampled_from([0.0, -1.0, 1e308, float("nan")])
    return st.nothing()


@st.composite
def requests(draw: st.DrawFn, method: MethodDescriptor) -> bytes:
    message = GetMessageClass(method.input_type)()
    for field in method.input_type.fields:
        if field.is_repeated or field.message_type is not None:
            continue
        if draw(st.booleans()):
            value = draw(_values(field))
            try:
                setattr(message, field.name, value)
            except (TypeError, ValueError):
                continue
    return message.SerializeToString()


FAST = [m for m in METHODS if m.name not in SLOW]


@pytest.mark.parametrize("method", FAST, ids=lambda m: m.name)
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_boundary_values_never_make_a_server_error(
    server: ServerThread, method: MethodDescriptor, data: st.DataObject
) -> None:
    body = data.draw(requests(method))
    code = _call(server, method, body)
    assert code not in SERVER_FAULTS, (method.name, body, code)
