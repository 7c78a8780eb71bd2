"""Pionex's wire format: the envelope, error codes, symbols and numbers as Pionex writes them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from server.simulator.dialects import common
from server.simulator.instruments import Instrument, Kind

Json = dict[str, Any]

# Pionex's error codes (openapi.yaml of pionex-official/pionex-open-api).
APIKEY_LOST = "APIKEY_LOST"
SIGNATURE_LOST = "SIGNATURE_LOST"
INVALID_APIKEY = "INVALID_APIKEY"
INVALID_SIGNATURE = "INVALID_SIGNATURE"
APIKEY_EXPIRED = "APIKEY_EXPIRED"
INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
PERMISSION_DENIED = "PERMISSION_DENIED"
TRADE_INVALID_SYMBOL = "TRADE_INVALID_SYMBOL"
TRADE_PARAMETER_ERROR = "TRADE_PARAMETER_ERROR"
TRADE_OPERATION_DENIED = "TRADE_OPERATION_DENIED"
TRADE_ORDER_NOT_FOUND = "TRADE_ORDER_NOT_FOUND"
MARKET_INVALID_SYMBOL = "MARKET_INVALID_SYMBOL"
MARKET_PARAMETER_ERROR = "MARKET_PARAMETER_ERROR"
# Not in the documentation's list (which names HTTP 429 only): the envelope's code for it.
RATE_LIMIT = "RATE_LIMIT"
# Not documented either: the code of a 5xx answer while the exchange is down or in maintenance.
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class PionexError(Exception):
    """A refusal: Pionex's code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


def envelope(
    now_ms: int, data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A success; without ``data`` when there is none (as for a cancellation)."""
    body: Json = {"result": True}
    if data is not None:
        body["data"] = data
    body["timestamp"] = now_ms
    return web.json_response(body, status=status, headers=headers)


def refusal(
    now_ms: int, error: PionexError, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {"result": False, "code": error.code, "message": error.message, "timestamp": now_ms}
    return web.json_response(body, status=error.status, headers=headers)


def symbol_of(instrument: Instrument) -> str:
    """``BTC_USDT``: Pionex's spot symbol; ``BTC_USDT_PERP``: its perpetual."""
    if instrument.kind is Kind.LINEAR:
        return f"{instrument.base}_{instrument.quote}_PERP"
    return f"{instrument.base}_{instrument.quote}"


def fmt(value: Decimal) -> str:
    """A decimal in plain notation, without trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def decimals(step: Decimal) -> int:
    """How many decimal places a step of a power of ten has (0.001 → 3, 1 → 0)."""
    return max(0, -int(step.normalize().as_tuple().exponent))


class Params(common.Params):
    """One request's parameters (query, or the JSON body), read as Pionex validates them;
    ``error`` is the code of a bad parameter (TRADE_ or MARKET_PARAMETER_ERROR)."""

    def __init__(self, values: Mapping[str, Any], error: str) -> None:
        super().__init__(values)
        self.error = error

    def bad(self, name: str) -> PionexError:
        return PionexError(self.error, f"invalid parameter: {name}")

    def missing(self, name: str) -> PionexError:
        return PionexError(self.error, f"parameter {name} is required")

    def malformed(self, name: str, expected: str = "a number") -> PionexError:
        return self.bad(name)

    def limit(self, default: int, lowest: int, highest: int) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if not lowest <= value <= highest:
            raise self.bad("limit")
        return value

    def decimal(self, name: str) -> Decimal | None:
        """A number above 0 (Pionex takes no zero or negative amounts and prices)."""
        number = super().decimal(name)
        if number is not None and number <= 0:
            raise self.bad(name)
        return number

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self.bad(name)
