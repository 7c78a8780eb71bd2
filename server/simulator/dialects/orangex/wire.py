"""OrangeX's wire format: JSON-RPC 2.0 envelopes, error codes, instrument names and numbers.

Every answer is ``{"jsonrpc": "2.0", "id": ..., "result": ..., "usIn": µs, "usOut": µs,
"usDiff": µs, "testnet": false}`` or the same with ``"error": {"code": ..., "message": ...}``
in place of ``result``. Refusals come with HTTP 200, as OrangeX sends them; too many requests
answer 429 and an exchange that is down or in maintenance 503.

Codes from OrangeX's documentation and notes of people who used it: 10000 authentication
failure, 2033 access denied (a key without the scope), 5001 unknown instrument, 8000 bad
parameters, 1000 "No service found" (an unknown method). OrangeX documents no codes for the
rest; these are Deribit's, whose API OrangeX follows: 10004 order not found, 10009 not enough
funds, 10028 too many requests, 13028 temporarily unavailable. A duplicate ``custom_order_id``
is refused with 8000 and a message saying so (the simulator's choice: OrangeX documents none).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from server.simulator.dialects import common
from server.simulator.instruments import Instrument

Json = dict[str, Any]

NO_SERVICE = 1000
ACCESS_DENIED = 2033
BAD_INSTRUMENT = 5001
BAD_PARAMS = 8000
AUTHENTICATION_FAILURE = 10000
# Deribit's codes (OrangeX documents none for these).
ORDER_NOT_FOUND = 10004
NOT_ENOUGH_FUNDS = 10009
TOO_MANY_REQUESTS = 10028
TEMPORARILY_UNAVAILABLE = 13028

PERPETUAL = "PERPETUAL"  # the ``currency`` (asset type) of OrangeX's perpetuals


class OrangexError(Exception):
    """A refusal: OrangeX's code and message, and the HTTP status it travels with."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


def authentication_failure() -> OrangexError:
    return OrangexError(AUTHENTICATION_FAILURE, "Authentication Failure")


def _timing(received_us: int, now_us: int) -> Json:
    return {"usIn": received_us, "usOut": now_us, "usDiff": max(0, now_us - received_us)}


def answer(request_id: Any, result: Any, received_us: int, now_us: int) -> web.Response:
    body: Json = {"jsonrpc": "2.0", "id": request_id, "result": result}
    body.update(_timing(received_us, now_us))
    body["testnet"] = False
    return web.json_response(body)


def refusal(
    request_id: Any,
    error: OrangexError,
    received_us: int,
    now_us: int,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body: Json = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": error.code, "message": error.message},
    }
    body.update(_timing(received_us, now_us))
    body["testnet"] = False
    return web.json_response(body, status=error.status, headers=headers)


def instrument_name(instrument: Instrument) -> str:
    """``BTC-USDT-PERPETUAL``: OrangeX's name of a USDT-margined perpetual."""
    return f"{instrument.base}-{instrument.quote}-{PERPETUAL}"


fmt = common.plain  # numbers travel as strings, in plain notation


class Params(common.Params):
    """The ``params`` of one JSON-RPC call (the JSON body's, or the query's for a GET)."""

    def missing(self, name: str) -> Exception:
        return OrangexError(BAD_PARAMS, f"Invalid params: {name} is required")

    def malformed(self, name: str, expected: str = "a number") -> Exception:
        return OrangexError(BAD_PARAMS, f"Invalid params: {name} must be {expected}")

    def positive(self, name: str) -> Decimal | None:
        value = self.decimal(name)
        if value is not None and value <= 0:
            raise self.malformed(name, "positive")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self.malformed(name, "true or false")

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name) or default
        if value not in allowed:
            raise self.malformed(name, " or ".join(allowed))
        return value
