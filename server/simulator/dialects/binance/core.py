"""The core of the Binance dialect: the Dialect interface, authentication and market lookup."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.binance.errors import (
    INSUFFICIENT,
    BinanceError,
    illegal,
    invalid_key,
    invalid_order,
    invalid_symbol,
    missing,
    order_missing,
)
from server.simulator.dialects.binance.signing import (
    check_timestamp,
    without_signature,
)
from server.simulator.dialects.binance.wire import Call, Family, Handler, OrderMeta, Security
from server.simulator.dialects.common import HTML_UNAVAILABLE, hex_hmac_sha256
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    LedgerError,
    OrderNotFound,
    TradingNotAllowed,
    UnknownInstrument,
)

if TYPE_CHECKING:
    from server.simulator.server import Simulator


class BinanceCore(Dialect):
    name = "binance"
    prefixes = ("/api/v3/", "/api/v1/", "/sapi/", "/fapi/", "/dapi/")

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._meta: dict[str, OrderMeta] = {}
        self._key_created: dict[str, int] = {}

    # -- the Dialect interface ----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("X-MBX-APIKEY") or None

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        """HTTP 429 with -1003 and ``Retry-After`` in whole seconds, as Binance answers."""
        limit = self.simulator.limits[self.name].per_minute
        body = {
            "code": -1003,
            "msg": f"Too many requests; current limit is {limit} requests per minute. Please use "
            "the websocket for live updates to avoid polling the API.",
        }
        return web.json_response(body, status=429, headers=retry_after(retry_after_seconds))

    def unavailable(self) -> web.Response:
        """Binance's edge when the backend is down: a 503 page, not a JSON error."""
        return web.Response(
            status=503,
            text=HTML_UNAVAILABLE,
            content_type="text/html",
        )

    def maintenance(self) -> web.Response:
        """Binance's answer during a system upgrade."""
        return web.json_response({"code": 1, "msg": "System is under maintenance."}, status=503)

    # -- requests: parsing, authentication, errors ------------------------------------------------

    def _endpoint(
        self, family: Family, security: Security, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            raw_query = request.rel_url.raw_query_string
            raw_body = await request.text() if request.body_exists else ""
            params = dict(parse_qsl(raw_query, keep_blank_values=True))
            params.update(parse_qsl(raw_body, keep_blank_values=True))
            try:
                call = Call(family, params)
                if security is not Security.NONE:
                    call.account = self._authenticate(request, raw_query, raw_body, call)
                    self._check_permission(call, security)
                    self.ledger.match(call.account)
                return web.json_response(handler(call))
            except BinanceError as error:
                return error.response()
            except LedgerError as error:
                return self._ledger_error(error, family).response()

        return serve

    def _authenticate(
        self, request: web.Request, raw_query: str, raw_body: str, call: Call
    ) -> Account:
        """Binance's checks of a signed request, in order: key, timestamp, signature."""
        api_key = self.api_key_of(request)
        if api_key is None:
            raise BinanceError(-2014, "API-key format invalid.", 401)
        account = self.account(api_key)
        if account is None or account.revoked or not account.permissions.read:
            raise invalid_key()
        check_timestamp(call, self.now_ms())
        signature = call.text("signature")
        if signature is None:
            raise missing("signature")
        payload = without_signature(raw_query) + without_signature(raw_body)
        expected = hex_hmac_sha256(account.secret, payload)
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        self._key_created.setdefault(api_key, self.now_ms())
        return account

    @staticmethod
    def _check_permission(call: Call, security: Security) -> None:
        if security is not Security.TRADE:
            return
        permissions = call.user.permissions
        # Binance's enableSpotAndMarginTrading covers spot and margin orders.
        allowed = permissions.derivatives if call.family is Family.FUTURES else permissions.spot
        if not allowed:
            raise invalid_key()

    @staticmethod
    def _ledger_error(error: LedgerError, family: Family) -> BinanceError:
        """The Binance code for a refusal of the ledger."""
        futures = family is Family.FUTURES
        if isinstance(error, UnknownInstrument):
            return invalid_symbol()
        if isinstance(error, InsufficientFunds):
            return BinanceError(-2010, INSUFFICIENT)
        if isinstance(error, DuplicateClientOrderId):
            if futures:
                return BinanceError(-4116, "ClientOrderId is duplicated.")
            return BinanceError(-2010, "Duplicate order sent.")
        if isinstance(error, OrderNotFound):
            return order_missing()
        if isinstance(error, TradingNotAllowed):
            return invalid_key()
        if isinstance(error, InvalidOrder):
            return invalid_order(str(error), futures)
        return BinanceError(-1000, "An unknown error occured while processing the request.", 500)

    # -- markets ------------------------------------------------------------------------------

    @cached_property
    def _markets(self) -> dict[Kind, dict[str, Instrument]]:
        markets: dict[Kind, dict[str, Instrument]] = {Kind.SPOT: {}, Kind.LINEAR: {}}
        for instrument in self.ledger.instruments:
            markets[instrument.kind][instrument.plain_id] = instrument
        return markets

    def _instrument(self, call: Call, symbol: str | None = None) -> Instrument:
        """The market named by ``symbol`` (default: the required ``symbol`` parameter)."""
        name = symbol if symbol is not None else call.required("symbol")
        instrument = self._markets[call.kind].get(name.upper())
        if instrument is None:
            raise invalid_symbol()
        return instrument

    def _instruments(self, call: Call) -> list[Instrument]:
        """The markets named by ``symbol`` or ``symbols`` (a JSON list), or all of the API's."""
        symbol = call.text("symbol")
        if symbol is not None:
            return [self._instrument(call, symbol)]
        symbols = call.text("symbols")
        if symbols is None:
            return list(self._markets[call.kind].values())
        try:
            names = json.loads(symbols)
        except ValueError:
            raise illegal(
                "symbols", '^\\["[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}]$'
            ) from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise illegal("symbols", '^\\["[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}]$')
        return [self._instrument(call, name) for name in names]
