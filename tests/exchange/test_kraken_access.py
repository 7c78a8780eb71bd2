"""Kraken spot through CTS's exchange access (ccxt ``kraken`` as CTS builds it) against the
simulator: CTS's units (Decimal) and CTS's error kinds."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.simulator.ledger import Account
from server.simulator.server import Simulator


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(
        AccessConfig(simulator_url=sim.base_url, timeout_seconds=5, max_retries=0)
    )
    yield exchange_access
    await exchange_access.close()


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("kraken", secret=base64.b64encode(os.urandom(64)).decode())


def target(account: Account, *, secret: str | None = None) -> Target:
    return Target(
        connection_id=f"kraken-spot-{account.api_key[-6:]}-{secret is not None}",
        exchange="kraken",
        api_type="spot",
        simulated=True,
        credentials=Credentials(account.api_key, secret or account.secret, None),
    )


async def test_market_data_and_balances_in_decimals(
    access: ExchangeAccess, account: Account
) -> None:
    where = target(account)
    markets = {m.symbol: m for m in await access.call(where, lambda a: a.markets())}
    tickers = await access.call(where, lambda a: a.tickers(["BTC/USDT"]))
    candles = await access.call(where, lambda a: a.candles("BTC/USDT", "1m", limit=5))
    balances = {b.asset: b for b in await access.call(where, lambda a: a.balances())}

    btc = markets["BTC/USDT"]
    assert (btc.base, btc.quote, btc.price_precision) == ("BTC", "USDT", Decimal("0.1"))
    assert btc.min_cost == 5 and btc.taker_fee == Decimal("0.001")
    ticker = tickers["BTC/USDT"]
    assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
    assert isinstance(ticker.change_percent, Decimal) and ticker.quote_volume
    assert len(candles) == 5 and all(c.low <= c.close <= c.high for c in candles)
    assert balances["USDT"].total == Decimal(10_000) and balances["BTC"].free == Decimal("0.25")


async def test_orders_and_finding_one_by_its_client_order_id(
    sim: Simulator, access: ExchangeAccess, account: Account
) -> None:
    where = target(account)
    sim.prices.set_price("BTC", "65000")
    client_id = uuid.uuid4().hex  # Kraken takes UUIDs (or free text of up to 18 characters)
    placed = await access.call(
        where,
        lambda a: a.create_order(
            "BTC/USDT", "buy", "limit", Decimal("0.001"), Decimal(60000), client_order_id=client_id
        ),
    )
    found = await access.call(where, lambda a: a.find_order(client_id, "BTC/USDT"))
    assert found is not None and (found.id, found.status) == (placed.id, "open")
    assert found.client_order_id == client_id and found.price == Decimal(60000)
    assert [o.id for o in await access.call(where, lambda a: a.open_orders("BTC/USDT"))] == [
        placed.id
    ]
    await access.call(where, lambda a: a.cancel_order(placed.id, "BTC/USDT"))
    cancelled = await access.call(where, lambda a: a.find_order(client_id, "BTC/USDT"))
    assert cancelled is not None and cancelled.status == "canceled"
    assert await access.call(where, lambda a: a.find_order(uuid.uuid4().hex, "BTC/USDT")) is None

    bought = await access.call(
        where, lambda a: a.create_order("BTC/USDT", "buy", "market", Decimal("0.01"))
    )
    filled = await access.call(where, lambda a: a.fetch_order(bought.id, "BTC/USDT"))
    assert (filled.status, filled.filled) == ("closed", Decimal("0.01"))
    assert filled.average == Decimal("65000.1") and filled.fee is not None


async def test_perpetual_futures_use_the_futures_api_and_its_keys(
    sim: Simulator, access: ExchangeAccess
) -> None:
    futures = sim.open_account("krakenfutures", secret=base64.b64encode(os.urandom(64)).decode())
    where = Target(
        connection_id="kraken-perp",
        exchange="kraken",
        api_type="perpetual_futures",
        simulated=True,
        credentials=Credentials(futures.api_key, futures.secret, None),
    )
    sim.prices.set_price("ETH", "3200")
    clock = await access.call(where, lambda a: a.server_time())
    assert abs(clock.server_ms - (clock.sent_ms + clock.received_ms) / 2) < 2000
    client_id = uuid.uuid4().hex
    bought = await access.call(
        where,
        lambda a: a.create_order(
            "ETH/USD:USD", "buy", "market", Decimal("0.5"), client_order_id=client_id
        ),
    )
    assert (bought.status, bought.filled) == ("closed", Decimal("0.5"))
    found = await access.call(where, lambda a: a.find_order(client_id, "ETH/USD:USD"))
    assert found is not None and found.id == bought.id
    [position] = await access.call(where, lambda a: a.positions())
    assert (position.symbol, position.side, position.amount) == (
        "ETH/USD:USD",
        "long",
        Decimal("0.5"),
    )
    assert position.entry_price == Decimal("3200.01")
    balances = {b.asset: b for b in await access.call(where, lambda a: a.balances())}
    assert balances["USDT"].free < Decimal(10_000)
    assert {r.path for r in sim.requests if r.api_key == futures.api_key} >= {
        "/derivatives/api/v3/sendorder",
        "/derivatives/api/v3/orders/status",
        "/derivatives/api/v3/openpositions",
    }
