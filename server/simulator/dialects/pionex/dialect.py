"""The Pionex dialect, spot and perpetuals: routes, the request pipeline and the answers to
faults and to callers over the limits (a 60 s ban, see ``bans.py``).

Every answer is Pionex's envelope, ``{"result": true, "data": ..., "timestamp": ms}`` or
``{"result": false, "code": ..., "message": ..., "timestamp": ms}``: authentication refusals
with HTTP 401, bad requests with 400, too many requests with 429 (Pionex documents the status
only; the body here is the envelope with code ``RATE_LIMIT``), an exchange that is down or in
maintenance with 503.

Pionex documents its error codes, not their texts: the messages here are the simulator's own.
Insufficient funds and a duplicate ``clientOrderId`` answer ``TRADE_OPERATION_DENIED`` with
"Insufficient balance" and "duplicate clientOrderId" (CTS's Pionex class reads those texts).

Perpetuals (openapi_futures.yaml): the public data under the same /api/v1 paths (``type=PERP``,
``BTC_USDT_PERP``, and ``/market/bookTicker``), the account and trading under /uapi/v1 (see
``futures.py``); trading them needs the key's derivatives permission.

Deviations, on purpose: the mass-order, cancel-all, market-trades, fills-by-order, position-mode,
margin-mode, isolated-margin, funding and index endpoints are not served (CTS does not call
them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.pionex.bans import Bans
from server.simulator.dialects.pionex.futures import Futures
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
U1 = "/uapi/v1/"


class PionexDialect(Dialect):
    name = "pionex"
    # Narrower than Binance's "/api/v1/": the simulator picks the longest matching prefix.
    prefixes = (V1 + "common/", V1 + "market/", V1 + "account/", V1 + "trade/", U1)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.market = MarketData(self)
        self.trading = Trading(self)
        self.futures = Futures(self)
        self.bans = Bans()

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get(KEY_HEADER)

    def routes(self) -> Iterable[web.RouteDef]:
        public, read, trade, derive = self._public, self._read, self._trade, self._derive
        market, trading, futures = self.market, self.trading, self.futures
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
            web.get(V1 + "market/bookTicker", public(market.book_ticker)),
            web.get(U1 + "account/balances", read(futures.balances)),
            web.get(U1 + "account/positions", read(futures.positions)),
            web.get(U1 + "account/leverage", read(futures.leverage)),
            web.post(U1 + "account/leverage", derive(futures.set_leverage)),
            web.post(U1 + "trade/order", derive(futures.new_order)),
            web.delete(U1 + "trade/order", derive(futures.cancel_order)),
            web.get(U1 + "trade/order", read(futures.get_order)),
            web.get(U1 + "trade/orderByClientOrderId", read(futures.get_order_by_client_id)),
            web.get(U1 + "trade/openOrders", read(futures.open_orders)),
            web.get(U1 + "trade/historyOrders", read(futures.history_orders)),
            web.get(U1 + "trade/fills", read(futures.fills)),
        ]

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        error = PionexError(RATE_LIMIT, "Too many requests", status=429)
        return refusal(self.now_ms(), error, retry_after(retry_after_seconds))

    def banned(self, caller: str, now: float) -> web.Response | None:
        """A banned caller's request is refused, and extends the ban by 10 s."""
        if not self.bans.refuses(caller, now):
            return None
        error = PionexError(RATE_LIMIT, "Too many requests: banned", status=429)
        return refusal(self.now_ms(), error)

    def over_limit(self, caller: str, now: float) -> web.Response:
        """Over the limit: a 60 s ban starts; the 429 carries no Retry-After (none documented)."""
        self.bans.start(caller, now)
        error = PionexError(RATE_LIMIT, "Too many requests: banned", status=429)
        return refusal(self.now_ms(), error)

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

    def _private(self, handler: Callable[[Account, Params], Any], *, needs: str) -> Handler:
        """A signed endpoint; ``needs`` is the key's permission it takes (read, spot,
        derivatives)."""

        async def serve(request: web.Request) -> web.Response:
            try:
                account, params = await authenticate(self, request)
                if not getattr(account.permissions, needs):
                    raise PionexError(PERMISSION_DENIED, "permission denied", 403)
                data = handler(account, params)
            except PionexError as error:
                return refusal(self.now_ms(), error)
            return envelope(self.now_ms(), data)

        return serve

    def _read(self, handler: Callable[[Account, Params], Any]) -> Handler:
        return self._private(handler, needs="read")

    def _trade(self, handler: Callable[[Account, Params], Any]) -> Handler:
        return self._private(handler, needs="spot")

    def _derive(self, handler: Callable[[Account, Params], Any]) -> Handler:
        return self._private(handler, needs="derivatives")
