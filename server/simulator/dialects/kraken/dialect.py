"""The Kraken spot dialect (REST API version 0).

Public calls are ``GET /0/public/<Method>`` with query parameters; private calls are
``POST /0/private/<Method>`` with a url-encoded body that carries a ``nonce``, signed as Kraken
signs them (see :mod:`.signing`). Every answer is HTTP 200 ``{"error": [...], "result": ...}``,
refusals in Kraken's own words (``EAPI:Invalid key``, ``EAPI:Invalid signature``,
``EAPI:Invalid nonce``, ``EGeneral:Permission denied``, ``EOrder:Insufficient funds``, ...).

Deviations, on purpose: the simulator's rate limit answers HTTP 429 (Kraken answers its own
``EAPI:Rate limit exceeded`` with HTTP 200; ccxt raises DDoSProtection either way); its
maintenance fault refuses every call with ``EService:Market in cancel_only mode`` (Kraken in
cancel-only mode still answers reads and cancels); margin, stop and trailing orders are refused.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.kraken import errors
from server.simulator.dialects.kraken.errors import KrakenError, envelope
from server.simulator.dialects.kraken.market import MarketData
from server.simulator.dialects.kraken.naming import Pair, Pairs
from server.simulator.dialects.kraken.orders import Trading
from server.simulator.dialects.kraken.signing import Nonces, signature_matches
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]
PUBLIC, PRIVATE = "/0/public/", "/0/private/"


class KrakenDialect(Dialect):
    name = "kraken"
    prefixes = ("/0/",)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.nonces = Nonces()
        self.market = MarketData(self)
        self.trading = Trading(self)
        self._pairs: Pairs | None = None

    @property
    def pairs(self) -> Pairs:
        if self._pairs is None:
            self._pairs = Pairs(self.ledger.instruments)
        return self._pairs

    def pairs_of(self, params: Mapping[str, str], *, required: bool) -> list[Pair]:
        """The pairs named by ``pair`` (comma-separated), or all of them."""
        names = [n for n in (params.get("pair") or "").split(",") if n]
        if not names:
            if required:
                raise errors.invalid_arguments("pair")
            return self.pairs.all
        found = [self.pairs.find(n) for n in names]
        if any(p is None for p in found):
            raise KrakenError(errors.UNKNOWN_PAIR)
        return [p for p in found if p is not None]

    def one_pair(self, params: Mapping[str, str]) -> Pair:
        found = self.pairs_of(params, required=True)
        if len(found) != 1:
            raise errors.invalid_arguments("pair")
        return found[0]

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("API-Key")

    def routes(self) -> Iterable[web.RouteDef]:
        public = {
            "Time": self.market.time,
            "SystemStatus": self.market.system_status,
            "Assets": self.market.assets,
            "AssetPairs": self.market.asset_pairs,
            "Ticker": self.market.ticker,
            "OHLC": self.market.ohlc,
            "Depth": self.market.depth,
        }
        trading = self.trading
        private: dict[str, Callable[[Account, Mapping[str, str]], Json]] = {
            "Balance": trading.balance,
            "BalanceEx": trading.balance_ex,
            "AddOrder": trading.add_order,
            "CancelOrder": trading.cancel_order,
            "OpenOrders": trading.open_orders,
            "ClosedOrders": trading.closed_orders,
            "QueryOrders": trading.query_orders,
            "TradesHistory": trading.trades_history,
            "GetApiKeyInfo": api_key_info,
        }
        routes = []
        for method, handler in public.items():
            routes.append(web.get(PUBLIC + method, self._public(handler)))
            routes.append(web.post(PUBLIC + method, self._public(handler)))
        for method, action in private.items():
            # Placing and cancelling need the key's trading permission (checked there); any
            # valid key may ask for its own permissions.
            reads = method not in ("AddOrder", "CancelOrder", "GetApiKeyInfo")
            routes.append(web.post(PRIVATE + method, self._private(action, needs_read=reads)))
        return routes

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        return envelope(
            errors=(errors.RATE_LIMIT,), status=429, headers=retry_after(retry_after_seconds)
        )

    def unavailable(self) -> web.Response:
        return envelope(errors=(errors.UNAVAILABLE,), status=503)

    def maintenance(self) -> web.Response:
        return envelope(errors=(errors.CANCEL_ONLY,), headers={"Retry-After": "60"})

    def not_found(self, request: web.Request) -> web.Response:
        return envelope(errors=(errors.UNKNOWN_METHOD,), status=404)

    # -- the request pipeline -----------------------------------------------------------------

    def _public(self, handler: Callable[[Mapping[str, str]], Json]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            params: Mapping[str, str] = request.query
            if request.method == "POST":
                params = dict(parse_qsl(await request.text()))
            try:
                return envelope(handler(params))
            except KrakenError as error:
                return envelope(errors=(error.error,), status=error.status)

        return serve

    def _private(
        self, action: Callable[[Account, Mapping[str, str]], Json], *, needs_read: bool
    ) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, params = await self._authenticate(request)
                if needs_read and not account.permissions.read:
                    raise KrakenError(errors.PERMISSION_DENIED)
                return envelope(action(account, params))
            except KrakenError as error:
                return envelope(errors=(error.error,), status=error.status)

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[Account, dict[str, str]]:
        """Kraken's checks in turn: key, signature, nonce."""
        api_key = request.headers.get("API-Key", "")
        given = request.headers.get("API-Sign", "")
        account = self.account(api_key)
        if not api_key or account is None or account.revoked:
            raise KrakenError(errors.INVALID_KEY)
        body = await request.text()
        params = self._params(request, body)
        nonce = params.get("nonce", "")
        if not given or not signature_matches(account.secret, request.path, nonce, body, given):
            raise KrakenError(errors.INVALID_SIGNATURE)
        if not nonce.isdigit() or not self.nonces.accept(api_key, int(nonce)):
            raise KrakenError(errors.INVALID_NONCE)
        return account, params

    @staticmethod
    def _params(request: web.Request, body: str) -> dict[str, str]:
        if request.content_type == "application/json":
            try:
                decoded = json.loads(body or "{}")
            except ValueError:
                raise errors.invalid_arguments("body") from None
            if not isinstance(decoded, dict):
                raise errors.invalid_arguments("body")
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
        return dict(parse_qsl(body, keep_blank_values=True))


# The key's permissions as GetApiKeyInfo names them (the names in Kraken's documented example;
# Kraken's other permissions, such as cancelling or the ledger, are not simulated).
KEY_PERMISSIONS = (
    ("query-funds", "read"),
    ("query-open-trades", "read"),
    ("modify-trades", "spot"),
    ("withdraw-funds", "withdraw"),
)


def api_key_info(account: Account, params: Mapping[str, str]) -> Json:
    """POST /0/private/GetApiKeyInfo: the key that signed the request and its permissions."""
    granted = account.permissions
    return {
        "apiKeyName": "cts-simulator",
        "apiKey": account.api_key,
        "nonce": params.get("nonce", "0"),
        "nonceWindow": 0,
        "permissions": [name for name, flag in KEY_PERMISSIONS if getattr(granted, flag)],
        "iban": "",
        "validUntil": "0",
        "queryFrom": "0",
        "queryTo": "0",
        "createdTime": "0",
        "modifiedTime": "0",
        "ipAllowlist": [],
    }
