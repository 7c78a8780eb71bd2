"""The OKX dialect: every endpoint of the simulator's OKX, by path."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from server.simulator.dialects.okx.account import OkxAccount
from server.simulator.dialects.okx.currencies import OkxCurrencies
from server.simulator.dialects.okx.market import OkxMarket
from server.simulator.dialects.okx.orders import OkxOrders
from server.simulator.dialects.okx.positions import OkxPositions
from server.simulator.dialects.okx.wire import PREFIX


class OkxDialect(OkxPositions, OkxOrders, OkxAccount, OkxCurrencies, OkxMarket):
    """OKX v5: spot and USDT-margined perpetual swaps of a "Spot and futures" account."""

    def routes(self) -> Iterable[web.RouteDef]:
        public, private = self._public, self._private
        p = PREFIX
        return [
            web.get(p + "public/time", public(self.public_time)),
            web.get(p + "public/instruments", public(self.public_instruments)),
            web.get(p + "market/tickers", public(self.market_tickers)),
            web.get(p + "market/ticker", public(self.market_ticker)),
            web.get(p + "market/books", public(self.market_books)),
            web.get(p + "market/books-full", public(self.market_books_full)),
            web.get(p + "market/candles", public(self.market_candles)),
            web.get(p + "market/history-candles", public(self.market_candles)),
            web.get(p + "account/config", private(self.account_config, needs_read=False)),
            web.get(p + "account/balance", private(self.account_balance)),
            web.get(p + "asset/currencies", private(self.asset_currencies)),
            web.get(p + "account/positions", private(self.account_positions)),
            web.post(p + "account/set-leverage", private(self.set_leverage, trades=True)),
            web.get(p + "account/leverage-info", private(self.leverage_info)),
            web.post(p + "trade/order", private(self.place_order, trades=True)),
            web.post(p + "trade/batch-orders", private(self.place_orders, trades=True)),
            web.post(p + "trade/cancel-order", private(self.cancel_order, trades=True)),
            web.get(p + "trade/order", private(self.get_order)),
            web.get(p + "trade/orders-pending", private(self.orders_pending)),
            web.get(p + "trade/orders-history", private(self.orders_history)),
            web.get(p + "trade/orders-history-archive", private(self.orders_history)),
            web.get(p + "trade/fills", private(self.fills)),
            web.get(p + "trade/fills-history", private(self.fills_history)),
        ]
