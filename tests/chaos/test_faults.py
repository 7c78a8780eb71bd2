"""Exchange faults against a running CTS, for each exchange dialect (see conftest.py).

Every scenario sets a fault on the exchange in the simulator, checks what must show while it
lasts, lifts it, and waits — through the server's streams — until every component on that
exchange is back to normal by itself, without a restart: the engine running, not stale, cycling
on prices asked for after the lift; the connection's health healthy with its account's circuit
and the exchange's circuit closed; the exchange's market feed without failures since a success
after the lift. Live trading must follow the book again: each scenario closes both positions
(engine paused, prices up one step: both take their profit) and opens them again (engine
resumed), around or inside the fault, and ends with each open pseudo position followed by
exactly one live position and none following a closed one. Then the invariants must hold
(tests/support/invariants.py): no duplicate order, at most one live position per symbol, the
exchange holding exactly the open live positions, no position lost or doubled, no order
pending, and no ERROR log record that the fault does not explain.

Recovery times (lift → back to normal) are printed (run with ``-s``) and never asserted: the
bound of every wait (30 s) is the failure condition, not a timing requirement.
"""

from __future__ import annotations

import asyncio
import time

from cts.connection.v1 import connection_pb2 as cpb

from tests.chaos.scenario import Chaos, no_unexplained_errors
from tests.chaos.world import COOLDOWN_SECONDS, FAILURE_THRESHOLD, TIMEOUT_SECONDS
from tests.conftest import auth
from tests.support.invariants import ErrorLog

OUTAGE_SECONDS = 2.0
LONG_OUTAGE_SECONDS = 3.5 * COOLDOWN_SECONDS
STORM_SECONDS = 2.5
PRIVATE_OUTAGE_SECONDS = 10.0


async def lasting(started: float, duration: float) -> None:
    """The rest of a fault's duration (the fault itself, not a synchronisation)."""
    await asyncio.sleep(max(0.0, started + duration - time.time()))


def nothing_opened(chaos: Chaos, since: float, until: float) -> None:
    """No pseudo fill between ``since`` and ``until`` (the engine had no fresh prices)."""
    statuses = [s for at, s in chaos.engine.values if since <= at <= until]
    before = chaos.engine.since(since)[0].trading.trades
    trades = {s.trading.trades for s in statuses}
    assert trades <= {before}, f"trades while stale: {sorted(trades)} (before: {before})"


def done(chaos: Chaos, errors: ErrorLog, name: str) -> None:
    chaos.invariants(name)
    no_unexplained_errors(errors, context=name)


async def closes_done(chaos: Chaos, errors: ErrorLog, name: str, lifted: float, what: str) -> None:
    """After the lift, with the engine paused since its positions closed during the fault: back
    to normal; the live closes the fault held up done; resumed; following again; invariants."""
    await chaos.recovered(lifted, name, state="paused")
    await chaos.flat(f"{name}: {what}")
    await chaos.resume()
    await chaos.holding(name)
    done(chaos, errors, name)


async def an_outage(
    chaos: Chaos, errors: ErrorLog, name: str, duration: float, **fault: object
) -> float:
    """Positions closed (engine paused); the fault; meanwhile the engine turns stale, the
    exchange's circuit opens and the connection is not healthy, and the engine, resumed on
    prices that fire its entry, opens nothing; the lift; back to normal; the positions open
    again with live ones following. Returns when the fault began."""
    await chaos.close_all(f"{name}: before the fault")
    started = chaos.fault(**fault)
    await chaos.stale(started)
    await chaos.exchange_down(started)
    await chaos.resume()  # the last prices fire the entry: stale, nothing may open
    await lasting(started, duration)
    lifted = chaos.lift()
    chaos.world.lifts[name] = lifted
    nothing_opened(chaos, started, lifted)
    await chaos.recovered(lifted, name)
    await chaos.holding(f"{name}: after the lift")
    done(chaos, errors, name)
    return started


# -- the start ------------------------------------------------------------------------------------


async def test_live_trading_follows_the_optimal_set(chaos: Chaos, errors: ErrorLog) -> None:
    """The baseline every scenario returns to (the fixture moved the prices from the flat 100
    to 102): both symbols hold a pseudo position, a live one follows each, the invariants
    hold."""
    await chaos.holding("the first live positions")
    done(chaos, errors, "start")


# -- outages --------------------------------------------------------------------------------------


async def test_an_outage_of_two_seconds(chaos: Chaos, errors: ErrorLog) -> None:
    """Down 2 s (every request answered 5xx): stale, circuit open, not healthy, nothing opens;
    after the lift back to normal and trading live."""
    await an_outage(chaos, errors, "outage 2 s", OUTAGE_SECONDS, down=True)


async def test_an_outage_of_several_cooldowns(chaos: Chaos, errors: ErrorLog) -> None:
    """Down for 3.5 circuit cool-downs: every probe after a cool-down fails and the circuit
    stays open (never closed while the exchange is down, the connection never healthy)."""
    name = "outage 3.5 cool-downs"
    started = await an_outage(chaos, errors, name, LONG_OUTAGE_SECONDS, down=True)
    opened = next(
        at
        for at, c in chaos.health.values
        if at >= started and c.health.exchange_circuit_state == "open"
    )
    lifted = chaos.world.lifts[name]
    during = [c.health for at, c in chaos.health.values if opened <= at < lifted]
    assert all(h.exchange_circuit_state != "closed" and h.status != "healthy" for h in during), [
        (h.status, h.exchange_circuit_state) for h in during
    ]


async def test_a_hang_past_the_timeout(chaos: Chaos, errors: ErrorLog) -> None:
    """Requests never answered: each times out (1 s), three timeouts open the circuit, and
    after its cool-down a probe hangs and times out too."""
    duration = FAILURE_THRESHOLD * TIMEOUT_SECONDS + COOLDOWN_SECONDS + TIMEOUT_SECONDS + 0.5
    await an_outage(chaos, errors, "hang", duration, hang=True)


async def test_maintenance(chaos: Chaos, errors: ErrorLog) -> None:
    """The exchange's own maintenance answer for 2 s: an outage as far as CTS can tell."""
    await an_outage(chaos, errors, "maintenance", OUTAGE_SECONDS, maintenance=True)


async def test_an_outage_with_live_orders_in_flight(chaos: Chaos, errors: ErrorLog) -> None:
    """Both positions take their profit and the exchange goes down while the live closing
    orders are on their way (each request of the key takes 0.4 s): an order placed but not
    yet known filled (Bybit and OKX only acknowledge) is looked up until the exchange answers;
    one that fails is looked up and sent again with the same client order id. After the lift:
    every close settled once, the positions open again, nothing doubled or lost."""
    name = "outage, orders in flight"
    chaos.key_fault(latency_ms=400)
    await chaos.pause()
    moved = time.time()
    chaos.move()
    await chaos.position_events.after(
        lambda p: p.mode == "pseudo" and p.status == "closed",
        since=moved,
        what="the engine closing its pseudo positions",
    )
    started = chaos.fault(down=True)
    await lasting(started, LONG_OUTAGE_SECONDS)
    lifted = chaos.lift()
    key = chaos.world.account.api_key
    refused = chaos.sim.call(
        lambda: [
            r
            for r in chaos.sim.simulator.requests_since(moved)
            if r.api_key == key and r.status >= 500
        ]
    )
    assert refused, "no request of the live orders (placing or looking up) met the outage"
    await closes_done(chaos, errors, name, lifted, "the closes settled")


async def test_the_private_api_down_while_positions_close(chaos: Chaos, errors: ErrorLog) -> None:
    """The account's signed requests answered 5xx for 10 s — longer than a live order's sends
    and their back-off — while both positions take their profit (market data, public, still
    works: the engine closes its pseudo positions). Meanwhile the connection's health is down
    with its account's circuit open and the exchange's closed. The live closes fail, are sent
    again with the same client order id, then only looked up. A close decided is never
    dropped: once the private API answers again, the live positions close."""
    name = "private API down 10 s while closing"
    await chaos.pause()
    started = time.time()
    chaos.key_fault(down=True)
    chaos.move()
    await chaos.position_events.after(
        lambda p: p.mode == "pseudo" and p.status == "closed",
        since=started,
        what="the engine closing its pseudo positions",
    )
    await chaos.health.first(
        lambda c: (
            (c.health.status, c.health.circuit_state, c.health.exchange_circuit_state)
            == ("down", "open", "closed")
        ),
        since=started,
        what="the account's circuit open in the connection's health",
    )
    await lasting(started, PRIVATE_OUTAGE_SECONDS)
    lifted = chaos.lift()
    await closes_done(chaos, errors, name, lifted, "the closes done once the private API answers")


# -- errors and rate limits -----------------------------------------------------------------------


async def test_a_burst_of_5xx(chaos: Chaos, errors: ErrorLog) -> None:
    """Half the requests answered 5xx for a while, the positions closed and opened again
    meanwhile (their live orders meet the errors too): failed rounds are counted, orders are
    looked up and sent again with the same client order id, nothing is doubled."""
    name = "5xx burst"
    before = chaos.engine.latest
    assert before is not None
    started = chaos.fault(error_rate=0.5)
    await chaos.close_all(name)
    await chaos.resume()
    await lasting(started, OUTAGE_SECONDS)
    lifted = chaos.lift()
    during = chaos.engine.since(started)
    assert max(s.metrics.stale_cycles for s in during) > before.metrics.stale_cycles, (
        "no round failed during the burst"
    )
    await chaos.recovered(lifted, name)
    await chaos.holding(name)
    done(chaos, errors, name)


async def test_a_429_storm_with_retry_after(chaos: Chaos, errors: ErrorLog) -> None:
    """Every request answered 429 with Retry-After (1 s) for 2.5 s: accounts pause and retry,
    the engine turns stale; after the lift back to normal."""
    name = "429 storm, Retry-After"
    await chaos.close_all(name)
    started = chaos.fault(rate_limit_burst=10**9, retry_after_seconds=1)
    await chaos.stale(started)
    await chaos.resume()
    await lasting(started, STORM_SECONDS)
    lifted = chaos.lift()
    nothing_opened(chaos, started, lifted)
    await chaos.recovered(lifted, name)
    await chaos.holding(name)
    done(chaos, errors, name)


async def test_a_429_storm_without_retry_after(chaos: Chaos, errors: ErrorLog) -> None:
    """Every request answered 429 without Retry-After for 2.5 s: the accounts back off
    exponentially (never longer than a cool-down); after the lift back to normal."""
    name = "429 storm, no Retry-After"
    await chaos.close_all(name)
    started = chaos.fault(rate_limit_burst=10**9, retry_after_seconds=0)  # no header
    await chaos.stale(started)
    await chaos.resume()
    await lasting(started, STORM_SECONDS)
    lifted = chaos.lift()
    nothing_opened(chaos, started, lifted)
    await chaos.recovered(lifted, name)
    await chaos.holding(name)
    done(chaos, errors, name)


async def test_a_burst_of_calls_on_the_account(chaos: Chaos, errors: ErrorLog) -> None:
    """Eight connection tests at once (24 requests of the account, more than its limit per
    second): the throttle spaces them, none fails, and the health published meanwhile says the
    limits are nearly full. Once the burst is over, the health on the stream is healthy again
    by itself (nothing else happening on the exchange)."""
    name = "burst of calls"
    started = time.time()
    request = cpb.TestConnectionRequest(id=chaos.world.connection_id)
    results = await asyncio.gather(
        *(chaos.connections.TestConnection(request, metadata=auth()) for _ in range(8))
    )
    ended = time.time()
    assert {r.status for r in results} <= {"success", "warning"}, [r.status for r in results]
    await chaos.health.first(
        lambda c: "rate limits nearly full" in c.health.reasons,
        since=started,
        what="the busy account in the connection's health",
    )
    await chaos.recovered(ended, name)
    done(chaos, errors, name)


# -- signed calls ---------------------------------------------------------------------------------


async def test_clock_skew(chaos: Chaos, errors: ErrorLog) -> None:
    """The exchange's clock runs 60 s ahead for 2 s: every signed request is refused (its
    timestamp is outside the exchange's window); public market data is not affected.

    The signed calls CTS makes on its own are its health checks and live orders (see the next
    test); a user's connection test is one too. Meanwhile: the engine stays fresh; a connection
    test fails with ``clock_skew`` and the connection's health is not healthy. Back to normal
    means: the engine fresh, the connection's health healthy again by itself — without another
    test, as after any other fault (the refusal said nothing against the key) — a connection
    test passing, and live trading following the book (positions closed and opened again)."""
    name = "clock skew"
    started = chaos.fault(clock_skew_ms=60_000)
    result = await chaos.connections.TestConnection(
        cpb.TestConnectionRequest(id=chaos.world.connection_id), metadata=auth()
    )
    assert (result.status, result.error_reason) == ("failed", "clock_skew"), result
    await chaos.health.first(
        lambda c: c.health.last_check_result == "clock_skew" and c.health.status != "healthy",
        since=started,
        what="the failed test in the connection's health",
    )
    await lasting(started, OUTAGE_SECONDS)
    lifted = chaos.lift()
    assert not [s for s in chaos.engine.since(started) if s.stale], "market data is public"
    await chaos.recovered(lifted, name)
    passed = await chaos.connections.TestConnection(
        cpb.TestConnectionRequest(id=chaos.world.connection_id), metadata=auth()
    )
    assert passed.status != "failed", passed
    await chaos.close_all(name)
    await chaos.resume()
    await chaos.holding(name)
    done(chaos, errors, name)


async def test_clock_skew_while_positions_close(chaos: Chaos, errors: ErrorLog) -> None:
    """The exchange's clock runs 60 s ahead while both positions take their profit: the engine
    (on public prices) closes its pseudo positions, their live closing orders are refused.
    A close decided is never dropped: once the clock is right again (2 s), the live positions
    close, no position stays open at the exchange without a pseudo position to follow."""
    name = "clock skew while closing"
    await chaos.pause()
    started = chaos.fault(clock_skew_ms=60_000)
    chaos.move()
    await chaos.position_events.after(
        lambda p: p.mode == "pseudo" and p.status == "closed",
        since=started,
        what="the engine closing its pseudo positions",
    )
    await lasting(started, OUTAGE_SECONDS)
    lifted = chaos.lift()
    await closes_done(chaos, errors, name, lifted, "the refused closes done after the skew")


# -- orders ---------------------------------------------------------------------------------------


async def test_lost_answers_on_orders(chaos: Chaos, errors: ErrorLog) -> None:
    """The next four orders (two closes, then two opens) are carried out but their answers are
    lost on the way back: each is found at the exchange by its client order id, none is sent
    twice."""
    name = "lost answers"
    account = chaos.world.account
    before = chaos.sim.call(lambda: len(account.orders))
    chaos.fault(lose_answers=4)
    await chaos.close_all(name)
    await chaos.resume()
    await chaos.holding(name)
    after = chaos.sim.call(lambda: len(account.orders))
    assert after - before == 4, f"{after - before} orders reached the exchange, not 4"
    exchange = chaos.world.exchange
    left = chaos.sim.call(lambda: chaos.sim.simulator.faults.effective(exchange, None))
    assert left.lose_answers == 0, f"{left.lose_answers} answers were not lost"
    lifted = chaos.lift()
    await chaos.recovered(lifted, name)
    done(chaos, errors, name)
