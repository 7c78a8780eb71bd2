"""Unmodified ccxt with its own default options — as a tool such as Freqtrade builds it, not as
CTS trims it — starts against every dialect: each request ``load_markets`` makes is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt
import pytest

from server.exchange.ccxt_factory import rewrite_urls
from server.simulator.server import Simulator

# ccxt class → (the simulated exchange, a spot symbol and a perpetual symbol it must list, if any)
CLIENTS = {
    "binance": ("binance", "BTC/USDT", "BTC/USDT:USDT"),
    "binanceusdm": ("binance", None, "BTC/USDT:USDT"),
    "bybit": ("bybit", "BTC/USDT", "BTC/USDT:USDT"),
    "okx": ("okx", "BTC/USDT", "BTC/USDT:USDT"),
    "kraken": ("kraken", "BTC/USDT", None),
    "krakenfutures": ("krakenfutures", None, "BTC/USD:USD"),
    "bingx": ("bingx", "BTC/USDT", "BTC/USDT:USDT"),
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=5)
    await simulator.start()
    yield simulator
    await simulator.stop()


def default_client(sim: Simulator, ccxt_class: str, *, keys: bool) -> Any:
    """A ccxt instance with nothing but keys and the simulator's address (limiter off)."""
    exchange_name = CLIENTS[ccxt_class][0]
    config: dict[str, Any] = {"enableRateLimit": False}
    if keys:
        account = sim.open_account(exchange_name)
        config |= {"apiKey": account.api_key, "secret": account.secret}
        if account.passphrase:
            config["password"] = account.passphrase
    client = getattr(ccxt, ccxt_class)(config)
    client.urls["api"] = rewrite_urls(client.urls["api"], sim.base_url)
    client.timeout_on_exit = 0
    return client


@pytest.mark.parametrize("keys", [False, True], ids=["public", "with-keys"])
@pytest.mark.parametrize("ccxt_class", sorted(CLIENTS))
async def test_load_markets_with_default_options_starts(
    sim: Simulator, ccxt_class: str, keys: bool
) -> None:
    exchange_name, spot, perpetual = CLIENTS[ccxt_class]
    client = default_client(sim, ccxt_class, keys=keys)
    try:
        markets = await client.load_markets()
    finally:
        await client.close()
    refused = [(r.method, r.path, r.status) for r in sim.requests if r.status >= 400]
    assert refused == []
    assert {r.exchange for r in sim.requests} == {exchange_name}
    assert {spot, perpetual} - {None} <= set(markets)
