"""The quote currency of an account: the currency its summary shows money in.

**Decision.** An account's money is shown in the settle (derivatives) or quote (spot) currency of
the markets its engine trades: the engine trades the most traded markets quoted in USDT, or in
USD where the exchange has none of that type (:data:`server.engine.loading.QUOTES`; Kraken
Futures settles in USD). So:
1. the settle/quote currency of the account's positions, when CTS holds any (an engine trades
   markets of one quote currency, so any of its symbols says it);
2. else the first of USDT, USD that the exchange's balance lists;
3. else USDT.
PnL is never converted: positions of another quote currency (none in practice) count as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.engine.loading import QUOTES

DEFAULT_QUOTE = QUOTES[0]


def settle_of(symbol: str) -> str:
    """The currency a market's PnL is in: ``BTC/USDT:USDT`` → USDT, ``BTC/USDT`` → USDT."""
    base_quote, _, settle = symbol.partition(":")
    if settle:
        return settle
    return base_quote.partition("/")[2] or DEFAULT_QUOTE


def quote_from_assets(assets: Iterable[str]) -> str | None:
    """The first of the engine's quote currencies among the assets a balance lists."""
    held = set(assets)
    return next((quote for quote in QUOTES if quote in held), None)
