"""The core of the OKX dialect: the Dialect contract, envelopes, authentication, instrument
ids and lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.common import unit_value
from server.simulator.dialects.okx.errors import NO_PERMISSION, OkxError, no_instrument
from server.simulator.dialects.okx.signing import check_timestamp
from server.simulator.dialects.okx.wire import CONTRACT_STEPS, PREFIX, Handler, OrderWire, Params
from server.simulator.instruments import QUOTE, Instrument, Kind
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator


class OkxCore(Dialect):
    name = "okx"
    prefixes = (PREFIX,)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._wire: dict[str, OrderWire] = {}
        self._started_ms = int(simulator.clock() * 1000)

    @cached_property
    def _markets(self) -> dict[str, Instrument]:
        return {self.inst_id(i): i for i in self.ledger.instruments}

    @staticmethod
    def inst_id(instrument: Instrument) -> str:
        """``BTC-USDT`` (spot) or ``BTC-USDT-SWAP`` (perpetual swap)."""
        pair = f"{instrument.base}-{instrument.quote}"
        return pair if instrument.kind is Kind.SPOT else f"{pair}-SWAP"

    @staticmethod
    def contract_value(instrument: Instrument) -> Decimal:
        """ctVal: how much of the base asset one swap contract is worth."""
        return instrument.amount_step * CONTRACT_STEPS

    def size(self, instrument: Instrument, amount: Decimal) -> Decimal:
        """A ledger amount (base asset) as OKX's ``sz``: base for spot, contracts for swaps."""
        if instrument.kind is Kind.SPOT:
            return amount
        return amount / self.contract_value(instrument)

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("OK-ACCESS-KEY")

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        return self._envelope(
            "50011", "Too Many Requests", [], status=429, headers=retry_after(retry_after_seconds)
        )

    def unavailable(self) -> web.Response:
        return self._envelope("50013", "Systems are busy. Please try again later.", [], status=503)

    def maintenance(self) -> web.Response:
        return self._envelope(
            "50001",
            "Service temporarily unavailable. Please try again later.",
            [],
            status=503,
            headers={"Retry-After": "60"},
        )

    def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"msg": "Not Found", "code": "404"}, status=404)

    # -- envelopes and the request pipeline ---------------------------------------------------

    def _envelope(
        self,
        code: str,
        message: str,
        data: list[Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        body = {"code": code, "msg": message, "data": data}
        return web.json_response(body, status=status, headers=headers)

    def _failure(self, error: OkxError) -> web.Response:
        return self._envelope(error.code, error.message, [], status=error.status)

    def _public(self, handler: Callable[[Params], list[Any]]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._envelope("0", "", handler(Params(request.query)))
            except OkxError as error:
                return self._failure(error)

        return serve

    def _private(
        self,
        handler: Callable[[Account, Any], list[Any] | web.Response],
        *,
        needs_read: bool = True,
        trades: bool = False,
    ) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, body = await self._authenticate(request)
                granted = account.permissions
                if needs_read and not granted.read:
                    raise OkxError("50120", NO_PERMISSION, status=401)
                if trades and not (granted.spot or granted.derivatives):
                    raise OkxError("50120", NO_PERMISSION, status=401)
                answer = handler(account, body)
                if isinstance(answer, web.Response):
                    return answer
                return self._envelope("0", "", answer)
            except OkxError as error:
                return self._failure(error)

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[Account, Any]:
        """OKX's gateway checks in turn: headers, key, timestamp, passphrase, signature.
        Returns the account and the request's parameters (a Params, or a list of them)."""
        headers = request.headers
        api_key = headers.get("OK-ACCESS-KEY", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        if not api_key:
            raise OkxError("50103", 'Request header "OK-ACCESS-KEY" can not be empty.', 401)
        if not passphrase:
            raise OkxError("50104", 'Request header "OK-ACCESS-PASSPHRASE" can not be empty.', 401)
        if not signature:
            raise OkxError("50106", 'Request header "OK-ACCESS-SIGN" can not be empty.', 401)
        if not timestamp:
            raise OkxError("50107", 'Request header "OK-ACCESS-TIMESTAMP" can not be empty.', 401)
        account = self.account(api_key)
        if account is None or account.revoked:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY", 401)
        check_timestamp(timestamp, headers.get("expTime"), self.now_ms())
        if not hmac.compare_digest(passphrase, account.passphrase or ""):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        body = await request.text() if request.method == "POST" else ""
        origin = timestamp + request.method + request.raw_path + body
        digest = hmac.new(account.secret.encode(), origin.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
            raise OkxError("50113", "Invalid Sign", 401)
        return account, self._params_of(request, body)

    @staticmethod
    def _params_of(request: web.Request, body: str) -> Any:
        if request.method != "POST":
            return Params(request.query)
        if not body:
            return Params({})
        try:
            parsed = json.loads(body)
        except ValueError:
            raise OkxError("50002", "Json data format error", 400) from None
        if isinstance(parsed, dict):
            return Params(parsed)
        if isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed):
            return [Params(item) for item in parsed]
        raise OkxError("50002", "Json data format error", 400)

    # -- markets ------------------------------------------------------------------------------

    def _instrument(self, inst_id: str | None) -> Instrument:
        instrument = self._markets.get(inst_id or "")
        if instrument is None:
            raise no_instrument()
        return instrument

    def _listed(self, kind: Kind | str | None, params: Params) -> list[Instrument]:
        """The instruments of an ``instType``, narrowed by ``instId`` and ``instFamily``/``uly``."""
        inst_id = params.text("instId")
        family = params.text("instFamily") or params.text("uly")
        return [
            i
            for i in self.ledger.instruments
            if (kind == "" or i.kind is kind)
            and (inst_id is None or self.inst_id(i) == inst_id)
            and (family is None or f"{i.base}-{i.quote}" == family)
        ]

    def _mark(self, asset: str) -> Decimal:
        """The USD(T) value of one unit of ``asset`` (0 for assets without a market)."""
        return unit_value(self.simulator.prices, asset, (QUOTE, "USDC", "USD"))
