"""The Bybit dialect: every endpoint of the simulator's Bybit, by path."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from server.simulator.dialects.bybit.account import BybitAccount
from server.simulator.dialects.bybit.currencies import BybitCurrencies
from server.simulator.dialects.bybit.market import BybitMarket
from server.simulator.dialects.bybit.orders import BybitOrders
from server.simulator.dialects.bybit.positions import BybitPositions


class BybitDialect(BybitPositions, BybitOrders, BybitAccount, BybitCurrencies, BybitMarket):
    """Bybit v5: spot and USDT-linear perpetuals of a unified trading account."""

    def routes(self) -> Iterable[web.RouteDef]:
        public, private = self._public, self._private
        return [
            web.get("/v5/market/time", public(self.market_time)),
            web.get("/v5/market/instruments-info", public(self.instruments_info)),
            web.get("/v5/market/tickers", public(self.tickers)),
            web.get("/v5/market/kline", public(self.kline)),
            web.get("/v5/market/orderbook", public(self.orderbook)),
            web.get("/v5/user/query-api", private(self.query_api, needs_read=False)),
            web.get("/v5/account/info", private(self.account_info)),
            web.get("/v5/account/wallet-balance", private(self.wallet_balance)),
            web.get("/v5/asset/coin/query-info", private(self.coin_info)),
            web.post("/v5/order/create", private(self.create_order)),
            web.post("/v5/order/cancel", private(self.cancel_order)),
            web.get("/v5/order/realtime", private(self.realtime_orders)),
            web.get("/v5/order/history", private(self.order_history)),
            web.get("/v5/execution/list", private(self.execution_list)),
            web.get("/v5/position/list", private(self.position_list)),
            web.post("/v5/position/set-leverage", private(self.set_leverage)),
        ]
