"""Fixtures of the BingX dialect's tests: a simulator with BingX, an account, ccxt instances."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt.async_support as ccxt
import pytest

from server.simulator.dialects.bingx import BingxDialect
from server.simulator.instruments import Kind
from server.simulator.ledger import Account
from server.simulator.server import Simulator
from tests.support.simulated import ccxt_instances, running_simulator

API_TYPES = ("spot", "perpetual_futures")
BTC = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
KINDS = {"spot": Kind.SPOT, "perpetual_futures": Kind.LINEAR}
Connect = Callable[..., Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(17, BingxDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("bingx")


def plain_options(api_type: str) -> dict[str, Any]:
    """ccxt ``bingx``'s default options but for the market type."""
    return {"options": {"defaultType": "spot" if api_type == "spot" else "swap"}}


@pytest.fixture
async def connect(sim: Simulator, account: Account) -> AsyncIterator[Connect]:
    """Makes ccxt instances for the simulator: CTS's (create_ccxt) or, with ``plain``, ccxt's
    defaults; the test's account unless told otherwise."""
    async with ccxt_instances(sim, "bingx", account) as instances:

        def make(
            api_type: str,
            *,
            api_key: str | None = None,
            secret: str | None = None,
            plain: bool = False,
        ) -> Any:
            key, sec = api_key or account.api_key, secret or account.secret
            if plain:
                keys = {"apiKey": key, "secret": sec}
                return instances.plain(ccxt.bingx, keys | plain_options(api_type))
            return instances.cts(api_type, api_key=key, secret=sec)

        yield make
