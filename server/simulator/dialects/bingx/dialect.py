"""The BingX dialect: spot and USDT-M perpetual swap under ``/openApi/``.

Every answer is BingX's envelope ``{"code": 0, "msg": "", "timestamp": ..., "data": ...}``;
refusals travel as HTTP 200 with BingX's code. Private requests are checked as BingX checks
them: header ``X-BX-APIKEY``; every parameter in the query string (POST and DELETE too), with
``timestamp`` (ms) within ``recvWindow`` (default 5,000 ms) of the exchange's clock; and
``signature``, the hex HMAC-SHA256 of the query string before it (its ``k=v`` pairs as sent,
percent-decoded; ccxt sends them sorted by key).

Deviations, on purpose: too many requests answer HTTP 429 (as BingX documents) with code
100410 (ccxt raises OperationFailed; CTS reads the code as a rate limit); a spot order that is
not found answers 80016 like a swap one; conditional, trailing and TWAP orders are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.bingx import account, market
from server.simulator.dialects.bingx.orders import Orders
from server.simulator.dialects.bingx.wire import (
    INCORRECT_KEY,
    PERMISSION_DENIED,
    RATE_LIMITED,
    SIGNATURE_FAILED,
    TIMESTAMP_MISMATCH,
    BingxError,
    Params,
    Venue,
)
from server.simulator.instruments import Kind
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Public = Callable[[Venue, Params], Any]
Private = Callable[[Venue, Account, Params], Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1000
SPOT = "/openApi/spot/v1/"
SWAP2 = "/openApi/swap/v2/"
SWAP3 = "/openApi/swap/v3/"
HTML_UNAVAILABLE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
HTML_MAINTENANCE = (
    "<html><head><title>BingX system maintenance</title></head>"
    "<body><h1>BingX is under system maintenance.</h1>"
    "<p>API services are suspended until the maintenance is complete.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a private endpoint: ``read`` for queries, a market kind for trading."""

    trades: Kind | None = None


READ = Access()
TRADE_SPOT = Access(Kind.SPOT)
TRADE_SWAP = Access(Kind.LINEAR)


class BingxDialect(Dialect):
    name = "bingx"
    prefixes = ("/openApi/",)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.orders = Orders()

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("X-BX-APIKEY")

    def routes(self) -> Iterable[web.RouteDef]:
        spot, swap = Kind.SPOT, Kind.LINEAR
        public, private, orders = self._public, self._private, self.orders
        return [
            web.get(SWAP2 + "server/time", public(market.server_time, swap)),
            web.get(SPOT + "common/symbols", public(market.spot_symbols, spot)),
            web.get(SWAP2 + "quote/contracts", public(market.swap_contracts, swap)),
            web.get("/openApi/cswap/v1/market/contracts", public(market.coin_contracts, swap)),
            web.get(SPOT + "ticker/24hr", public(market.tickers, spot)),
            web.get(SWAP2 + "quote/ticker", public(market.tickers, swap)),
            web.get(SPOT + "market/kline", public(market.klines, spot)),
            web.get(SWAP3 + "quote/klines", public(market.klines, swap)),
            web.get(SPOT + "market/depth", public(market.depth, spot)),
            web.get(SWAP2 + "quote/depth", public(market.depth, swap)),
            web.get(
                "/openApi/wallets/v1/capital/config/getall", private(account.coins, spot, READ)
            ),
            web.get(
                "/openApi/v1/account/apiPermissions", private(account.api_permissions, spot, None)
            ),
            web.get(SPOT + "account/balance", private(account.spot_balance, spot, READ)),
            web.get(SWAP3 + "user/balance", private(account.swap_balance, swap, READ)),
            web.get(SWAP2 + "user/positions", private(account.positions, swap, READ)),
            web.get(SWAP2 + "trade/leverage", private(account.leverage, swap, READ)),
            web.post(SWAP2 + "trade/leverage", private(account.set_leverage, swap, TRADE_SWAP)),
            web.post(SPOT + "trade/order", private(orders.place, spot, TRADE_SPOT)),
            web.post(SWAP2 + "trade/order", private(orders.place, swap, TRADE_SWAP)),
            web.post(SPOT + "trade/cancel", private(orders.cancel, spot, TRADE_SPOT)),
            web.delete(SWAP2 + "trade/order", private(orders.cancel, swap, TRADE_SWAP)),
            web.get(SPOT + "trade/query", private(orders.query, spot, READ)),
            web.get(SWAP2 + "trade/order", private(orders.query, swap, READ)),
            web.get(SPOT + "trade/openOrders", private(orders.open_orders, spot, READ)),
            web.get(SWAP2 + "trade/openOrders", private(orders.open_orders, swap, READ)),
            web.get(SPOT + "trade/historyOrders", private(orders.history, spot, READ)),
            web.get(SWAP2 + "trade/allOrders", private(orders.history, swap, READ)),
            web.get(SPOT + "trade/myTrades", private(orders.fills, spot, READ)),
            web.get(SWAP2 + "trade/allFillOrders", private(orders.fills, swap, READ)),
        ]

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        expire = self.now_ms() + math.ceil(max(retry_after_seconds, 1) * 1000)
        headers = {
            "X-RateLimit-Requests-Remain": "0",
            "X-RateLimit-Requests-Expire": str(expire),
            **retry_after(retry_after_seconds),
        }
        error = BingxError(RATE_LIMITED, "rate limitation, please try again later", status=429)
        return self._failure(error, headers=headers)

    def unavailable(self) -> web.Response:
        return web.Response(status=503, text=HTML_UNAVAILABLE, content_type="text/html")

    def maintenance(self) -> web.Response:
        return web.Response(
            status=503,
            text=HTML_MAINTENANCE,
            content_type="text/html",
            headers={"Retry-After": "60"},
        )

    def not_found(self, request: web.Request) -> web.Response:
        return self._failure(BingxError(404, f"Not Found: {request.path}", status=404))

    # -- envelopes and the request pipeline ---------------------------------------------------

    def _venue(self) -> Venue:
        return Venue(self.ledger, self.simulator.prices, self.now_ms())

    def _envelope(self, data: Any) -> web.Response:
        return web.json_response(
            {"code": 0, "msg": "", "debugMsg": "", "timestamp": self.now_ms(), "data": data}
        )

    def _failure(self, error: BingxError, *, headers: dict[str, str] | None = None) -> web.Response:
        body = {"code": error.code, "msg": error.message, "timestamp": self.now_ms(), "data": {}}
        return web.json_response(body, status=error.status, headers=headers)

    def _public(self, handler: Public, kind: Kind) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._envelope(handler(self._venue(), Params(request.query, kind)))
            except BingxError as error:
                return self._failure(error)

        return serve

    def _private(self, handler: Private, kind: Kind, access: Access | None) -> Handler:
        """``access`` None: any valid key may call it (the key's own permissions)."""

        async def serve(request: web.Request) -> web.Response:
            try:
                account = self._authenticate(request)
                self._check_access(account, access)
                venue = self._venue()
                return self._envelope(handler(venue, account, Params(request.query, kind)))
            except BingxError as error:
                return self._failure(error)

        return serve

    @staticmethod
    def _check_access(account: Account, access: Access | None) -> None:
        if access is None:
            return
        granted = account.permissions
        allowed = (
            granted.read
            if access.trades is None
            else granted.spot
            if access.trades is Kind.SPOT
            else granted.derivatives
        )
        if not allowed:
            raise BingxError(
                PERMISSION_DENIED,
                "Permission denied, the API key was created without the permission for this",
            )

    def _authenticate(self, request: web.Request) -> Account:
        """BingX's gateway checks in turn: the key, the timestamp, the signature."""
        api_key = request.headers.get("X-BX-APIKEY", "")
        if not api_key:
            raise BingxError(INCORRECT_KEY, "Null apiKey")
        account = self.account(api_key)
        if account is None or account.revoked:
            raise BingxError(INCORRECT_KEY, "Incorrect apiKey, please check your valid api key")
        self._check_timestamp(request)
        signed, signature = self._signed_query(request)
        expected = hmac.new(account.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(expected, signature.lower()):
            raise BingxError(SIGNATURE_FAILED, "Signature verification failed")
        return account

    def _check_timestamp(self, request: web.Request) -> None:
        timestamp = request.query.get("timestamp", "")
        window_text = request.query.get("recvWindow", "")
        try:
            sent = int(timestamp)
            window = int(window_text) if window_text else DEFAULT_RECV_WINDOW_MS
        except ValueError:
            sent, window = -1, DEFAULT_RECV_WINDOW_MS
        now = self.now_ms()
        window = min(max(window, 1), MAX_RECV_WINDOW_MS)
        if not now - window <= sent < now + FUTURE_TOLERANCE_MS:
            raise BingxError(
                TIMESTAMP_MISMATCH,
                "Null timestamp or timestamp mismatch, please check your server timestamp "
                f"or recvWindow param. timestamp[{timestamp}], server time[{now}]",
            )

    @staticmethod
    def _signed_query(request: web.Request) -> tuple[str, str]:
        """What the client signed (the decoded query without ``signature``) and the signature."""
        _, _, query = request.raw_path.partition("?")
        kept, signature = [], ""
        for piece in query.split("&") if query else []:
            name, _, value = piece.partition("=")
            if name == "signature":
                signature = value
            else:
                kept.append(piece)
        return unquote("&".join(kept)), signature
