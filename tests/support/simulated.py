"""A simulator of some dialects, started for one test, and the ccxt instances a test makes for
it (as CTS builds them, or plain ccxt), closed together when the test ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from server.exchange.ccxt_factory import create_ccxt, rewrite_urls
from server.simulator.dialects.base import Dialect
from server.simulator.ledger import Account
from server.simulator.server import Simulator


@contextlib.asynccontextmanager
async def running_simulator(seed: int, *dialects: type[Dialect]) -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=seed, dialects=list(dialects) or None)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


class Instances:
    """ccxt instances against ``sim``, with ``account``'s keys unless told otherwise."""

    def __init__(self, sim: Simulator, exchange: str, account: Account) -> None:
        self.sim, self.exchange, self.account = sim, exchange, account
        self._made: list[Any] = []

    def cts(
        self,
        api_type: str,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
    ) -> Any:
        """The instance CTS builds (``create_ccxt``)."""
        return self.adopt(
            create_ccxt(
                self.exchange,
                api_type,
                api_key=api_key or self.account.api_key,
                secret=secret or self.account.secret,
                passphrase=passphrase or self.account.passphrase,
                base_url=self.sim.base_url,
            )
        )

    def plain(self, ccxt_class: Any, config: dict[str, Any]) -> Any:
        """``ccxt_class`` with its defaults and ``config``; only its URLs moved to the simulator."""
        exchange = ccxt_class({"enableRateLimit": False, **config})
        exchange.urls["api"] = rewrite_urls(exchange.urls["api"], self.sim.base_url)
        return self.adopt(exchange)

    def adopt(self, exchange: Any) -> Any:
        self._made.append(exchange)
        return exchange

    async def close(self) -> None:
        for exchange in self._made:
            await exchange.close()


@contextlib.asynccontextmanager
async def ccxt_instances(
    sim: Simulator, exchange: str, account: Account
) -> AsyncIterator[Instances]:
    instances = Instances(sim, exchange, account)
    try:
        yield instances
    finally:
        await instances.close()
