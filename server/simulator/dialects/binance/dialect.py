"""The Binance dialect: every endpoint of the simulator's Binance, by path."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from server.simulator.dialects.binance.account import BinanceAccount
from server.simulator.dialects.binance.currencies import BinanceCurrencies
from server.simulator.dialects.binance.market import BinanceMarket
from server.simulator.dialects.binance.orders import BinanceOrders
from server.simulator.dialects.binance.wire import Family, Handler, Security


class BinanceDialect(BinanceOrders, BinanceAccount, BinanceCurrencies, BinanceMarket):
    """Binance spot (``/api/v3``, ``/sapi``), cross margin (``/sapi/v1/margin``) and USDⓈ-M
    futures (``/fapi``)."""

    def routes(self) -> Iterable[web.RouteDef]:
        return [
            web.route(method, path, self._endpoint(family, security, handler))
            for method, path, family, security, handler in self._table()
        ]

    def _table(self) -> list[tuple[str, str, Family, Security, Handler]]:
        spot, margin, futures, coin = Family.SPOT, Family.MARGIN, Family.FUTURES, Family.COIN
        public, user, trade = Security.NONE, Security.USER_DATA, Security.TRADE
        return [
            ("GET", "/api/v3/ping", spot, public, self.ping),
            ("GET", "/api/v3/time", spot, public, self.time),
            ("GET", "/api/v3/exchangeInfo", spot, public, self.exchange_info),
            ("GET", "/api/v3/ticker/24hr", spot, public, self.ticker_24hr),
            ("GET", "/api/v3/ticker/price", spot, public, self.ticker_price),
            ("GET", "/api/v3/ticker/bookTicker", spot, public, self.book_ticker),
            ("GET", "/api/v3/klines", spot, public, self.klines),
            ("GET", "/api/v3/depth", spot, public, self.depth),
            ("GET", "/sapi/v1/system/status", spot, public, self.system_status),
            ("GET", "/api/v3/account", spot, user, self.spot_account),
            ("GET", "/api/v3/order", spot, user, self.query_order),
            ("GET", "/api/v3/openOrders", spot, user, self.open_orders),
            ("GET", "/api/v3/allOrders", spot, user, self.all_orders),
            ("GET", "/api/v3/myTrades", spot, user, self.my_trades),
            ("GET", "/sapi/v1/account/apiRestrictions", spot, user, self.api_restrictions),
            ("GET", "/sapi/v1/capital/config/getall", spot, user, self.capital_config),
            ("GET", "/sapi/v1/margin/allPairs", spot, user, self.margin_pairs),
            ("GET", "/sapi/v1/margin/isolated/allPairs", spot, user, self.margin_pairs),
            ("POST", "/api/v3/order", spot, trade, self.new_order),
            ("POST", "/api/v3/order/test", spot, trade, self.test_order),
            ("DELETE", "/api/v3/order", spot, trade, self.cancel_order),
            ("DELETE", "/api/v3/openOrders", spot, trade, self.cancel_open_orders),
            ("GET", "/sapi/v1/margin/account", margin, user, self.margin_account),
            ("GET", "/sapi/v1/margin/order", margin, user, self.query_order),
            ("GET", "/sapi/v1/margin/openOrders", margin, user, self.open_orders),
            ("GET", "/sapi/v1/margin/allOrders", margin, user, self.all_orders),
            ("GET", "/sapi/v1/margin/myTrades", margin, user, self.my_trades),
            ("POST", "/sapi/v1/margin/order", margin, trade, self.new_order),
            ("DELETE", "/sapi/v1/margin/order", margin, trade, self.cancel_order),
            ("DELETE", "/sapi/v1/margin/openOrders", margin, trade, self.cancel_open_orders),
            ("GET", "/fapi/v1/ping", futures, public, self.ping),
            ("GET", "/fapi/v1/time", futures, public, self.time),
            ("GET", "/fapi/v1/exchangeInfo", futures, public, self.exchange_info),
            ("GET", "/fapi/v1/ticker/24hr", futures, public, self.ticker_24hr),
            ("GET", "/fapi/v1/ticker/price", futures, public, self.ticker_price),
            ("GET", "/fapi/v2/ticker/price", futures, public, self.ticker_price),
            ("GET", "/fapi/v1/ticker/bookTicker", futures, public, self.book_ticker),
            ("GET", "/fapi/v1/klines", futures, public, self.klines),
            ("GET", "/fapi/v1/depth", futures, public, self.depth),
            ("GET", "/fapi/v1/premiumIndex", futures, public, self.premium_index),
            ("GET", "/fapi/v2/account", futures, user, self.futures_account),
            ("GET", "/fapi/v3/account", futures, user, self.futures_account),
            ("GET", "/fapi/v2/balance", futures, user, self.futures_balance),
            ("GET", "/fapi/v3/balance", futures, user, self.futures_balance),
            ("GET", "/fapi/v1/order", futures, user, self.query_order),
            ("GET", "/fapi/v1/openOrders", futures, user, self.open_orders),
            ("GET", "/fapi/v1/allOrders", futures, user, self.all_orders),
            ("GET", "/fapi/v1/userTrades", futures, user, self.my_trades),
            ("GET", "/fapi/v1/leverageBracket", futures, user, self.leverage_brackets),
            ("GET", "/fapi/v2/positionRisk", futures, user, self.position_risk_v2),
            ("GET", "/fapi/v3/positionRisk", futures, user, self.position_risk_v3),
            ("GET", "/fapi/v1/positionSide/dual", futures, user, self.position_mode),
            ("POST", "/fapi/v1/order", futures, trade, self.new_order),
            ("DELETE", "/fapi/v1/order", futures, trade, self.cancel_order),
            ("DELETE", "/fapi/v1/allOpenOrders", futures, trade, self.cancel_all_futures),
            ("POST", "/fapi/v1/leverage", futures, trade, self.set_leverage),
            ("GET", "/fapi/v1/symbolConfig", futures, user, self.symbol_config),
            ("GET", "/dapi/v1/ping", coin, public, self.ping),
            ("GET", "/dapi/v1/time", coin, public, self.time),
            ("GET", "/dapi/v1/exchangeInfo", coin, public, self.exchange_info),
        ]
