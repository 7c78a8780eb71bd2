"""Every exchange and API type CTS trades (``server.exchange.catalogue``), as the tests against
the simulator meet them: the simulated exchange and demo account behind each, and the symbol
its tests trade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from server.exchange.access import Credentials, Target
from server.exchange.catalogue import DIALECTS
from server.simulator.demo import DEMO_ACCOUNTS
from server.simulator.ledger import Account

DEMO = {account.exchange: account for account in DEMO_ACCOUNTS}
DERIVATIVES = {"perpetual_futures"}
# Where a venue differs from its exchange's default: Kraken's perpetuals are Kraken Futures, a
# separate API with its own keys and USD-settled markets.
SIMULATED_AS = {("kraken", "perpetual_futures"): "krakenfutures"}
SYMBOLS = {("kraken", "perpetual_futures"): "BTC/USD:USD"}


@dataclass(frozen=True)
class Venue:
    exchange: str
    api_type: str
    symbol: str
    # method → {property: why it is skipped (the real exchange answers the same way)}
    skipped: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def skips(self, method: str) -> dict[str, str]:
        return dict(self.skipped.get(method, {}))

    @property
    def id(self) -> str:
        return f"{self.exchange}-{self.api_type}"

    @property
    def simulated_as(self) -> str:
        """The simulator's exchange (and demo account) behind this venue."""
        return SIMULATED_AS.get((self.exchange, self.api_type), self.exchange)

    @property
    def derivative(self) -> bool:
        return self.api_type in DERIVATIVES

    def target(self, account: Account, **credentials: str) -> Target:
        """A connection of this venue with ``account``'s keys (or the ``credentials`` given)."""
        keys = {
            "api_key": account.api_key,
            "secret": account.secret,
            "passphrase": account.passphrase,
        } | credentials
        return Target(
            connection_id=f"{self.id}-{keys['api_key'][-6:]}-{len(credentials)}",
            exchange=self.exchange,
            api_type=self.api_type,
            simulated=True,
            credentials=Credentials(keys["api_key"], keys["secret"], keys["passphrase"]),
        )


def venues(
    skipped: Mapping[tuple[str, str], Mapping[str, Mapping[str, str]]] | None = None,
) -> list[Venue]:
    found = []
    for exchange, api_type in sorted(DIALECTS):
        symbol = "BTC/USDT:USDT" if api_type in DERIVATIVES else "BTC/USDT"
        symbol = SYMBOLS.get((exchange, api_type), symbol)
        found.append(
            Venue(exchange, api_type, symbol, (skipped or {}).get((exchange, api_type), {}))
        )
    return found


VENUES = venues()
