"""What goes wrong on the way to an exchange becomes one of CTS's failure kinds, the same on
every exchange and API type CTS trades: a wrong key or secret, a revoked key, a 429 storm, an
exchange that never answers, is down, answers 5xx or is under maintenance, and a clock out of
the exchange's window. Through the adapter CTS
uses (``ExchangeAccess``) against the simulator, for every venue of the conformance suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.exchange.access import (
    AccessConfig,
    ExchangeAccess,
    RateLimitBanned,
    Target,
)
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.throttle import RATE_LIMIT_BANS
from server.simulator.server import Simulator
from tests.support.venues import VENUES, Venue

# An exchange that never answers is given up on after this (kept short: every venue waits it).
HANG_TIMEOUT_SECONDS = 0.3
# Every other call: long enough that a loaded machine (the simulator shares the test's loop)
# never turns an answer into a timeout (CI saw a refused key's answer take over 0.3 s).
TIMEOUT_SECONDS = 10.0
OUTAGES = (
    ({"down": True}, ExchangeFailure.UNAVAILABLE),
    ({"error_rate": 1.0}, ExchangeFailure.UNAVAILABLE),
    ({"maintenance": True}, ExchangeFailure.MAINTENANCE),
)
# Venues that sign with a nonce instead of a timestamp: a skewed clock cannot be refused there.
NO_CLOCK_WINDOW = {
    "kraken-spot": "Kraken signs with an increasing nonce, not a timestamp",
    "kraken-perpetual_futures": "Kraken Futures signs with an increasing nonce, not a timestamp",
    "orangex-perpetual_futures": "OrangeX's client-credentials grant and bearer tokens carry no "
    "timestamp",
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


def exchange_access(sim: Simulator, timeout_seconds: float) -> ExchangeAccess:
    return ExchangeAccess(
        AccessConfig(
            simulator_url=sim.base_url, timeout_seconds=timeout_seconds, breaker_threshold=100
        )
    )


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    patient = exchange_access(sim, TIMEOUT_SECONDS)
    yield patient
    await patient.close()


@pytest.fixture
async def impatient(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    quick = exchange_access(sim, HANG_TIMEOUT_SECONDS)
    yield quick
    await quick.close()


async def failure(access: ExchangeAccess, where: Target) -> ExchangeError:
    with pytest.raises(ExchangeError) as raised:
        await access.call(where, lambda a: a.balances(), retry=False)
    message = str(raised.value)
    assert where.credentials.api_key not in message and "{" not in message, message
    return raised.value


@pytest.fixture(params=VENUES, ids=lambda v: v.id)
def venue(request: pytest.FixtureRequest) -> Venue:
    return request.param  # type: ignore[no-any-return]


async def test_keys_that_the_exchange_refuses_are_authentication_failures(
    sim: Simulator, access: ExchangeAccess, venue: Venue
) -> None:
    account = sim.open_account(venue.simulated_as)
    good = venue.target(account)
    assert await access.call(good, lambda a: a.balances(), retry=False) is not None

    wrong_secret = venue.target(account, secret=account.secret[::-1])
    assert (await failure(access, wrong_secret)).failure is ExchangeFailure.AUTHENTICATION
    unknown_key = venue.target(account, api_key=f"unknown-{account.api_key}")
    assert (await failure(access, unknown_key)).failure is ExchangeFailure.AUTHENTICATION

    account.revoked = True
    assert (await failure(access, good)).failure is ExchangeFailure.AUTHENTICATION


async def test_a_429_storm_silence_outages_maintenance_and_a_skewed_clock_have_their_kinds(
    sim: Simulator, access: ExchangeAccess, impatient: ExchangeAccess, venue: Venue
) -> None:
    account = sim.open_account(venue.simulated_as)
    where = venue.target(account)
    assert await access.call(where, lambda a: a.balances(), retry=False) is not None

    sim.faults.set({"rate_limit_burst": 50}, api_key=account.api_key)
    assert (await failure(access, where)).failure is ExchangeFailure.RATE_LIMITED
    sim.faults.clear()
    if venue.exchange in RATE_LIMIT_BANS:  # Pionex: the 429 bans the account for a minute
        sent = len(sim.requests)
        assert isinstance(await failure(access, where), RateLimitBanned)
        assert len(sim.requests) == sent  # refused without a request, which would lengthen it
        account = sim.open_account(venue.simulated_as)
        where = venue.target(account)

    sim.faults.set({"hang": True}, api_key=account.api_key)
    assert (await failure(impatient, where)).failure is ExchangeFailure.TIMEOUT
    sim.faults.clear()

    for fault, kind in OUTAGES:
        sim.faults.set(fault, api_key=account.api_key)
        assert (await failure(access, where)).failure is kind, fault
        sim.faults.clear()

    if venue.id in NO_CLOCK_WINDOW:
        return
    sim.faults.set({"clock_skew_ms": 120_000}, exchange=venue.simulated_as)
    assert (await failure(access, where)).failure is ExchangeFailure.CLOCK_SKEW
