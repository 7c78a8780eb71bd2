"""AccountService and ClosePosition through a real server (engines on, against the exchange
simulator) over gRPC and REST through the real Envoy: the summary stream's snapshot, changes
and resume; summaries that follow a manual close; the PnL history; bad input refused with a
4xx naming the problem."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from cts.connection.v1 import account_pb2 as apb
from cts.connection.v1 import account_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.stream.v1 import stream_pb2

from server.engine.positions import Mode
from server.engine.store import PositionStore
from server.storage.database import Database
from tests.accounts.test_figures import position
from tests.conftest import auth
from tests.engine.test_positions_api import (
    ENGINES,
    UNKNOWN,
    Stack,
    connect,
    hold_prices,
    running_stack,
)
from tests.support.rpc import engine_until

D = Decimal
SETTINGS = {**ENGINES, "balance_interval_seconds": 0.5, "balance_fill_delay_seconds": 0.1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory.mktemp("accounts") / "data", SETTINGS)


@pytest.fixture
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(stack.server.target) as chan:
        yield chan


async def change_where(
    stream: Any, accept: Callable[[apb.WatchAccountSummariesResponse], bool], timeout: float = 30
) -> apb.WatchAccountSummariesResponse:
    async with asyncio.timeout(timeout):
        while True:
            message = await stream.read()
            assert message is not grpc.aio.EOF, "the summary stream ended"
            if message.WhichOneof("event") == "change" and accept(message):
                return message  # type: ignore[no-any-return]


async def test_the_summary_stream_has_a_snapshot_changes_and_resumes(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    stub = account_pb2_grpc.AccountServiceStub(channel)
    stream = stub.WatchAccountSummaries(apb.WatchAccountSummariesRequest(), metadata=auth())
    first = await stream.read()
    assert first.WhichOneof("event") == "snapshot"
    assert first.snapshot.reason == stream_pb2.SNAPSHOT_REASON_INITIAL
    known = {s.connection_id for s in first.snapshot.summaries}

    connection_id = connect(stack.http, stack.sim)  # enabled, with keys, 1000 USDT
    added = await change_where(stream, lambda m: m.change.summary.connection_id == connection_id)
    assert added.change.type == stream_pb2.CHANGE_TYPE_ADDED and connection_id not in known
    read = await change_where(
        stream,
        lambda m: (
            m.change.summary.connection_id == connection_id
            and m.change.summary.balance.HasField("read_at")
        ),
    )
    balance = read.change.summary.balance
    assert read.change.type == stream_pb2.CHANGE_TYPE_MODIFIED
    assert (balance.equity, balance.free, balance.used, balance.error) == ("1000", "1000", "0", "")
    assert read.change.summary.quote_currency == "USDT"
    stream.cancel()

    # Resumed after the balance read: the deletion is replayed, then a heartbeat.
    deleted = stack.http.delete(f"/api/settings/connections/{connection_id}")
    assert deleted.status_code == 200, deleted.text
    resumed = stub.WatchAccountSummaries(
        apb.WatchAccountSummariesRequest(resume_revision=read.revision), metadata=auth()
    )
    removed = await change_where(resumed, lambda m: m.change.type == stream_pb2.CHANGE_TYPE_REMOVED)
    assert removed.change.summary.connection_id == connection_id
    resumed.cancel()
    # From a revision this server never issued: a snapshot instead.
    future = stub.WatchAccountSummaries(
        apb.WatchAccountSummariesRequest(resume_revision=removed.revision + 10**9),
        metadata=auth(),
    )
    again = await future.read()
    assert again.snapshot.reason == stream_pb2.SNAPSHOT_REASON_RESUME_TOO_OLD
    assert connection_id not in {s.connection_id for s in again.snapshot.summaries}
    future.cancel()


async def test_a_manual_close_over_rest_shows_in_the_summary_and_the_pnl_history(
    stack: Stack, channel: grpc.aio.Channel
) -> None:
    hold_prices(stack.sim, "100")
    connection_id = connect(stack.http, stack.sim)
    stub = account_pb2_grpc.AccountServiceStub(channel)
    stream = stub.WatchAccountSummaries(apb.WatchAccountSummariesRequest(), metadata=auth())
    await stream.read()  # the snapshot
    engines = engine_pb2_grpc.EngineServiceStub(channel)
    await engine_until(engines, connection_id, lambda s: s.state == "running")
    hold_prices(stack.sim, "102")  # the trend entry opens a long on both symbols
    await change_where(
        stream,
        lambda m: (
            m.change.summary.connection_id == connection_id
            and m.change.summary.pseudo.open_positions == 2
        ),
    )
    listed = await engines.ListPositions(
        epb.ListPositionsRequest(connection_id=connection_id, status="open"), metadata=auth()
    )
    target = listed.positions[0]

    closed = stack.http.post(f"/v1/positions/{target.id}:close", json={})

    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["close_reason"], body["exit_price"]) == (
        "closed",
        "manual",
        "101.949",  # 102 less the slippage
    )
    pnl = body["realized_pnl"]
    summary = await change_where(
        stream,
        lambda m: (
            m.change.summary.connection_id == connection_id
            and m.change.summary.pseudo.realized_pnl_total != "0"
        ),
    )
    figures = summary.change.summary.pseudo
    assert (figures.realized_pnl_total, figures.realized_pnl_today) == (pnl, pnl)
    stream.cancel()

    listed_rest = stack.http.get("/v1/accountSummaries", params={"connectionIds": connection_id})
    assert listed_rest.status_code == 200, listed_rest.text
    (row,) = listed_rest.json()["summaries"]
    assert row["pseudo"]["realized_pnl_total"] == pnl and row["quote_currency"] == "USDT"

    since = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = stack.http.get(
        "/v1/pnlHistory",
        params={"connectionId": connection_id, "since": since, "bucketSeconds": "60"},
    )
    assert history.status_code == 200, history.text
    (series,) = history.json()["series"]
    # 30 minutes and the moments since: 31 buckets of a minute (30 at the very instant).
    assert series["quote_currency"] == "USDT" and len(series["points"]) in (30, 31)
    assert (series["points"][0]["pseudo"], series["points"][-1]["pseudo"]) == ("0", pnl)
    assert {p["live"] for p in series["points"]} == {"0"}

    again = stack.http.post(f"/v1/positions/{target.id}:close", json={})
    assert again.status_code == 400 and "not open" in again.json()["message"]
    await engines.StopEngine(epb.EngineCommand(connection_id=connection_id), metadata=auth())


def test_bad_requests_are_refused_naming_the_problem(stack: Stack) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path, query, status, named in (
        ("/v1/pnlHistory", {"bucketSeconds": "59"}, 400, "bucket_seconds"),
        ("/v1/pnlHistory", {"bucketSeconds": "86401"}, 400, "bucket_seconds"),
        ("/v1/pnlHistory", {"since": future}, 400, "since"),
        ("/v1/pnlHistory", {"connectionId": "not-an-id"}, 400, "connection_id"),
        ("/v1/pnlHistory", {"connectionId": UNKNOWN}, 404, UNKNOWN),
        ("/v1/accountSummaries", {"connectionIds": f"{UNKNOWN},x"}, 404, UNKNOWN),
        ("/v1/accountSummaries", {"connectionIds": "x" * 65}, 400, "connection_ids"),
        ("/v1/accountSummaries", {"connectionIds": ","}, 400, "connection_ids"),
    ):
        response = stack.http.get(path, params=query)
        assert response.status_code == status, (path, query, response.text)
        assert named in response.json()["message"], (path, query, response.json())
    for position_id, status, named in (
        (UNKNOWN, 404, UNKNOWN),
        ("not-a-position", 400, "position_id"),
    ):
        response = stack.http.post(f"/v1/positions/{position_id}:close", json={})
        assert response.status_code == status, (position_id, response.text)
        assert named in response.json()["message"]
    assert stack.http.get("/v1/accountSummaries", headers={"authorization": ""}).status_code == 401


async def test_close_refusals_change_nothing(stack: Stack, channel: grpc.aio.Channel) -> None:
    created = stack.http.post(
        "/api/settings/connections",
        json={"name": "engine off", "exchange": "binance", "api_type": "spot"},
    )
    assert created.status_code == 200, created.text
    connection_id = created.json()["id"]  # disabled: no engine runs for it
    pseudo = position(connection_id)
    live = replace(position(connection_id, mode=Mode.LIVE), follows=pseudo.id)
    db = Database(stack.server.settings.resolved_database_url, threads=1)
    try:
        await PositionStore(db).save([pseudo, live])
    finally:
        db.close()

    for position_id, body, named in (
        (live.id, {}, "confirm_live"),  # a live position, unconfirmed
        (live.id, {"confirm_live": True}, "not running"),
        (pseudo.id, {}, "not running"),
    ):
        response = stack.http.post(f"/v1/positions/{position_id}:close", json=body)
        assert response.status_code == 400, (position_id, body, response.text)
        assert named in response.json()["message"], (position_id, body, response.json())
    engines = engine_pb2_grpc.EngineServiceStub(channel)
    listed = await engines.ListPositions(
        epb.ListPositionsRequest(connection_id=connection_id), metadata=auth()
    )
    assert {(p.id, p.status) for p in listed.positions} == {
        (str(pseudo.id), "open"),
        (str(live.id), "open"),
    }
