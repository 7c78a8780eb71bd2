"""The structured log through a real server: entries from the server's own work, ListLogs,
StreamLogs, WriteLog, bad input, and secrets that never reach an entry."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc
from sqlalchemy import create_engine

from server.monitoring.logs.about import about
from server.monitoring.logs.console import console_handler
from server.monitoring.logs.entry import Category
from tests.conftest import auth
from tests.connections.conftest import Desk
from tests.support.logs import entries, until_logged
from tests.support.rpc import details
from tests.support.storage import dump

Stub = monitoring_pb2_grpc.MonitoringServiceStub


def stub_of(desk: Desk) -> Stub:
    return Stub(desk.channel)


async def write(stub: Stub, message: str, **fields: Any) -> mpb.LogEntry:
    values = {"level": "info", "category": "system", "message": message, **fields}
    return await stub.WriteLog(mpb.WriteLogRequest(**values), metadata=auth())  # type: ignore[no-any-return]


def stored(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(desk.server.settings.resolved_database_url)
    try:
        return dump(engine, with_log=True)
    finally:
        engine.dispose()


async def test_a_failing_test_leaves_error_entries_with_its_kind_and_no_secret(desk: Desk) -> None:
    account = desk.account("binance")
    wrong_secret = "wrong-secret-planted-for-this-test-123"
    connection = await desk.connect("binance", account, secret=wrong_secret)
    result = await desk.test(connection.id)
    assert result.status == "failed"
    stub = stub_of(desk)

    errors = await until_logged(stub, connection_id=connection.id, level="error")
    final = [e for e in errors if "failure" in e.context]
    assert final, [e.message for e in errors]
    assert final[0].context["failure"] == result.error_reason == "authentication"
    assert final[0].category == "test" and final[0].connection_id == connection.id
    every = await entries(stub, connection_id=connection.id)
    assert {e.category for e in every} >= {"test"}
    assert all(e.connection_id == connection.id for e in every)
    assert [e.id for e in every] == sorted((e.id for e in every), reverse=True)  # newest first
    for text in (str(every), str(stored(desk)["log_entries"])):
        assert wrong_secret not in text and account.api_key not in text


async def test_rate_limit_pauses_are_logged_on_their_connection(desk: Desk) -> None:
    account = desk.account("bybit")
    connection = await desk.connect("bybit", account)
    desk.faults("bybit", rate_limit_burst=1, retry_after_seconds=0)
    await desk.test(connection.id)
    found = await until_logged(stub_of(desk), connection_id=connection.id, category="exchange")
    paused = [e for e in found if "rate limited" in e.message]
    assert paused, [e.message for e in found]
    assert paused[0].level == "warning" and float(paused[0].context["pause_seconds"]) >= 0


async def test_list_filters_by_level_category_text_and_time_and_pages_newest_first(
    desk: Desk,
) -> None:
    stub = stub_of(desk)
    connection = await desk.connect("okx")
    before = datetime.now(UTC) - timedelta(seconds=1)
    written = [
        await write(
            stub,
            f"note {i} {'needle' if i % 3 == 0 else 'hay'}",
            level=("debug", "info", "warning", "error")[i % 4],
            category="engine" if i % 2 else "order",
            connection_id=connection.id,
            context={"i": str(i)},
        )
        for i in range(12)
    ]
    assert [w.id for w in written] == sorted(w.id for w in written)
    mine = {"connection_id": connection.id}
    assert [e.id for e in await entries(stub, **mine)] == [w.id for w in reversed(written)]
    assert {e.level for e in await entries(stub, **mine, level="warning")} == {"warning", "error"}
    assert all(e.category == "order" for e in await entries(stub, **mine, category="order"))
    needles = await entries(stub, **mine, text="NEEDLE")
    assert [e.context["i"] for e in needles] == ["9", "6", "3", "0"]
    middle = written[5].time.ToDatetime(UTC)
    later = await entries(stub, **mine, since=middle.isoformat(), until="2999-01-01T00:00:00Z")
    assert {e.id for e in later} == {w.id for w in written[5:]}
    assert await entries(stub, **mine, until=before.isoformat()) == []

    pages, token = [], ""
    while True:
        response = await stub.ListLogs(
            mpb.ListLogsRequest(**mine, page_size=5, page_token=token), metadata=auth()
        )
        pages.append([e.id for e in response.entries])
        token = response.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i for page in pages for i in page] == [w.id for w in reversed(written)]


async def test_the_stream_sends_the_tail_then_new_entries_and_resumes_after_an_id(
    desk: Desk,
) -> None:
    stub = stub_of(desk)
    first = [await write(stub, f"before {i}", category="api") for i in range(5)]
    stream = stub.StreamLogs(mpb.StreamLogsRequest(category="api", tail=3), metadata=auth())
    messages = aiter(stream)
    tail = await anext(messages)
    assert [e.message for e in tail.entries] == ["before 2", "before 3", "before 4"]
    live = await write(stub, "while watching", category="api", level="warning")
    await write(stub, "another category", category="auth")
    arrived = await anext(messages)
    assert [e.id for e in arrived.entries] == [live.id] and arrived.last_id == live.id
    stream.cancel()

    missed = [await write(stub, f"missed {i}", category="api") for i in range(2)]
    resumed = stub.StreamLogs(
        mpb.StreamLogsRequest(category="api", resume_after_id=live.id), metadata=auth()
    )
    again = await anext(aiter(resumed))
    assert [e.id for e in again.entries] == [m.id for m in missed]
    assert not again.skipped and first[0].id < live.id
    resumed.cancel()


BAD_LISTS = [
    ({"level": "loud"}, "level"),
    ({"category": "gossip"}, "category"),
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-01-01T00:00:00"}, "since"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
    ({"page_size": -1}, "page_size"),
    ({"page_token": "bm90IGEgdG9rZW4="}, "page_token"),
    ({"page_token": "%%%"}, "page_token"),
    ({"text": "x" * 201}, "text"),
]


@pytest.mark.parametrize(("query", "field"), BAD_LISTS)
async def test_bad_list_requests_name_the_field(
    desk: Desk, query: dict[str, Any], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await entries(stub_of(desk), **query)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(error.value)[1]


async def test_a_page_token_works_only_with_the_filters_it_was_issued_for(desk: Desk) -> None:
    stub = stub_of(desk)
    for i in range(3):
        await write(stub, f"paged {i}")
    first = await stub.ListLogs(mpb.ListLogsRequest(page_size=1), metadata=auth())
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await entries(stub, page_size=1, level="error", page_token=first.next_page_token)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(error.value)[1] == {"page_token": "was issued for different filters"}


BAD_WRITES = [
    ({"level": ""}, "level"),
    ({"level": "fatal"}, "level"),
    ({"category": ""}, "category"),
    ({"category": "misc"}, "category"),
    ({"message": ""}, "message"),
    ({"message": "é" * 4097}, "message"),  # 8,194 bytes
    ({"context": {f"k{i}": "v" for i in range(33)}}, "context"),
    ({"context": {"k": "v" * 1025}}, "context.k"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_WRITES)
async def test_bad_entries_are_refused_and_nothing_is_written(
    desk: Desk, fields: dict[str, Any], field: str
) -> None:
    stub = stub_of(desk)
    await write(stub, "the last good one")
    before = await entries(stub, category="system", level="info")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await write(stub, **{"message": "m", **fields})
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(error.value)[1]
    assert await entries(stub, category="system", level="info") == before
    assert "the last good one" in [e.message for e in before]


@pytest.mark.parametrize("rpc", ["list", "stream", "write"])
async def test_unknown_connections_are_not_found(desk: Desk, rpc: str) -> None:
    stub = stub_of(desk)
    unknown = "7d0c8f3e-0000-4000-8000-000000000000"
    with pytest.raises(grpc.aio.AioRpcError) as error:
        if rpc == "list":
            await entries(stub, connection_id=unknown)
        elif rpc == "stream":
            async for _ in stub.StreamLogs(
                mpb.StreamLogsRequest(connection_id=unknown), metadata=auth()
            ):
                break
        else:
            await write(stub, "about nobody", connection_id=unknown)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_every_log_rpc_needs_a_token(desk: Desk) -> None:
    stub = stub_of(desk)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.WriteLog(mpb.WriteLogRequest(level="info", category="api", message="x"))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListLogs(mpb.ListLogsRequest())
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.fixture
def stdout() -> AsyncIterator[io.StringIO] | Any:
    """The server process's stdout handler as `cts serve` installs it (JSON lines)."""
    text = io.StringIO()
    handler = console_handler("json", text)
    logging.getLogger().addHandler(handler)
    yield text
    logging.getLogger().removeHandler(handler)


async def test_a_planted_secret_reaches_no_entry_stdout_or_response(
    desk: Desk, stdout: io.StringIO
) -> None:
    planted = "planted-Secret-0xC0FFEE-9f8e7d"
    account = desk.account("okx")
    connection = await desk.connect("okx", account, secret=planted)
    module = logging.getLogger("cts.engine.planted")
    module.error(
        "leaking %s on purpose", planted, extra=about(connection.id, Category.ENGINE, key=planted)
    )
    try:
        raise RuntimeError(f"failure text with {planted}")
    except RuntimeError:
        module.exception("and in a stack trace", extra=about(connection.id))
    logging.getLogger("some.library").warning("a library logs it too: %r", {"secret": planted})
    stub = stub_of(desk)
    await write(stub, f"a client writes it: {planted}", context={"k": planted})

    found = await until_logged(stub, connection_id=connection.id, level="error")
    leaked = next(e for e in found if "leaking" in e.message)
    assert leaked.message == "leaking **** on purpose" and leaked.context["key"] == "****"
    traced = next(e for e in found if "stack trace" in e.message)
    assert "RuntimeError: failure text with ****" in traced.stack
    everything = await entries(stub, page_size=1000)
    assert any("a library logs it too" in e.message for e in everything)
    for text in (str(everything), str(stored(desk)), stdout.getvalue()):
        assert planted not in text
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert any(line.get("connection_id") == connection.id for line in lines)


async def test_a_stream_says_at_once_that_it_is_open_even_with_nothing_to_show(
    desk: Desk,
) -> None:
    stub = stub_of(desk)
    stream = stub.StreamLogs(mpb.StreamLogsRequest(text="nothing matches this"), metadata=auth())
    messages = aiter(stream)
    async with asyncio.timeout(5):  # well before the first heartbeat (15 s)
        first = await anext(messages)
    assert list(first.entries) == [] and not first.HasField("heartbeat")
    match = await write(stub, "now nothing matches this no more")
    assert [e.id for e in (await anext(messages)).entries] == [match.id]
    stream.cancel()
