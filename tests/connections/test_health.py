"""Health of connections against the exchange simulator: periodic checks, the circuit breaker,
GetConnectionHealth, and health changes on the connection stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb

from tests.conftest import auth
from tests.connections.conftest import EXCHANGES, Desk
from tests.support.rpc import details

COOLDOWN = 0.5


class HealthFeed:
    """A WatchConnections stream, read for the health of one connection."""

    def __init__(self, desk: Desk, connection_id: str) -> None:
        self.stream = desk.stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth())
        self.connection_id = connection_id
        self.seen: list[pb.ConnectionHealth] = []

    async def until(
        self, wanted: Callable[[pb.ConnectionHealth], bool], timeout: float = 20.0
    ) -> pb.ConnectionHealth:
        """The first health of the connection, as the stream delivers it, that is ``wanted``."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.stream.read()
                if message.WhichOneof("event") == "snapshot":
                    healths = [
                        c.health for c in message.snapshot.connections if c.id == self.connection_id
                    ]
                elif message.WhichOneof("event") == "change":
                    connection = message.change.connection
                    healths = [connection.health] if connection.id == self.connection_id else []
                else:
                    healths = []
                for health in healths:
                    self.seen.append(health)
                    if wanted(health):
                        return health

    def close(self) -> None:
        self.stream.cancel()


@pytest.fixture
def monitored(server_settings: dict[str, Any]) -> None:
    """Periodic health checks every 0.2 s, and a circuit that opens after 3 failures."""
    server_settings.update(
        health_checks=True,
        health_check_interval_seconds=0.2,
        circuit_failure_threshold=3,
        circuit_cooldown_seconds=COOLDOWN,
    )


@pytest.mark.usefixtures("monitored")
@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_a_down_exchange_opens_the_circuit_and_both_recover(
    desk: Desk, exchange: str
) -> None:
    account = desk.account(exchange)
    connection = await desk.connect(exchange, account, is_enabled=True)
    feed = HealthFeed(desk, connection.id)
    try:
        healthy = await feed.until(lambda h: h.status == "healthy" and h.check_count >= 2)
        assert healthy.circuit_state == "closed" and healthy.uptime_percent == 100.0

        desk.faults(exchange=exchange, down=True)
        degraded = await feed.until(lambda h: h.status != "healthy")
        assert degraded.last_check_result == "unavailable" and degraded.last_error == "unavailable"
        down = await feed.until(lambda h: h.circuit_state == "open")
        assert down.status == "down" and down.error_count >= 3
        reported = (await desk.health(id=connection.id)).connections[0]
        assert reported.status == "down" and reported.circuit_state == "open"
        assert reported.uptime_percent < 100.0
        # While the circuit is open, CTS does not call the exchange: tests fail fast.
        probe_free = await desk.test(connection.id)
        assert probe_free.error_reason == "circuit_open"

        desk.clear_faults()
        # After the cooldown a periodic check probes (half-open) and closes the circuit again.
        recovered = await feed.until(
            lambda h: h.circuit_state == "closed" and h.status == "healthy"
        )
        assert recovered.last_check_result == "ok"
        assert (await desk.test(connection.id)).status == "success"
    finally:
        feed.close()


@pytest.fixture
def quick_circuit(server_settings: dict[str, Any]) -> None:
    server_settings.update(circuit_failure_threshold=2, circuit_cooldown_seconds=30.0)


@pytest.mark.usefixtures("quick_circuit")
async def test_a_key_problem_never_opens_the_circuit(desk: Desk) -> None:
    """Only failures on the exchange's side count against the circuit: a wrong key does not
    make CTS stop calling the exchange for the other connections of that account."""
    account = desk.account("bybit")
    connection = await desk.connect("bybit", account, secret="f" * len(account.secret))
    for _ in range(3):
        assert (await desk.test(connection.id)).error_reason == "authentication"
    health = (await desk.health(id=connection.id)).connections[0]
    assert health.circuit_state == "closed"
    assert health.status == "down"  # three failed checks in a row
    assert health.last_check_result == "authentication" and health.check_count == 3


async def test_health_by_id_exchange_api_type_or_all(desk: Desk) -> None:
    bybit = await desk.connect("bybit", desk.account("bybit"), api_type="spot")
    binance = await desk.connect("binance", desk.account("binance"), api_type="perpetual_futures")
    assert (await desk.test(bybit.id)).status == "success"

    everything = await desk.health()
    by_id = {h.connection_id: h for h in everything.connections}
    # The four seeded connections and the two made here.
    assert len(by_id) == 6 and everything.summary.total == 6
    assert by_id[bybit.id].status == "healthy" and by_id[bybit.id].check_count == 1
    assert by_id[binance.id].status == "unknown" and by_id[binance.id].check_count == 0
    assert everything.summary.healthy == 1 and everything.summary.unknown == 5
    rate = by_id[bybit.id].rate_limit
    assert (rate.per_second_limit, rate.per_minute_limit, rate.concurrent_limit) == (10, 120, 5)
    assert rate.requests_last_minute >= 3 and rate.in_flight == 0
    assert by_id[bybit.id].average_response_ms > 0 and by_id[bybit.id].success_count >= 3

    untested = await desk.stub.GetConnection(
        pb.GetConnectionRequest(id=binance.id), metadata=auth()
    )
    assert untested.health.status == "unknown" and untested.health.check_count == 0

    only_binance = await desk.health(exchange="binance")
    assert [h.connection_id for h in only_binance.connections] == [binance.id]
    spot = await desk.health(api_type="spot")
    assert [h.connection_id for h in spot.connections] == [bybit.id]
    one = await desk.health(id=bybit.id)
    assert [h.connection_id for h in one.connections] == [bybit.id]
    assert one.summary.total == 1 and one.summary.healthy == 1


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"id": "4f9a3c1e-0000-4000-8000-000000000000"}, grpc.StatusCode.NOT_FOUND, None),
        ({"exchange": "nasdaq"}, grpc.StatusCode.INVALID_ARGUMENT, "exchange"),
        ({"api_type": "swaps"}, grpc.StatusCode.INVALID_ARGUMENT, "api_type"),
    ],
)
async def test_health_of_unknown_things_is_refused(
    desk: Desk, query: dict[str, str], code: grpc.StatusCode, field: str | None
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await desk.health(**query)
    assert refused.value.code() == code
    if field is not None:
        assert field in details(refused.value)[1]
