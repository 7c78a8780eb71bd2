"""The price ticker of the page frame: the prices of the market the server already follows for
its engines (the first running market feed), live from ``WatchPrices``; no extra exchange call."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from cts.monitoring.v1 import market_pb2 as pb
from nicegui import background_tasks, ui

from webui.backend import Backend, BackendError
from webui.feeds import Feeds, Market, PriceFeed

SHOWN = 6  # symbols in the ticker: the most traded (by 24 h quote volume)


def _volume(price: pb.Price) -> Decimal:
    try:
        return Decimal(price.quote_volume or "0")
    except InvalidOperation:
        return Decimal(0)


def ticker_text(price: pb.Price) -> str:
    """``BTC/USDT 43210.5 +1.25 %`` (the change left out when the exchange gives none)."""
    change = price.change_percent
    if change and not change.startswith("-"):
        change = f"+{change}"
    return f"{price.symbol} {price.last}" + (f" {change} %" if change else "")


def price_ticker(backend: Backend, feeds: Feeds, token: str) -> None:
    """A row in the header that fills itself once it knows which market to follow."""
    client = ui.context.client
    row = ui.row().classes("items-center gap-3 text-xs text-slate-200").mark("price-ticker")

    def show(feed: PriceFeed) -> None:
        if client.is_deleted:
            return
        shown = sorted(feed.prices.values(), key=_volume, reverse=True)[:SHOWN]
        row.clear()
        with row:
            where = feed.market.exchange + (" (simulator)" if feed.market.simulated else "")
            ui.label(where).classes("font-semibold")
            for price in shown:
                ui.label(ticker_text(price)).mark("ticker-price")

    async def follow() -> None:
        try:
            listed: pb.ListPricesResponse = await backend.call(
                backend.market.ListPrices, pb.ListPricesRequest(), token
            )
        except BackendError:
            return  # the ticker is a convenience: the page works without it
        running = [f for f in listed.feeds if f.running]
        if client.is_deleted or not running:
            return
        first = running[0]
        feed = feeds.prices(
            token, Market(first.exchange, first.api_type, first.simulated, first.testnet)
        )
        feed.updated.subscribe(lambda: show(feed))
        feed.attach()
        client.on_delete(feed.detach)
        if feed.prices:
            show(feed)

    background_tasks.create(follow(), name="price-ticker")
