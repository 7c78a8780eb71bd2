"""The OrangeX dialect: JSON-RPC 2.0 over HTTP under ``/api/v1/public/`` and
``/api/v1/private/``, bearer tokens from ``/public/auth``, and the answers to faults.

Public methods are served to GET (parameters in the query) and POST (a JSON-RPC body); private
ones to POST with ``Authorization: bearer <token>``. The path names the method. An unknown
method answers 1000 "No service found" (HTTP 200), as OrangeX does.

Faults: the simulator finds the API key of a private call from its bearer token, so faults set
for a key apply to its calls; ``/public/auth`` carries the key in its body and meets the
exchange's faults only. Every private call is a POST, so a ``lose_answers`` fault loses the
answer of the next private call, whatever it is (at OrangeX, as anywhere, a gateway can drop
any answer).

Deviations, on purpose: OrangeX's spot markets, conditional (stop) orders, hedge mode
(``position_side`` LONG/SHORT), margin-mode changes, subaccounts, the wallet and
websocket APIs are not served.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.orangex.auth import Tokens, scope_of
from server.simulator.dialects.orangex.market import MarketData
from server.simulator.dialects.orangex.trading import Trading
from server.simulator.dialects.orangex.wire import (
    ACCESS_DENIED,
    BAD_PARAMS,
    NO_SERVICE,
    TEMPORARILY_UNAVAILABLE,
    TOO_MANY_REQUESTS,
    OrangexError,
    Params,
    answer,
    refusal,
)
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Handler = Callable[[web.Request], Awaitable[web.Response]]
PUBLIC = "/api/v1/public/"
PRIVATE = "/api/v1/private/"


class OrangexDialect(Dialect):
    name = "orangex"
    # Inside Binance's "/api/v1/": the simulator picks the longest matching prefix.
    prefixes = (PUBLIC, PRIVATE)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.tokens = Tokens()
        self.market = MarketData(self)
        self.trading = Trading(self)

    def api_key_of(self, request: web.Request) -> str | None:
        return self.tokens.key_of(request.headers.get("Authorization"))

    def routes(self) -> Iterable[web.RouteDef]:
        market, trading = self.market, self.trading
        public = {
            "ping": market.ping,
            "get_instruments": market.get_instruments,
            "ticker": market.ticker,
            "tickers": market.tickers,
            "get_tradingview_chart_data": market.chart_data,
            "get_order_book": market.order_book,
        }
        reads = {
            "get_assets_info": trading.assets_info,
            "get_order_state": trading.order_state,
            "get_open_orders_by_instrument": trading.open_orders,
            "get_order_history_by_instrument": trading.order_history,
            "get_user_trades_by_instrument": trading.user_trades,
            "get_user_position": trading.positions,
        }
        trades = {
            "buy": trading.buy,
            "sell": trading.sell,
            "cancel": trading.cancel,
            "modify_perpetual_instrument_leverage": trading.set_leverage,
        }
        routes = [web.post(PUBLIC + "auth", self._auth)]
        for method, handler in public.items():
            served = self._public(handler)
            routes += [web.get(PUBLIC + method, served), web.post(PUBLIC + method, served)]
        for method, private in reads.items():
            routes.append(web.post(PRIVATE + method, self._private(private, trades=False)))
        for method, private in trades.items():
            routes.append(web.post(PRIVATE + method, self._private(private, trades=True)))
        return routes

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        error = OrangexError(TOO_MANY_REQUESTS, "too_many_requests", status=429)
        return self._refusal(None, error, retry_after(retry_after_seconds))

    def unavailable(self) -> web.Response:
        error = OrangexError(TEMPORARILY_UNAVAILABLE, "temporarily_unavailable", status=503)
        return self._refusal(None, error)

    def maintenance(self) -> web.Response:
        error = OrangexError(TEMPORARILY_UNAVAILABLE, "system maintenance", status=503)
        return self._refusal(None, error, {"Retry-After": "60"})

    def not_found(self, request: web.Request) -> web.Response:
        return self._refusal(None, OrangexError(NO_SERVICE, "No service found"))

    # -- the request pipeline -----------------------------------------------------------------

    def _now_us(self) -> int:
        return self.now_ms() * 1000

    def _refusal(
        self, request_id: Any, error: OrangexError, headers: dict[str, str] | None = None
    ) -> web.Response:
        now = self._now_us()
        return refusal(request_id, error, now, now, headers)

    async def _call(self, request: web.Request) -> tuple[Any, Params]:
        """The JSON-RPC id and params of a request (query for a GET, JSON body for a POST)."""
        if request.method == "GET":
            return None, Params(dict(request.query))
        text = await request.text()
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            raise OrangexError(BAD_PARAMS, "Invalid params: the body is not JSON") from None
        if not isinstance(body, dict):
            raise OrangexError(BAD_PARAMS, "Invalid params: the body is not a JSON-RPC object")
        params = body.get("params", {})
        if not isinstance(params, dict):
            raise OrangexError(BAD_PARAMS, "Invalid params: params is not an object")
        return body.get("id"), Params(params)

    def _serve(self, work: Callable[[web.Request, Params], Awaitable[Any]]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            received = self._now_us()
            request_id = None
            try:
                request_id, params = await self._call(request)
                result = await work(request, params)
            except OrangexError as error:
                return refusal(request_id, error, received, self._now_us())
            return answer(request_id, result, received, self._now_us())

        return serve

    async def _auth(self, request: web.Request) -> web.Response:
        async def grant(_request: web.Request, params: Params) -> Any:
            return self.tokens.grant(self.ledger, params, self.now_ms())

        return await self._serve(grant)(request)

    def _public(self, handler: Callable[[Params], Any]) -> Handler:
        async def work(_request: web.Request, params: Params) -> Any:
            return handler(params)

        return self._serve(work)

    def _private(self, handler: Callable[[Account, Params], Any], *, trades: bool) -> Handler:
        async def work(request: web.Request, params: Params) -> Any:
            account = self.tokens.account(
                self.ledger, request.headers.get("Authorization"), self.now_ms()
            )
            if not account.permissions.read or (
                trades and "trade:read_write" not in scope_of(account)
            ):
                raise OrangexError(ACCESS_DENIED, "Access denied")
            return handler(account, params)

        return self._serve(work)
