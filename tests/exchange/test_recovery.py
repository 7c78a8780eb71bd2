"""Exchange access recovers by itself after an outage, whatever its listeners do: against the
simulator with unmodified ccxt, for each exchange."""

from __future__ import annotations

import asyncio

import pytest

from server.exchange.access import AccessConfig, ExchangeAccess, Target
from server.exchange.breaker import CircuitState
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.simulator.server import Simulator

EXCHANGES = ("binance", "bybit", "okx")


@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_the_market_feeds_circuit_closes_after_an_outage_although_its_listener_raises(
    sim: Simulator, exchange: str
) -> None:
    access = ExchangeAccess(
        AccessConfig(
            simulator_url=sim.base_url,
            timeout_seconds=2,
            breaker_threshold=2,
            breaker_cooldown_seconds=0.3,
        )
    )
    told: list[CircuitState] = []

    def health_monitor(account_id: str, connection_ids: set[str], state: CircuitState) -> None:
        told.append(state)
        raise ValueError("a listener that fails on every change")

    access.on_circuit_change.add(health_monitor)
    # The shared market feed's own id: no connection's (the monitor once choked on it).
    feed = Target(f"feed:{exchange}:spot:simulated", exchange, "spot", simulated=True)
    symbol = "BTC/USDT"
    try:
        assert await access.call(feed, lambda a: a.tickers([symbol]))
        sim.faults.set({"down": True}, exchange=exchange)
        failures = []
        while True:
            try:
                await access.call(feed, lambda a: a.tickers([symbol]))
            except ExchangeError as exc:
                failures.append(exc.failure)
                if exc.failure is ExchangeFailure.CIRCUIT_OPEN:
                    break
        assert failures[-1] is ExchangeFailure.CIRCUIT_OPEN
        assert told == [CircuitState.OPEN]

        sim.faults.clear()  # the outage ends
        account = access.account(feed)
        await asyncio.sleep(account.breaker.retry_in)  # the circuit's own cool-down
        prices = await access.call(feed, lambda a: a.tickers([symbol]))  # the probe
        assert symbol in prices
        assert access.exchange_circuit(exchange) is CircuitState.CLOSED
        assert told == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]
        assert await access.call(feed, lambda a: a.tickers([symbol]))
    finally:
        await access.close()
