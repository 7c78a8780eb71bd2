"""Batch tests and the live log of running tests, against the exchange simulator."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb

from server.connections.testing import BATCH_LIMIT
from server.exchange.access import AccessConfig
from server.simulator.server import Limits
from tests.conftest import auth
from tests.connections.conftest import EXCHANGES, Desk, busiest_window
from tests.connections.test_every_exchange import VENUES, simulated_as
from tests.support.rpc import details

# The exchange CTS names a simulated one by (Kraken Futures is CTS's kraken perpetual futures).
CTS_EXCHANGE = {"krakenfutures": "kraken"}


async def batch(desk: Desk, ids: list[str]) -> pb.BatchTestResult:
    request = pb.BatchTestConnectionsRequest(connection_ids=ids)
    return await desk.stub.BatchTestConnections(request, metadata=auth())  # type: ignore[no-any-return]


async def test_a_batch_over_three_exchanges_reports_each_connection(desk: Desk) -> None:
    good = [
        await desk.connect(exchange, desk.account(exchange), api_type=api_type)
        for exchange in EXCHANGES
        for api_type in ("spot", "perpetual_futures")
    ]
    wrong_key = desk.account("okx")
    bad = await desk.connect("okx", wrong_key, secret="0" * len(wrong_key.secret))
    no_keys = await desk.connect("bybit")
    ids = [c.id for c in (*good, bad, no_keys)]

    result = await batch(desk, ids)

    assert [r.connection_id for r in result.results] == ids
    statuses = {r.connection_id: (r.status, r.error_reason) for r in result.results}
    assert all(statuses[c.id] == ("success", "") for c in good), statuses
    assert statuses[bad.id] == ("failed", "authentication")
    assert statuses[no_keys.id] == ("failed", "credentials_missing")
    assert (result.success_count, result.failure_count) == (6, 2)
    assert result.total_duration_ms >= max(r.duration_ms for r in result.results)
    assert result.finished_at.ToDatetime() >= result.started_at.ToDatetime()
    lifetime = result.expires_at.ToDatetime() - result.finished_at.ToDatetime()
    assert lifetime.total_seconds() == pytest.approx(3600, abs=1)

    again = await desk.stub.GetBatchTest(
        pb.GetBatchTestRequest(batch_id=result.batch_id), metadata=auth()
    )
    assert again == result
    stored = await desk.stub.GetConnection(pb.GetConnectionRequest(id=bad.id), metadata=auth())
    assert stored.last_test_status == "failed"


async def test_a_batch_runs_in_parallel_within_the_concurrency_cap(desk: Desk) -> None:
    # 200 ms per request on every exchange: three steps make a test take at least 0.6 s.
    for exchange in EXCHANGES:
        desk.faults(exchange=exchange, latency_ms=200)
    connections = [
        await desk.connect(exchange, desk.account(exchange))
        for exchange in EXCHANGES
        for _ in range(4)
    ]

    result = await batch(desk, [c.id for c in connections])

    assert result.success_count == 12
    slowest = max(r.duration_ms for r in result.results)
    # Twelve tests of >= 0.6 s each, at most 10 at once (the default cap): far less than in
    # sequence, and at least two rounds.
    assert sum(r.duration_ms for r in result.results) > 3 * result.total_duration_ms
    assert result.total_duration_ms >= slowest
    # The eleventh test could only start when one of the first ten had finished.
    fastest = min(r.duration_ms for r in result.results)
    assert result.total_duration_ms >= 2 * fastest


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ([], "at least one"),
        ([str(uuid.uuid4()) for _ in range(51)], "at most 50"),
        (["4f9a3c1e-0000-4000-8000-000000000001"] * 2, "listed twice"),
    ],
)
async def test_a_bad_batch_is_refused_and_runs_nothing(
    desk: Desk, ids: list[str], problem: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await batch(desk, ids)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert problem in details(refused.value)[1]["connection_ids"]
    assert desk.requests() == []


async def test_a_batch_with_an_unknown_id_is_refused_before_anything_runs(desk: Desk) -> None:
    account = desk.account("bybit")
    known = await desk.connect("bybit", account)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await batch(desk, [known.id, "4f9a3c1e-0000-4000-8000-000000000002"])
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert desk.requests() == []
    stored = await desk.stub.GetConnection(pb.GetConnectionRequest(id=known.id), metadata=auth())
    assert stored.last_test_status == ""


async def test_an_unknown_batch_is_not_found(desk: Desk) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await desk.stub.GetBatchTest(pb.GetBatchTestRequest(batch_id="nope"), metadata=auth())
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert details(missing.value)[0] == "BATCH_TEST_NOT_FOUND"


async def test_the_log_streams_to_a_watcher_while_the_test_runs(desk: Desk) -> None:
    desk.faults(exchange="bybit", latency_ms=150)
    account = desk.account("bybit")
    connection = await desk.connect("bybit", account)
    other = await desk.connect("bybit", desk.account("bybit"))
    stream = desk.stub.WatchConnectionTests(
        pb.WatchConnectionTestsRequest(connection_id=connection.id), metadata=auth()
    )
    first = await stream.read()
    assert first.WhichOneof("event") == "snapshot" and list(first.snapshot.runs) == []

    running = asyncio.ensure_future(desk.test(connection.id))
    unrelated = asyncio.ensure_future(desk.test(other.id))
    lines_while_running: list[int] = []
    final: pb.TestRun | None = None
    async with asyncio.timeout(20):
        while final is None:
            message = await stream.read()
            if message.WhichOneof("event") != "change":
                continue
            run = message.change.run
            assert run.connection_id == connection.id  # the filter holds
            if run.state == "running":
                lines_while_running.append(len(run.log))
                # Each line arrives as it is written, while the RPC is still running.
                assert not running.done()
            else:
                final = run
    result = await running
    await unrelated

    assert lines_while_running == list(range(1, len(lines_while_running) + 1))
    assert len(lines_while_running) >= 4  # start, server time, balance, permissions
    assert final.result.test_id == final.test_id == result.test_id
    assert list(final.log) == list(result.log) and final.result.status == "success"

    # A late watcher gets the finished run in its snapshot.
    late = desk.stub.WatchConnectionTests(
        pb.WatchConnectionTestsRequest(connection_id=connection.id), metadata=auth()
    )
    snapshot = (await late.read()).snapshot
    assert [r.test_id for r in snapshot.runs] == [result.test_id]
    assert snapshot.runs[0].state == "finished"
    stream.cancel()
    late.cancel()


async def test_watching_the_tests_of_a_batch(desk: Desk) -> None:
    connections = [await desk.connect("binance", desk.account("binance")) for _ in range(3)]
    everything = desk.stub.WatchConnectionTests(pb.WatchConnectionTestsRequest(), metadata=auth())
    assert (await everything.read()).WhichOneof("event") == "snapshot"

    result = await batch(desk, [c.id for c in connections])

    finished: dict[str, pb.TestRun] = {}
    async with asyncio.timeout(20):
        while len(finished) < 3:
            message = await everything.read()
            if message.WhichOneof("event") == "change" and message.change.run.state == "finished":
                finished[message.change.run.connection_id] = message.change.run
    assert {r.batch_id for r in finished.values()} == {result.batch_id}
    assert set(finished) == {c.id for c in connections}
    by_batch = desk.stub.WatchConnectionTests(
        pb.WatchConnectionTestsRequest(batch_id=result.batch_id), metadata=auth()
    )
    assert len((await by_batch.read()).snapshot.runs) == 3
    everything.cancel()
    by_batch.cancel()


async def test_a_batch_over_every_exchange_succeeds_within_each_exchanges_limits(
    desk: Desk,
) -> None:
    # The simulator refuses (429) what goes beyond each exchange's limits, as CTS knows them;
    # every venue's connections share one account of their exchange, so those limits bind.
    cts = AccessConfig()  # CTS's default account limits of each exchange
    limits = {name: cts.limits_for(CTS_EXCHANGE.get(name, name)) for name in desk.simulator.ledgers}
    enforced = {name: Limits(lim.per_second, lim.per_minute) for name, lim in limits.items()}
    desk.sim.call(lambda: desk.simulator.limits.update(enforced))
    accounts = {name: desk.account(name) for name in {simulated_as(*v) for v in VENUES}}
    per_venue = BATCH_LIMIT // len(VENUES)
    connections = [
        await desk.connect(exchange, accounts[simulated_as(exchange, api_type)], api_type=api_type)
        for exchange, api_type in VENUES
        for _ in range(per_venue)
    ]

    result = await batch(desk, [c.id for c in connections])

    assert result.success_count == len(connections), [
        list(r.log) for r in result.results if r.status == "failed"
    ]
    seen = desk.requests()
    assert seen and all(r.status == 200 for r in seen), [r for r in seen if r.status != 200]
    for name, account in accounts.items():
        times = [r.time for r in seen if r.exchange == name]
        # Every venue of the exchange was tested through its one account ...
        assert {r.api_key for r in seen if r.exchange == name} - {None} == {account.api_key}
        # ... and no second or minute of the exchange's clock saw more than its limits.
        assert busiest_window(times) <= limits[name].per_second, (name, len(times))
        assert len(times) <= limits[name].per_minute, (name, len(times))


@pytest.fixture
def one_slow_account(server_settings: dict[str, Any]) -> None:
    server_settings["test_concurrency"] = 2
    server_settings["exchange_limits"] = {
        "bybit": {"per_second": 3, "per_minute": 300, "concurrent": 1}
    }


@pytest.mark.usefixtures("one_slow_account")
async def test_an_account_s_tests_wait_for_it_without_holding_up_other_accounts(
    desk: Desk,
) -> None:
    # Four connections share one Bybit account that allows one call at a time and three
    # requests a second; two Binance connections come after them in the batch. Two tests run
    # at once (the cap).
    shared = desk.account("bybit")
    slow = [await desk.connect("bybit", shared) for _ in range(4)]
    others = [await desk.connect("binance", desk.account("binance")) for _ in range(2)]

    result = await batch(desk, [c.id for c in (*slow, *others)])

    assert result.success_count == 6
    spans = {r.connection_id: span(r) for r in result.results}
    bybit = sorted(spans[c.id] for c in slow)
    # The account's tests ran one after another (its calls-in-flight limit) ...
    assert all(done <= start for (_, done), (start, _) in itertools.pairwise(bybit)), bybit
    # ... and the other accounts' tests did not wait behind them for a place of the cap.
    first_done = bybit[0][1]
    assert all(spans[c.id][0] < first_done for c in others), (bybit, spans)


def span(result: pb.ConnectionTestResult) -> tuple[float, float]:
    """When a test started and when it finished (seconds since the epoch)."""
    start = result.tested_at.ToMicroseconds() / 1e6
    return start, start + result.duration_ms / 1000


@pytest.fixture
def one_call_at_a_time(server_settings: dict[str, Any]) -> None:
    server_settings["test_concurrency"] = 10
    server_settings["exchange_limits"] = {
        "bybit": {"per_second": 5, "per_minute": 300, "concurrent": 1}
    }


@pytest.mark.usefixtures("one_call_at_a_time")
async def test_batches_sent_together_share_an_accounts_calls_in_flight(desk: Desk) -> None:
    # One call in flight is allowed: the account's tests run one at a time, over two batches
    # sent together (each batch alone would have run one of its own at the same time).
    shared = desk.account("bybit")
    connections = [await desk.connect("bybit", shared) for _ in range(4)]

    results = await asyncio.gather(
        batch(desk, [c.id for c in connections[:2]]), batch(desk, [c.id for c in connections[2:]])
    )

    assert [r.success_count for r in results] == [2, 2]
    spans = sorted(span(r) for result in results for r in result.results)
    assert all(done <= start for (_, done), (start, _) in itertools.pairwise(spans)), spans
