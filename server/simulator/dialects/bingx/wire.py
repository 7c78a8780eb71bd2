"""BingX's wire format: the envelope, its error codes, parameters and number formatting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.simulator.dialects import common
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import Ledger
from server.simulator.prices import PriceBook

Json = dict[str, Any]

# BingX's codes, and the ccxt exception each maps to (ccxt 4.5 ``bingx.exceptions``).
SIGNATURE_FAILED = 100001  # AuthenticationError
PERMISSION_DENIED = 100004  # PermissionDenied
BAD_PARAMETER = 100400  # BadRequest (spot)
RATE_LIMITED = 100410  # OperationFailed (CTS reads it as a rate limit)
INCORRECT_KEY = 100413  # AuthenticationError
TIMESTAMP_MISMATCH = 100421  # BadSymbol in ccxt (CTS reads it as clock skew by its message)
SPOT_INSUFFICIENT = 100202  # InsufficientFunds
ORDER_NOT_FOUND = 80016  # OrderNotFound
MARGIN_INSUFFICIENT = 101204  # InsufficientFunds
BELOW_MINIMUM = 101400  # InvalidOrder
DUPLICATE_CLIENT_ID = 101481  # DuplicateOrderId
INVALID_PARAMETERS = 109400  # BadRequest (swap)
SYMBOL_NOT_FOUND = 109425  # BadSymbol


class BingxError(Exception):
    """A refusal in BingX's terms: code and msg, HTTP 200 unless said otherwise."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


def bad_parameter(kind: Kind, message: str) -> BingxError:
    code = BAD_PARAMETER if kind is Kind.SPOT else INVALID_PARAMETERS
    return BingxError(code, f"Invalid parameters, {message}")


def fmt(value: Decimal) -> str:
    """A decimal as BingX writes it: plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def market_id(instrument: Instrument) -> str:
    """``BTC-USDT``: BingX's name of both the spot and the USDT-M perpetual market."""
    return f"{instrument.base}-{instrument.quote}"


@dataclass(frozen=True, slots=True)
class Venue:
    """What a handler reads: the exchange's books, prices and clock for this request."""

    ledger: Ledger
    prices: PriceBook
    now_ms: int

    def instrument(self, kind: Kind, symbol: str | None) -> Instrument:
        for instrument in self.ledger.instruments:
            if instrument.kind is kind and market_id(instrument) == symbol:
                return instrument
        if not symbol:
            raise bad_parameter(kind, "symbol is required")
        raise BingxError(SYMBOL_NOT_FOUND, f"{symbol} not exist, please verify it")

    def listed(self, kind: Kind, symbol: str | None) -> list[Instrument]:
        if symbol:
            return [self.instrument(kind, symbol)]
        return [i for i in self.ledger.instruments if i.kind is kind]


class Params(common.Params):
    """The parameters of one request (BingX sends them all in the query)."""

    def __init__(self, values: Mapping[str, str], kind: Kind) -> None:
        super().__init__(values)
        self.kind = kind

    def missing(self, name: str) -> BingxError:
        return bad_parameter(self.kind, f"{name} is required")

    def malformed(self, name: str, expected: str = "a number") -> BingxError:
        return bad_parameter(self.kind, f"{name} must be {expected}")

    def limit(self, name: str, default: int, maximum: int) -> int:
        value = self.integer(name, default)
        assert value is not None
        if not 1 <= value <= maximum:
            raise bad_parameter(self.kind, f"{name} must be between 1 and {maximum}")
        return value

    def flag(self, name: str) -> bool:
        return (self.values.get(name) or "").lower() == "true"
