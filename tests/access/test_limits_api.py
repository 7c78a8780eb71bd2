"""The abuse limits of a real server, over gRPC and through the real Envoy: a burst, then
RESOURCE_EXHAUSTED (HTTP 429) with the wait in ``retry-after``; other tokens and addresses
untouched; the open-stream cap; failed authentication slowed per address; the refusals counted
in the metrics. Limits here are small, with slow refills, so that nothing refills mid-test."""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1.connection_pb2_grpc import ConnectionServiceStub
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client.parser import text_string_to_metric_families

from server.access.tokens import create_token
from server.storage.database import Database
from tests.conftest import TEST_TOKEN, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.server_thread import ServerThread

BAD = "cts_not-a-token-of-this-server-0000"
LIST = pb.ListConnectionsRequest()


def start(data: Path, **limits: Any) -> ServerThread:
    values: dict[str, Any] = {
        "rate_limit_per_second": 0.01,
        "rate_limit_burst": 1000,
        "address_rate_limit_per_second": 0.01,
        "address_rate_limit_burst": 1000,
        **limits,
    }
    return ServerThread(make_settings(data, **values)).start()


def new_token(server: ServerThread, name: str) -> str:
    db = Database(server.settings.resolved_database_url, threads=1)
    try:
        token, _ = db.write_now(lambda s: create_token(s, name))
    finally:
        db.close()
    return token


def metadata(token: str | None = TEST_TOKEN, address: str | None = None) -> list[tuple[str, str]]:
    """A call's metadata; ``address`` as Envoy would forward it (the test's peer, 127.0.0.1,
    is a trusted proxy)."""
    items = [("authorization", f"Bearer {token}")] if token else []
    return items + ([("x-forwarded-for", address)] if address else [])


def refused_counts(server: ServerThread) -> dict[str, float]:
    """``cts_api_refused_total`` by limit, and ``cts_api_open_streams`` as ``open_streams``."""
    assert server.server is not None
    url = f"http://127.0.0.1:{server.server.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "cts_api_refused_total":
                counts[sample.labels["limit"]] = sample.value
            elif sample.name == "cts_api_open_streams":
                counts["open_streams"] = sample.value
    return counts


def retry_of(error: grpc.aio.AioRpcError) -> tuple[int, float, str]:
    """(the retry-after trailer, RetryInfo's delay in seconds, the limit from ErrorInfo)."""
    trailers = dict(error.trailing_metadata() or ())
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    delay, limit = -1.0, ""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            delay = info.retry_delay.ToMilliseconds() / 1000
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            error_info = error_details_pb2.ErrorInfo()
            detail.Unpack(error_info)
            limit = error_info.metadata["limit"]
    return int(str(trailers["retry-after"])), delay, limit


async def code_of(stub: ConnectionServiceStub, meta: list[tuple[str, str]]) -> grpc.StatusCode:
    try:
        await stub.ListConnections(LIST, metadata=meta, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.fixture
def address_burst() -> int:
    """The address burst of the test's server (tests of the address rate override this)."""
    return 1000


@pytest.fixture
def server(tmp_path: Path, address_burst: int) -> Iterator[ServerThread]:
    thread = start(
        tmp_path / "data",
        rate_limit_burst=5,
        address_rate_limit_burst=address_burst,
        auth_failure_burst=3,
        auth_failures_per_second=0.01,
        max_streams_per_token=3,
    )
    yield thread
    thread.stop()


@pytest.fixture
async def stub(server: ServerThread) -> AsyncIterator[ConnectionServiceStub]:
    async with grpc.aio.insecure_channel(server.target) as channel:
        yield ConnectionServiceStub(channel)


async def test_a_token_past_its_burst_is_refused_with_a_retry_delay_and_others_are_not(
    server: ServerThread, stub: ConnectionServiceStub
) -> None:
    other = new_token(server, "other")
    for n in range(5):
        await stub.ListConnections(LIST, metadata=metadata(address=f"198.51.100.{n}"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListConnections(LIST, metadata=metadata(address="198.51.100.9"))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    header, delay, limit = retry_of(refused.value)
    assert limit == "token_rate"
    assert 90 < delay <= 100 and header == 100  # 1 request at 0.01 per second
    assert "at most 5 at once" in (refused.value.details() or "")
    assert TEST_TOKEN not in (refused.value.details() or "")
    for n in range(5):  # another token, from the same addresses
        await stub.ListConnections(LIST, metadata=metadata(other, f"198.51.100.{n}"))
    assert refused_counts(server).get("token_rate") == 1


@pytest.mark.parametrize("address_burst", [8])
async def test_an_address_past_its_burst_is_refused_with_or_without_a_token(
    server: ServerThread, stub: ConnectionServiceStub
) -> None:
    other = new_token(server, "other")
    tokens = [TEST_TOKEN, other, None, BAD]  # two tokens, none, and a bad one: all count
    codes = [await code_of(stub, metadata(tokens[n % 4], "203.0.113.5")) for n in range(8)]
    assert grpc.StatusCode.RESOURCE_EXHAUSTED not in codes
    for token in (TEST_TOKEN, None):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListConnections(LIST, metadata=metadata(token, "203.0.113.5"))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert retry_of(refused.value)[2] == "address_rate"
    # Another address, and the test's own (127.0.0.1, without x-forwarded-for), are not affected.
    assert await code_of(stub, metadata(other, "203.0.113.6")) == grpc.StatusCode.OK
    assert await code_of(stub, metadata(other)) == grpc.StatusCode.OK
    assert refused_counts(server).get("address_rate") == 2


async def test_failed_authentication_slows_its_address_only(
    server: ServerThread, stub: ConnectionServiceStub
) -> None:
    fresh = new_token(server, "fresh")
    here, elsewhere = "192.0.2.10", "192.0.2.20"
    assert await code_of(stub, metadata(TEST_TOKEN, here)) == grpc.StatusCode.OK
    for _ in range(3):
        assert await code_of(stub, metadata(BAD, here)) == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListConnections(LIST, metadata=metadata(BAD, here))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    header, _, limit = retry_of(refused.value)
    assert limit == "failed_auth" and header == 100
    # A token this address used before still works; one it never used waits like a guess.
    assert await code_of(stub, metadata(TEST_TOKEN, here)) == grpc.StatusCode.OK
    assert await code_of(stub, metadata(fresh, here)) == grpc.StatusCode.RESOURCE_EXHAUSTED
    # No token at all is no guess: still UNAUTHENTICATED.
    assert await code_of(stub, metadata(None, here)) == grpc.StatusCode.UNAUTHENTICATED
    # Another address: its guesses are still checked, its valid tokens pass.
    assert await code_of(stub, metadata(BAD, elsewhere)) == grpc.StatusCode.UNAUTHENTICATED
    assert await code_of(stub, metadata(fresh, elsewhere)) == grpc.StatusCode.OK
    # ... after which that token has been seen working and passes here too.
    assert await code_of(stub, metadata(fresh, here)) == grpc.StatusCode.OK
    assert refused_counts(server).get("failed_auth") == 2


async def until_open_streams(server: ServerThread, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (seen := (await asyncio.to_thread(refused_counts, server))["open_streams"]) != count:
        assert time.monotonic() < deadline, f"open streams stayed {seen}, not {count}"
        await asyncio.sleep(0.05)  # poll interval of the deadline loop


async def test_a_token_holds_at_most_its_open_streams_and_closing_one_frees_it(
    server: ServerThread, stub: ConnectionServiceStub
) -> None:
    other = new_token(server, "other")

    async def opened(token: str = TEST_TOKEN) -> Any:
        stream = stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=metadata(token))
        assert (await stream.read()).WhichOneof("event") == "snapshot"
        return stream

    streams = [await opened() for _ in range(3)]
    extra = stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=metadata())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await extra.read()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 3 per token" in (refused.value.details() or "")
    streams.append(await opened(other))  # another token has its own places
    await until_open_streams(server, 4)
    streams.pop(0).cancel()
    await until_open_streams(server, 3)
    streams.append(await opened())  # the freed place
    await until_open_streams(server, 4)
    assert refused_counts(server).get("streams") == 1
    for stream in streams:
        stream.cancel()
    await until_open_streams(server, 0)


# -- through Envoy ------------------------------------------------------------------------


@pytest.fixture
def envoy(server: ServerThread) -> Iterator[EnvoyProcess]:
    process = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    yield process
    process.stop()


def assert_429(response: httpx.Response, limit: str, retry: int | None) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == 8 and body["message"], body
    info = next(d for d in body["details"] if d["@type"].endswith("ErrorInfo"))
    assert info["metadata"]["limit"] == limit, body
    if retry is not None:
        assert response.headers["retry-after"] == str(retry), response.headers
    else:
        assert "retry-after" not in response.headers
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("address_burst", [15])
async def test_through_envoy_limits_answer_429_with_retry_after(
    server: ServerThread, envoy: EnvoyProcess
) -> None:
    """Through Envoy every client here is 127.0.0.1 (Envoy appends the address it accepted to
    x-forwarded-for; what a client put there is not believed). Requests of that address, in
    order, against its burst of 15: 4 (streams), 5 (and 1 the token's rate refuses, which
    does not count), 1, 4 (failed authentication), 1; the 16th is over, whatever
    x-forwarded-for it claims."""
    other, fresh = new_token(server, "other"), new_token(server, "fresh")
    path = "/api/settings/connections"

    def headers(token: str | None, spoofed: str = "") -> dict[str, str]:
        made = {"authorization": f"Bearer {token}"} if token else {}
        return made | ({"x-forwarded-for": spoofed} if spoofed else {})

    async with httpx.AsyncClient(base_url=envoy.base_url, timeout=10) as http:
        # Streams: the SSE watch is refused with 429 (no Retry-After: it waits for a close).
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                stream = await stack.enter_async_context(
                    http.stream("GET", "/v1/connections:watch", headers=headers(other))
                )
                assert stream.status_code == 200
            fourth = await http.get("/v1/connections:watch", headers=headers(other))
            assert_429(fourth, "streams", None)
            assert "at most 3 per token" in fourth.json()["message"]
        await until_open_streams(server, 0)  # closed by the client: their places are free
        # The token's rate: a burst of 5, then 429 with Retry-After; another token still passes.
        for _ in range(5):
            assert (await http.get(path, headers=headers(TEST_TOKEN))).status_code == 200
        assert_429(await http.get(path, headers=headers(TEST_TOKEN)), "token_rate", 100)
        assert (await http.get(path, headers=headers(other))).status_code == 200
        # Failed authentication: 401 three times, then 429 with Retry-After, also for a valid
        # token this address has not used yet; a client's own x-forwarded-for changes nothing.
        for n in range(3):
            bad = await http.get(path, headers=headers(BAD, f"198.51.100.{n}"))
            assert bad.status_code == 401, bad.text
        assert_429(await http.get(path, headers=headers(BAD, "198.51.100.9")), "failed_auth", 100)
        assert_429(await http.get(path, headers=headers(fresh, "198.51.100.8")), "failed_auth", 100)
        # The address's rate.
        refused = await http.get(path, headers=headers(other, "203.0.113.1"))
        assert_429(refused, "address_rate", 100)
    counts = refused_counts(server)
    assert counts == {
        "token_rate": 1,
        "address_rate": 1,
        "failed_auth": 2,
        "streams": 1,
        "open_streams": 0,
    }, counts
