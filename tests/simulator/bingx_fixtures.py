"""Fixtures of the BingX dialect's tests: a simulator with BingX, an account, ccxt instances."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt.async_support as ccxt
import pytest

from server.exchange.ccxt_factory import create_ccxt, rewrite_urls
from server.simulator.dialects.bingx import BingxDialect
from server.simulator.instruments import Kind
from server.simulator.ledger import Account
from server.simulator.server import Simulator

API_TYPES = ("spot", "perpetual_futures")
BTC = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
KINDS = {"spot": Kind.SPOT, "perpetual_futures": Kind.LINEAR}
Connect = Callable[..., Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=17, dialects=[BingxDialect])
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("bingx")


def plain_bingx(sim: Simulator, account: Account, api_type: str) -> Any:
    """ccxt ``bingx`` with its default options, only its URLs moved to the simulator."""
    default_type = "spot" if api_type == "spot" else "swap"
    exchange = ccxt.bingx(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "enableRateLimit": False,
            "options": {"defaultType": default_type},
        }
    )
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], sim.base_url)
    return exchange


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """Makes ccxt instances for the simulator: CTS's (create_ccxt) or, with ``plain``, ccxt's
    defaults; the test's account unless told otherwise."""
    made: list[Any] = []

    def make(
        api_type: str,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        plain: bool = False,
    ) -> Any:
        keys = Account("bingx", api_key or account.api_key, secret or account.secret)
        if plain:
            exchange = plain_bingx(sim, keys, api_type)
        else:
            exchange = create_ccxt(
                "bingx",
                api_type,
                api_key=keys.api_key,
                secret=keys.secret,
                base_url=sim.base_url,
            )
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        await exchange.close()
