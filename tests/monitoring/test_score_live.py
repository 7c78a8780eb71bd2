"""The health score through the real pieces: a grpc.aio CTS server, unmodified ccxt, and the
exchange simulator with injected latency, errors, 429s, maintenance and a revoked key. Each
streamed score (WatchConnections) equals the value computed by hand from what the scenario did,
with the formula of ``server/monitoring/score.py``.

Connection tests drive the calls (periodic health checks are off): a successful test makes
three calls (server time, balance, permissions) and counts as a passed check. Latencies are
injected as floors far from binance's thresholds (T = 0.5 s, 4T = 2 s): none (satisfied), 600 ms
per request (tolerating, even for a call of three requests), 2,100 ms (frustrated). The limits
are raised so that the headroom stays whole unless a 429 pauses the account.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc

from server.simulator.ledger import Account
from tests.conftest import auth
from tests.connections.conftest import Desk, desk, desk_server, server_settings
from tests.support.follow import Follow

__all__ = ["desk", "desk_server", "server_settings"]  # the connection tests' fixtures

ROOMY = {"per_second": 1000, "per_minute": 60000, "concurrent": 10}
F = Fraction


def by_hand(errors: F, latency: F, headroom: F, uptime: F) -> int:
    """100 * gate * (0.35*errors + 0.25*latency + 0.20*headroom + 0.20*uptime), half up, for
    a gate of 1 (the scenarios that close it expect 0)."""
    weighted = F("0.35") * errors + F("0.25") * latency + F("0.20") * headroom + F("0.20") * uptime
    return int(100 * weighted + F(1, 2))


def describe(health: pb.ConnectionHealth) -> str:
    score = health.score
    terms = "; ".join(f"{c.name} {c.value:.3f}: {c.reason}" for c in score.components)
    return (
        f"{health.status}, score {score.value} {score.band} (gate {score.gate} "
        f"{score.gate_reason!r}; {terms}), {health.check_count} checks, "
        f"paused {health.rate_limit.paused_seconds} s"
    )


def reasons(health: pb.ConnectionHealth) -> dict[str, str]:
    return {c.name: c.reason for c in health.score.components}


@dataclass
class Scenario:
    """A binance spot connection on the simulator, its account there and its streamed health."""

    desk: Desk
    connection: pb.Connection
    account: Account
    health: Follow[pb.ConnectionHealth]
    checks: int = 0

    async def test(self, status: str, reason: str = "") -> pb.ConnectionHealth:
        """Test the connection; the health published with that check."""
        since = time.time()
        result = await self.desk.test(self.connection.id)
        assert (result.status, result.error_reason) == (status, reason), result.error_message
        self.checks += 1
        count = self.checks
        return await self.after(lambda h: h.check_count == count, since, f"check {count}")

    async def after(
        self, accept: Callable[[pb.ConnectionHealth], bool], since: float, what: str
    ) -> pb.ConnectionHealth:
        _, health = await self.health.after(accept, since=since, what=what)
        return health

    def faults(self, *, by_key: bool = False, **values: Any) -> None:
        self.desk.clear_faults()
        if by_key:  # signed requests only (balance, permissions; not the server time)
            self.desk.faults(api_key=self.account.api_key, **values)
        elif values:
            self.desk.faults(exchange="binance", **values)


@pytest.fixture
def roomy(server_settings: dict[str, Any]) -> None:
    server_settings["exchange_limits"] = {e: ROOMY for e in ("binance", "bybit", "okx")}


@pytest.fixture
async def scenario(desk: Desk, roomy: None) -> AsyncIterator[Scenario]:
    account = desk.account("binance")
    connection = await desk.connect("binance", account)
    health: Follow[pb.ConnectionHealth] = Follow("connection health", describe)

    def pick(message: pb.WatchConnectionsResponse) -> list[pb.ConnectionHealth]:
        event = message.WhichOneof("event")
        if event == "snapshot":
            listed = list(message.snapshot.connections)
        else:
            listed = [message.change.connection] if event == "change" else []
        return [c.health for c in listed if c.id == connection.id]

    health.start(desk.stub.WatchConnections(pb.WatchConnectionsRequest(), metadata=auth()), pick)
    yield Scenario(desk, connection, account, health)
    await health.close()


async def test_the_streamed_score_equals_the_hand_computed_one_for_latency_and_errors(
    scenario: Scenario,
) -> None:
    # 1. No fault: 3 satisfied calls, 1 passed check.
    health = await scenario.test("success")
    assert (health.score.value, health.score.band, health.score.gate) == (100, "operational", 1)
    assert reasons(health) == {
        "errors": "no errors in the last 3 calls (error budget 10 %)",
        "latency": "3 satisfied, 0 tolerating, 0 frustrated of 3 successful calls, "
        "T = 500 ms (binance)",
        "headroom": reasons(health)["headroom"],  # the requests just made, far below the limits
        "uptime": "the last check passed",
    }
    assert [c.value for c in health.score.components] == [1, 1, 1, 1]

    # 2. 600 ms per request: 3 more calls, tolerating. Apdex (3 + 3/2) / 6.
    scenario.faults(latency_ms=600)
    health = await scenario.test("success")
    assert health.score.value == by_hand(F(1), F(9, 2) / 6, F(1), F(1)) == 94
    assert health.score.band == "operational"

    # 3. 2,100 ms per signed request: the server time satisfied, balance and permissions
    #    frustrated. Apdex (4 + 3/2) / 9.
    scenario.faults(by_key=True, latency_ms=2100)
    health = await scenario.test("success")
    assert health.score.value == by_hand(F(1), F(11, 2) / 9, F(1), F(1)) == 90
    assert reasons(health)["latency"] == (
        "4 satisfied, 3 tolerating, 2 frustrated of 9 successful calls, T = 500 ms (binance)"
    )

    # 4. Signed requests answered 5xx: the server time passes, the balance fails, the check
    #    fails. 1 error in 11 calls against the 10 % budget; Apdex (5 + 3/2) / 10; 3 of 4 checks.
    scenario.faults(by_key=True, down=True)
    health = await scenario.test("failed", "unavailable")
    assert health.score.value == by_hand(1 - F(1, 11) / F(1, 10), F(13, 2) / 10, F(1), F(3, 4))
    assert (health.score.value, health.score.band) == (54, "partial_outage")
    assert reasons(health)["errors"] == (
        "1 error (1 unavailable) in the last 11 calls (9.1 %), error budget 10 %"
    )
    assert reasons(health)["uptime"] == "3 of the last 4 checks passed"
    # GetConnectionHealth (the route GET /api/settings/connections/health) says the same.
    [reported] = (await scenario.desk.health(id=scenario.connection.id)).connections
    assert reported.score.value == 54 and reported.score.components[0].value == pytest.approx(
        1 / 11
    )


@pytest.fixture
def circuit_after_two(server_settings: dict[str, Any]) -> None:
    server_settings.update(circuit_failure_threshold=2, circuit_cooldown_seconds=30.0)


@pytest.mark.usefixtures("circuit_after_two")
async def test_the_score_drops_to_0_when_the_circuit_opens(scenario: Scenario) -> None:
    assert (await scenario.test("success")).score.value == 100
    scenario.faults(down=True)
    # 1 error in 4 calls: beyond the budget; 1 of 2 checks passed.
    once = await scenario.test("failed", "unavailable")
    assert once.circuit_state == "closed"
    assert once.score.value == by_hand(F(0), F(1), F(1), F(1, 2)) == 55
    # The second exchange-side failure opens the account's circuit: the gate closes.
    since = time.time()
    await scenario.test("failed", "unavailable")
    opened = await scenario.after(lambda h: h.circuit_state == "open", since, "circuit open")
    assert (opened.score.value, opened.score.band, opened.score.gate) == (0, "major_outage", 0)
    assert opened.score.gate_reason == "calls paused after repeated failures (circuit open)"
    assert opened.status == "down"


async def test_maintenance_and_a_rejected_key_close_the_gate(scenario: Scenario) -> None:
    assert (await scenario.test("success")).score.value == 100
    scenario.faults(maintenance=True)
    health = await scenario.test("failed", "maintenance")
    assert (health.score.value, health.score.gate, health.circuit_state) == (0, 0, "closed")
    assert health.score.gate_reason == "binance is under maintenance"

    scenario.faults()
    assert (await scenario.test("success")).score.gate == 1  # maintenance over

    scenario.desk.revoke(scenario.account)
    rejected = await scenario.test("failed", "authentication")
    assert rejected.last_check_result == "authentication"
    assert (rejected.score.value, rejected.score.band) == (0, "major_outage")
    assert rejected.score.gate_reason == "the exchange rejected the API key at the last check"


@pytest.fixture
def no_retries(server_settings: dict[str, Any]) -> None:
    server_settings.update(exchange_max_retries=0)


@pytest.mark.usefixtures("no_retries")
async def test_a_429_pause_empties_the_headroom_and_its_end_is_pushed(
    scenario: Scenario,
) -> None:
    assert (await scenario.test("success")).score.value == 100
    scenario.faults(rate_limit_burst=1, retry_after_seconds=3)
    # The server time is answered 429: the account pauses 3 s, the test fails. 1 error in 4
    # calls; no headroom while paused; 1 of 2 checks passed.
    paused = await scenario.test("failed", "rate_limited")
    assert paused.last_check_result == "rate_limited" and paused.rate_limit.paused_seconds > 0
    assert paused.score.value == by_hand(F(0), F(1), F(0), F(1, 2)) == 35
    assert reasons(paused)["headroom"].endswith("s after a rate-limit answer (429)")
    # Nothing else happens: the pause's end alone brings the headroom back on the stream.
    since = time.time()
    ended = await scenario.after(
        lambda h: h.rate_limit.paused_seconds == 0, since, "the pause's end pushed"
    )
    assert ended.check_count == 2
    assert ended.score.value == by_hand(F(0), F(1), F(1), F(1, 2)) == 55


async def test_calls_outside_checks_move_the_streamed_score(scenario: Scenario) -> None:
    """An engine dry run's calls are no check: the score still follows their outcome, pushed
    at once (coalesced), not only when the account's usage settles."""
    checked = await scenario.test("success")
    assert checked.score.value == 100
    # The last second's window runs empty: pushed without any event, the minute's still full.
    since = time.time()
    emptied = await scenario.after(
        lambda h: h.rate_limit.requests_last_second == 0, since, "the second's window empty"
    )
    assert emptied.check_count == 1 and emptied.rate_limit.requests_last_minute > 0
    # The next push for the usage is due when the minute's window empties (a minute after the
    # test); the score moves long before.
    scenario.faults(down=True)
    since = time.time()
    engines = engine_pb2_grpc.EngineServiceStub(scenario.desk.channel)
    dry_run = await engines.TestEngine(
        epb.TestEngineRequest(connection_id=scenario.connection.id), metadata=auth()
    )
    assert dry_run.status == "failed" and dry_run.error_reason == "unavailable"
    # Its first call failed: 1 error in 4 calls; still 1 of 1 checks passed.
    _, moved = await scenario.health.after(
        lambda h: h.score.value != 100, since=since, what="the score moved", timeout=20.0
    )
    assert moved.check_count == 1 and moved.error_count == 1
    assert moved.score.value == by_hand(F(0), F(1), F(1), F(1)) == 65
    assert moved.score.band == "partial_outage"
