"""An account's balance in its quote currency, from what the exchange lists per asset.

**Derivatives** (perpetual futures, unified): the exchange's own figures of the settle currency
— its total is the account's equity (wallet balance plus unrealised PnL, as the exchange counts
it), ``free`` what can margin new orders, ``used`` what is held.

**Spot and margin**: ``equity`` is the quote asset's total plus every other held asset at its last
price in the quote currency, where the running market feeds know one (never an extra exchange
call for prices); assets without a known price are listed as unvalued and left out. ``free`` and
``used`` are those of the quote asset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from server.accounts.model import ZERO, Balance
from server.engine.feed import MarketFeeds, MarketSource
from server.exchange.access import Target
from server.exchange.model import AssetBalance

#: The last price of ``symbol`` (e.g. ``ETH/USDT``) that CTS knows, or None.
PriceOf = Callable[[str], Decimal | None]


def valued(
    assets: Sequence[AssetBalance],
    *,
    quote: str,
    derivatives: bool,
    price_of: PriceOf,
    read_at: datetime,
) -> Balance:
    own = next((a for a in assets if a.asset == quote), None)
    free = own.free if own is not None else ZERO
    used = own.used if own is not None else ZERO
    equity = own.total if own is not None else ZERO
    unvalued: list[str] = []
    if not derivatives:
        for asset in assets:
            if asset.asset == quote or asset.total == 0:
                continue
            price = price_of(f"{asset.asset}/{quote}")
            if price is None:
                unvalued.append(asset.asset)
            else:
                equity += asset.total * price
    return Balance(
        equity=equity,
        free=free,
        used=used,
        read_at=read_at,
        error="",
        unvalued_assets=tuple(sorted(unvalued)),
    )


def feed_prices(feeds: MarketFeeds) -> Callable[[Target], PriceOf]:
    """Last prices from the market feeds that run now: those of the account's own market source
    first, then of any other source of the same exchange (a margin account's assets are priced
    by the spot feed). Nothing is fetched for this."""

    def for_target(target: Target) -> PriceOf:
        own = MarketSource.of(target)

        def price_of(symbol: str) -> Decimal | None:
            running = sorted(feeds.running(), key=lambda f: f.source != own)
            for feed in running:
                source = feed.source
                if (source.exchange, source.testnet, source.simulated) != (
                    own.exchange,
                    own.testnet,
                    own.simulated,
                ):
                    continue
                tick = feed.latest
                ticker = tick.prices.get(symbol) if tick is not None else None
                if ticker is not None and ticker.last:
                    return ticker.last
            return None

        return price_of

    return for_target
