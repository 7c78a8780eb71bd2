"""The Pionex spot dialect: routes, the request pipeline and the answers to faults.

Every answer is Pionex's envelope, ``{"result": true, "data": ..., "timestamp": ms}`` or
``{"result": false, "code": ..., "message": ..., "timestamp": ms}``: authentication refusals
with HTTP 401, bad requests with 400, too many requests with 429 (Pionex documents the status
only; the body here is the envelope with code ``RATE_LIMIT``), an exchange that is down or in
maintenance with 503.

Pionex documents its error codes, not their texts: the messages here are the simulator's own.
Insufficient funds and a duplicate ``clientOrderId`` answer ``TRADE_OPERATION_DENIED`` with
"Insufficient balance" and "duplicate clientOrderId" (CTS's Pionex class reads those texts).

Deviations, on purpose: perpetuals (Pionex's separate /uapi API) are not served; the mass-order,
cancel-all, market-trades and fills-by-order endpoints are not served (CTS does not call them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.pionex.market import MarketData
from server.simulator.dialects.pionex.signing import KEY_HEADER, authenticate
from server.simulator.dialects.pionex.trading import Trading
from server.simulator.dialects.pionex.wire import (
    MARKET_PARAMETER_ERROR,
    PERMISSION_DENIED,
    RATE_LIMIT,
    SERVICE_UNAVAILABLE,
    Params,
    PionexError,
    envelope,
    refusal,
)
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Handler = Callable[[web.Request], Awaitable[web.Response]]
V1 = "/api/v1/"


class PionexDialect(Dialect):
    name = "pionex"
    # Narrower than Binance's "/api/v1/": the simulator picks the longest matching prefix.
    prefixes = (V1 + "common/", V1 + "market/", V1 + "account/", V1 + "trade/")

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.market = MarketData(self)
        self.trading = Trading(self)

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get(KEY_HEADER)

    def routes(self) -> Iterable[web.RouteDef]:
        public, read, trade = self._public, self._read, self._trade
        market, trading = self.market, self.trading
        return [
            web.get(V1 + "common/symbols", public(market.symbols)),
            web.get(V1 + "market/tickers", public(market.tickers)),
            web.get(V1 + "market/bookTickers", public(market.book_tickers)),
            web.get(V1 + "market/klines", public(market.klines)),
            web.get(V1 + "market/depth", public(market.depth)),
            web.get(V1 + "account/balances", read(trading.balances)),
            web.post(V1 + "trade/order", trade(trading.new_order)),
            web.delete(V1 + "trade/order", trade(trading.cancel_order)),
            web.get(V1 + "trade/order", read(trading.get_order)),
            web.get(V1 + "trade/orderByClientOrderId", read(trading.get_order_by_client_id)),
            web.get(V1 + "trade/openOrders", read(trading.open_orders)),
            web.get(V1 + "trade/allOrders", read(trading.all_orders)),
            web.get(V1 + "trade/fills", read(trading.fills)),
        ]

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        error = PionexError(RATE_LIMIT, "Too many requests", status=429)
        return refusal(self.now_ms(), error, retry_after(retry_after_seconds))

    def unavailable(self) -> web.Response:
        error = PionexError(SERVICE_UNAVAILABLE, "Service unavailable", status=503)
        return refusal(self.now_ms(), error)

    def maintenance(self) -> web.Response:
        error = PionexError(SERVICE_UNAVAILABLE, "System maintenance", status=503)
        return refusal(self.now_ms(), error, {"Retry-After": "60"})

    def not_found(self, request: web.Request) -> web.Response:
        error = PionexError("NOT_FOUND", f"no such endpoint: {request.method} {request.path}", 404)
        return refusal(self.now_ms(), error)

    # -- the request pipeline -----------------------------------------------------------------

    def _public(self, handler: Callable[[Params], Any]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                data = handler(Params(request.query, MARKET_PARAMETER_ERROR))
            except PionexError as error:
                return refusal(self.now_ms(), error)
            return envelope(self.now_ms(), data)

        return serve

    def _private(self, handler: Callable[[Account, Params], Any], *, trades: bool) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, params = await authenticate(self, request)
                granted = account.permissions
                if not (granted.spot if trades else granted.read):
                    raise PionexError(PERMISSION_DENIED, "permission denied", 403)
                data = handler(account, params)
            except PionexError as error:
                return refusal(self.now_ms(), error)
            return envelope(self.now_ms(), data)

        return serve

    def _read(self, handler: Callable[[Account, Params], Any]) -> Handler:
        return self._private(handler, trades=False)

    def _trade(self, handler: Callable[[Account, Params], Any]) -> Handler:
        return self._private(handler, trades=True)
