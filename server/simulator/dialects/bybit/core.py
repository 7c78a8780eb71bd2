"""The core of the Bybit dialect: the Dialect contract, envelopes, authentication and market
lookup."""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.bybit.errors import (
    PERMISSION_DENIED,
    BybitError,
    not_supported_symbol,
    params_error,
)
from server.simulator.dialects.bybit.signing import check_timestamp
from server.simulator.dialects.bybit.wire import HTML_MAINTENANCE, Handler, Json, OrderWire, Params
from server.simulator.dialects.common import HTML_UNAVAILABLE, hex_hmac_sha256, unit_value
from server.simulator.instruments import QUOTE, Instrument, Kind
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator


class BybitCore(Dialect):
    name = "bybit"
    prefixes = ("/v5/",)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._wire: dict[str, OrderWire] = {}
        self._started_ms = int(simulator.clock() * 1000)

    @cached_property
    def _markets(self) -> dict[tuple[Kind, str], Instrument]:
        return {(i.kind, i.plain_id): i for i in self.ledger.instruments}

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("X-BAPI-API-KEY")

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        now = self.now_ms()
        reset = now + math.ceil(retry_after_seconds * 1000)
        limit = self.simulator.limits[self.name].per_second
        headers = {
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit-Reset-Timestamp": str(reset),
            **retry_after(retry_after_seconds),
        }
        return self._envelope(10006, "Too many visits!", {}, status=429, headers=headers)

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
        return self._envelope(10017, f"route not found: {request.path}", {}, status=404)

    # -- envelopes and the request pipeline ---------------------------------------------------

    def _envelope(
        self,
        code: int,
        message: str,
        result: Json,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        if isinstance(result, dict) and "timeNano" in result:
            now = int(result["timeNano"]) // 1_000_000  # the server time's own reading
        else:
            now = self.now_ms()
        body = {
            "retCode": code,
            "retMsg": message,
            "result": result,
            "retExtInfo": {},
            "time": now,
        }
        return web.json_response(body, status=status, headers=headers)

    def _failure(self, error: BybitError) -> web.Response:
        return self._envelope(error.code, error.message, {}, status=error.status)

    def _public(self, handler: Callable[[Params], Json]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._envelope(0, "OK", handler(Params(request.query)))
            except BybitError as error:
                return self._failure(error)

        return serve

    def _private(
        self, handler: Callable[[Account, Params], Json], *, needs_read: bool = True
    ) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, params = await self._authenticate(request)
                if needs_read and not account.permissions.read:
                    raise BybitError(10005, PERMISSION_DENIED)
                return self._envelope(0, "OK", handler(account, params))
            except BybitError as error:
                return self._failure(error)

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[Account, Params]:
        """Bybit's gateway checks in turn: credentials, key, timestamp, signature."""
        headers = request.headers
        api_key = headers.get("X-BAPI-API-KEY", "")
        timestamp = headers.get("X-BAPI-TIMESTAMP", "")
        signature = headers.get("X-BAPI-SIGN", "")
        recv_window_text = headers.get("X-BAPI-RECV-WINDOW", "")
        if not (api_key and timestamp and signature):
            raise BybitError(10007, "User authentication failed.", status=401)
        account = self.account(api_key)
        if account is None or account.revoked:
            raise BybitError(10003, "API key is invalid.", status=401)
        check_timestamp(timestamp, recv_window_text, self.now_ms())
        payload = await self._payload(request)
        origin = timestamp + api_key + recv_window_text + payload
        expected = hex_hmac_sha256(account.secret, origin)
        if not hmac.compare_digest(expected, signature.lower()):
            raise BybitError(10004, "Error sign, please check your signature generation algorithm.")
        return account, self._params_of(request, payload)

    @staticmethod
    async def _payload(request: web.Request) -> str:
        """What the client signed: the raw query string (GET) or the raw body (POST)."""
        if request.method == "POST":
            return await request.text()
        _, _, query = request.raw_path.partition("?")
        return query

    @staticmethod
    def _params_of(request: web.Request, payload: str) -> Params:
        if request.method != "POST":
            return Params(request.query)
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            raise params_error("params error: the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise params_error("params error: the body must be a JSON object")
        return Params(body)

    # -- markets ------------------------------------------------------------------------------

    def _instrument(self, kind: Kind | None, symbol: str | None) -> Instrument:
        instrument = self._markets.get((kind, symbol or "")) if kind is not None else None
        if instrument is None:
            raise not_supported_symbol()
        return instrument

    def _listed(self, kind: Kind | None, params: Params) -> list[Instrument]:
        """The instruments of a category, narrowed by ``symbol`` and ``baseCoin``."""
        symbol, base = params.text("symbol"), params.text("baseCoin")
        return [
            i
            for i in self.ledger.instruments
            if i.kind is kind
            and (symbol is None or i.plain_id == symbol)
            and (base is None or i.base == base)
        ]

    def _mark(self, asset: str) -> Decimal:
        """The USDT value of one unit of ``asset`` (0 for assets without a market)."""
        return unit_value(self.simulator.prices, asset, (QUOTE, "USDC"))

    @staticmethod
    def _has_scope(params: Params) -> bool:
        return any(name in params for name in ("symbol", "settleCoin", "baseCoin"))
