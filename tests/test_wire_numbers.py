"""Counts and durations are JSON numbers on the REST face (issue 13), through the real Envoy in
front of a real server on the exchange simulator: a connection test, a batch test, a
connection's health, an engine's status, the progression, the coordinator's health and the
monitoring figures. Money stays a decimal string, revisions stay int64 (strings). Counts sent as
strings (older payloads) still work; older gRPC clients, whose stubs had int64, still decode and
encode the messages; a figure past 2^31 - 1 is reported at the cap instead of failing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import market_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor, FileDescriptor
from google.protobuf.message import Message

from server.connections import testing
from server.engine.status import CycleMetrics, EngineStatus, Timing, TradingMetrics
from server.rpc import connection_messages
from server.rpc.engine_messages import status_message
from server.rpc.messages import INT32_MAX, INT32_MIN
from tests.engine.test_positions_api import ENGINES, Stack, connect, running_stack
from tests.support.rpc import engine_until

BASE = "/api/settings/connections"
# The only int64 fields: stream revisions (microsecond-based) and ids that only grow.
INT64_NAMES = {"revision", "resume_revision", "id", "resume_after_id", "last_id"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory.mktemp("wire") / "data", ENGINES)


def at(body: Any, path: str) -> Any:
    """The value at a dotted path ("steps.0.duration_ms": a digit picks a list item)."""
    for part in path.split("."):
        body = body[int(part)] if part.isdigit() else body[part]
    return body


def numbers(body: dict[str, Any], *paths: str) -> dict[str, int]:
    """The values at ``paths``, each asserted to be a JSON number (a whole one)."""
    found = {path: at(body, path) for path in paths}
    wrong = {p: v for p, v in found.items() if not isinstance(v, int) or isinstance(v, bool)}
    assert not wrong, f"not JSON numbers: {wrong}"
    return found


def decimals(body: dict[str, Any], *paths: str) -> None:
    """Money: each value at ``paths`` is a decimal string."""
    for path in paths:
        value = at(body, path)
        assert isinstance(value, str) and Decimal(value) == Decimal(value), (path, value)


async def test_counts_and_durations_are_json_numbers_and_money_stays_strings(
    stack: Stack,
) -> None:
    connection_id = connect(stack.http, stack.sim)  # enabled and active: its engine starts

    tested = stack.http.post(f"{BASE}/{connection_id}/test")
    assert tested.status_code == 200, tested.text
    test = tested.json()
    assert test["status"] == "success", test
    figures = numbers(test, "duration_ms", "latency_ms", "clock_drift_ms", "steps.0.duration_ms")
    assert figures["duration_ms"] >= figures["steps.0.duration_ms"] >= 0
    decimals(test, "balance", "balances.0.total")

    batch = stack.http.post(f"{BASE}/batch-test", json={"connectionIds": [connection_id]})
    assert batch.status_code == 200, batch.text
    counts = numbers(
        batch.json(), "success_count", "failure_count", "total_duration_ms", "results.0.duration_ms"
    )
    assert (counts["success_count"], counts["failure_count"]) == (1, 0)

    stored = stack.http.get(f"{BASE}/{connection_id}").json()
    health = numbers(
        stored,
        "last_test_duration_ms",
        "leverage",
        "health.success_count",
        "health.error_count",
        "health.check_count",
        "health.rate_limit.requests_last_minute",
    )
    assert health["health.success_count"] >= 3  # the two tests' calls at least
    decimals(stored, "volume_factor", "last_test_balance")

    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        engines = engine_pb2_grpc.EngineServiceStub(channel)
        await engine_until(engines, connection_id, lambda s: s.metrics.strategy_cycles >= 1)

    status = stack.http.get(f"/api/trade-engine/status/{connection_id}")
    assert status.status_code == 200, status.text
    engine = status.json()
    cycles = numbers(
        engine,
        "metrics.cycles",
        "metrics.stale_cycles",
        "metrics.indication_cycles",
        "metrics.strategy_cycles",
        "metrics.symbols",
        "trading.trades",
        "trading.closed_pseudo_positions",
        "trading.closed_live_positions",
        "trading.live_orders",
        "trading.failed_orders",
        "trading.skipped_by_limits",
        "stages.0.duration_ms",
        "attempts",
    )
    assert cycles["metrics.cycles"] >= cycles["metrics.strategy_cycles"] >= 1
    decimals(engine, "trading.realized_pnl", "trading.unrealized_pnl")

    progression = stack.http.get("/api/trade-engine/progression").json()
    assert numbers(progression, "cycles", "trades")["cycles"] >= 1
    decimals(progression, "realized_pnl", "unrealized_pnl")

    coordinator = stack.http.get("/api/trade-engine/coordinator-health").json()
    assert numbers(coordinator, "reconciliations", "engines")["reconciliations"] >= 1
    feed = numbers(
        coordinator,
        "feeds.0.rounds",
        "feeds.0.failures",
        "feeds.0.overruns",
        "feeds.0.consecutive_failures",
    )
    assert feed["feeds.0.rounds"] >= 1

    report = stack.http.get("/api/monitoring/comprehensive").json()
    numbers(report, "trades", "closed_pseudo_positions", "live_orders", "system.connections")
    checks = stack.http.get("/api/system/verify-startup").json()
    numbers(checks, "duration_ms", "checks.0.duration_ms")

    # Revisions stay int64: strings, past 2^31 (microseconds).
    with stack.http.stream(
        "GET", "/v1/engines:watch", params={"connectionId": connection_id}
    ) as response:
        assert response.status_code == 200
        first = next(
            json.loads(line.removeprefix("data:"))
            for line in response.iter_lines()
            if line.startswith("data:")
        )
    assert isinstance(first["revision"], str) and int(first["revision"]) > INT32_MAX
    assert numbers(first, "snapshot.engines.0.metrics.cycles")


def test_counts_sent_as_strings_are_still_accepted(stack: Stack) -> None:
    """Older payloads quoted their numbers; the proto3 JSON mapping takes both forms."""
    made = stack.http.post(
        BASE, json={"name": "Quoted", "exchange": "okx", "api_type": "spot", "leverage": "3"}
    )
    assert made.status_code == 200, made.text
    assert made.json()["leverage"] == 3
    changed = stack.http.post(f"{BASE}/{made.json()['id']}/settings", json={"leverage": "5"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["leverage"] == 5
    listed = stack.http.get(BASE, params={"page_size": "1"})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["connections"]) == 1 and listed.json()["next_page_token"]
    assert isinstance(listed.json()["total_size"], int)
    logs = stack.http.get("/v1/logs", params={"pageSize": "2"})
    assert logs.status_code == 200 and len(logs.json()["entries"]) == 2, logs.text
    wrong = stack.http.post(BASE, json={"name": "Wrong", "exchange": "okx", "leverage": "3.5"})
    assert wrong.status_code == 400 and "leverage" in wrong.json()["message"], wrong.text


def test_a_drift_past_the_int32_range_is_capped_not_a_failure(stack: Stack) -> None:
    """The exchange's clock is its word: 40 days ahead (3.5e9 ms) answers 200 at the cap."""
    account = stack.sim.call(lambda: stack.sim.simulator.open_account("kraken"))
    body = {
        "name": "Far ahead",
        "exchange": "kraken",
        "api_type": "spot",
        "api_key": account.api_key,
        "api_secret": account.secret,
        "is_simulated": True,
    }
    made = stack.http.post(BASE, json=body)
    assert made.status_code == 200, made.text
    faults = stack.sim.simulator.faults
    stack.sim.call(lambda: faults.set({"clock_skew_ms": 40 * 86_400_000}, exchange="kraken"))
    try:
        tested = stack.http.post(f"{BASE}/{made.json()['id']}/test")
    finally:
        stack.sim.call(faults.clear)
    assert tested.status_code == 200, tested.text
    assert tested.json()["clock_drift_ms"] == INT32_MAX


def test_lifetime_counts_past_the_int32_range_are_capped() -> None:
    huge = 2**40
    status = EngineStatus(
        connection_id="c",
        metrics=CycleMetrics(cycles=huge, stale_cycles=huge, strategy=Timing(cycles=huge)),
        trading=TradingMetrics(trades=huge, closed_pseudo=huge, live_orders=huge),
    )
    message = status_message(status)
    assert message.metrics.cycles == message.metrics.strategy_cycles == INT32_MAX
    assert message.trading.trades == message.trading.closed_pseudo_positions == INT32_MAX
    result = testing.TestResult(
        connection_id="c",
        test_id="t",
        status=testing.TestStatus.WARNING,
        balance=None,
        balances=(),
        capabilities=None,
        log=(),
        steps=(testing.TestStep("server_time", testing.StepStatus.WARNING, 3, "behind"),),
        duration_ms=3,
        latency_ms=1,
        clock_drift_ms=-huge,
        tested_at=datetime.now(UTC),
        error_reason="",
        error_message="",
        simulated=True,
    )
    assert connection_messages.test_result_message(result).clock_drift_ms == INT32_MIN


def test_every_int64_field_is_a_revision_or_an_id() -> None:
    from cts.access.v1 import access_pb2
    from cts.connection.v1 import account_pb2
    from cts.monitoring.v1 import alerts_pb2, monitoring_pb2

    int64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64}
    wide = [
        f"{message.full_name}.{field.name}"
        for module in (cpb, epb, market_pb2, access_pb2, account_pb2, alerts_pb2, monitoring_pb2)
        for message in _messages(module.DESCRIPTOR.message_types_by_name.values())
        for field in message.fields
        if field.type in int64 and field.name not in INT64_NAMES
    ]
    assert wide == []


def _messages(messages: Any) -> Iterator[Any]:
    for message in messages:
        yield message
        yield from _messages(message.nested_types)


def _as_int64(name: str) -> type[Message]:
    """The message ``name`` as the stubs before issue 13 had it: the CTS files' int32 fields
    int64 (a fresh pool, the other imported files as they are)."""
    pool = descriptor_pool.DescriptorPool()

    def add(file: FileDescriptor) -> None:
        if _in_pool(pool, file.name):
            return
        for dependency in file.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        if file.name.startswith("cts/"):
            for message in _all(proto.message_type):
                for field in message.field:
                    if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_INT32:
                        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_INT64
        pool.Add(proto)

    add(descriptor_pool.Default().FindMessageTypeByName(name).file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def _in_pool(pool: descriptor_pool.DescriptorPool, name: str) -> bool:
    try:
        pool.FindFileByName(name)
    except KeyError:
        return False
    return True


def _all(messages: Any) -> Iterator[descriptor_pb2.DescriptorProto]:
    for message in messages:
        yield message
        yield from _all(message.nested_type)


@pytest.mark.parametrize(
    ("message", "values"),
    [
        (
            cpb.ConnectionTestResult(duration_ms=189, latency_ms=3, clock_drift_ms=-2500),
            {"duration_ms": 189, "latency_ms": 3, "clock_drift_ms": -2500},
        ),
        (
            epb.EngineMetrics(cycles=INT32_MAX, stale_cycles=1),
            {"cycles": INT32_MAX, "stale_cycles": 1},
        ),
        (market_pb2.PriceRound(round=42), {"round": 42}),
    ],
)
def test_older_grpc_clients_with_int64_fields_read_and_write_the_same_bytes(
    message: Message, values: dict[str, int]
) -> None:
    old_type = _as_int64(message.DESCRIPTOR.full_name)
    assert {old_type.DESCRIPTOR.fields_by_name[name].type for name in values} == {
        FieldDescriptor.TYPE_INT64
    }
    old = old_type.FromString(message.SerializeToString())
    assert {name: getattr(old, name) for name in values} == values
    assert type(message).FromString(old.SerializeToString()) == message
