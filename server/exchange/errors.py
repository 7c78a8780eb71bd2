"""CTS's own kinds of exchange failure, and the translation of ccxt's exceptions into them.

Everything above exchange access sees only :class:`ExchangeError`; ccxt's exception classes
never leave ``server.exchange``. Messages name the exchange and what failed, never credentials.
"""

from __future__ import annotations

import re
from enum import StrEnum

import ccxt

from server.errors import DomainError, ErrorKind


class ExchangeFailure(StrEnum):
    AUTHENTICATION = "authentication"  # key unknown, revoked, or wrong secret/passphrase
    PERMISSION = "permission"  # the key may not do this
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # down, 5xx, connection refused
    MAINTENANCE = "maintenance"  # the exchange's own answer that it is under maintenance
    TIMEOUT = "timeout"
    CLOCK_SKEW = "clock_skew"  # timestamp outside the exchange's window (invalid nonce)
    BAD_SYMBOL = "bad_symbol"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_ORDER = "invalid_order"
    ORDER_NOT_FOUND = "order_not_found"
    DUPLICATE_ORDER = "duplicate_order"  # the client order id was used before by this account
    CIRCUIT_OPEN = "circuit_open"  # CTS stopped calling after repeated failures
    UNSUPPORTED = "unsupported"  # this exchange or API type has no adapter (yet)
    BAD_RESPONSE = "bad_response"  # the exchange answered something unusable
    OTHER = "other"


# Failures that say the exchange (or the way to it) is unwell, as opposed to the request.
EXCHANGE_SIDE = frozenset(
    {
        ExchangeFailure.UNAVAILABLE,
        ExchangeFailure.MAINTENANCE,
        ExchangeFailure.TIMEOUT,
        ExchangeFailure.BAD_RESPONSE,
    }
)
# Failures worth retrying after a pause (reads only; orders have their own rules).
RETRYABLE = frozenset({ExchangeFailure.RATE_LIMITED})

_KINDS: dict[ExchangeFailure, ErrorKind] = {
    ExchangeFailure.RATE_LIMITED: ErrorKind.RESOURCE_EXHAUSTED,
    ExchangeFailure.UNAVAILABLE: ErrorKind.UNAVAILABLE,
    ExchangeFailure.MAINTENANCE: ErrorKind.UNAVAILABLE,
    ExchangeFailure.CIRCUIT_OPEN: ErrorKind.UNAVAILABLE,
    ExchangeFailure.TIMEOUT: ErrorKind.DEADLINE_EXCEEDED,
    ExchangeFailure.DUPLICATE_ORDER: ErrorKind.ALREADY_EXISTS,
}


class ExchangeError(DomainError):
    """An exchange call failed; ``failure`` says how."""

    def __init__(
        self,
        failure: ExchangeFailure,
        message: str,
        *,
        exchange: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.kind = _KINDS.get(failure, ErrorKind.FAILED_PRECONDITION)
        super().__init__(
            message,
            reason=f"EXCHANGE_{failure.value.upper()}",
            metadata={"exchange": exchange} if exchange else None,
        )
        self.failure = failure
        self.exchange = exchange
        self.retry_after = retry_after


# Most specific first: ccxt's classes inherit from each other.
_TRANSLATION: tuple[tuple[type[Exception], ExchangeFailure], ...] = (
    (ccxt.PermissionDenied, ExchangeFailure.PERMISSION),
    (ccxt.AuthenticationError, ExchangeFailure.AUTHENTICATION),
    (ccxt.InvalidNonce, ExchangeFailure.CLOCK_SKEW),
    (ccxt.RateLimitExceeded, ExchangeFailure.RATE_LIMITED),
    (ccxt.DDoSProtection, ExchangeFailure.RATE_LIMITED),
    (ccxt.RequestTimeout, ExchangeFailure.TIMEOUT),
    (ccxt.OnMaintenance, ExchangeFailure.MAINTENANCE),
    (ccxt.ExchangeNotAvailable, ExchangeFailure.UNAVAILABLE),
    (ccxt.BadSymbol, ExchangeFailure.BAD_SYMBOL),
    (ccxt.InsufficientFunds, ExchangeFailure.INSUFFICIENT_FUNDS),
    (ccxt.OrderNotFound, ExchangeFailure.ORDER_NOT_FOUND),
    (ccxt.DuplicateOrderId, ExchangeFailure.DUPLICATE_ORDER),
    (ccxt.InvalidOrder, ExchangeFailure.INVALID_ORDER),
    (ccxt.NotSupported, ExchangeFailure.UNSUPPORTED),
    (ccxt.BadResponse, ExchangeFailure.BAD_RESPONSE),
    (ccxt.NetworkError, ExchangeFailure.UNAVAILABLE),
)

_DESCRIPTIONS: dict[ExchangeFailure, str] = {
    ExchangeFailure.AUTHENTICATION: "the exchange rejected the API credentials",
    ExchangeFailure.PERMISSION: "the API key lacks the permission for this call",
    ExchangeFailure.RATE_LIMITED: "the exchange is rate limiting this account",
    ExchangeFailure.UNAVAILABLE: "the exchange is unavailable",
    ExchangeFailure.MAINTENANCE: "the exchange is under maintenance",
    ExchangeFailure.TIMEOUT: "the exchange did not answer in time",
    ExchangeFailure.CLOCK_SKEW: "the exchange rejected the request timestamp (clock skew)",
    ExchangeFailure.BAD_SYMBOL: "the exchange does not know this symbol",
    ExchangeFailure.INSUFFICIENT_FUNDS: "insufficient funds",
    ExchangeFailure.INVALID_ORDER: "the exchange rejected the order",
    ExchangeFailure.ORDER_NOT_FOUND: "the exchange does not know this order",
    ExchangeFailure.DUPLICATE_ORDER: "the exchange already has an order with this client order id",
    ExchangeFailure.UNSUPPORTED: "this call is not supported for this exchange",
    ExchangeFailure.BAD_RESPONSE: "the exchange answered with something unusable",
    ExchangeFailure.OTHER: "the exchange refused the call",
}


def translate(
    error: Exception, *, exchange: str, retry_after: float | None = None
) -> ExchangeError:
    """The CTS error for a ccxt exception (use ``raise translate(e, ...) from e``).

    The message is CTS's own description: ccxt's texts embed the exchange's raw response,
    which is not shown to clients.
    """
    failure = next(
        (kind for cls, kind in _TRANSLATION if isinstance(error, cls)), ExchangeFailure.OTHER
    )
    failure = _reread(error, exchange, failure)
    return ExchangeError(
        failure,
        f"{exchange}: {_DESCRIPTIONS[failure]}",
        exchange=exchange,
        retry_after=retry_after if failure is ExchangeFailure.RATE_LIMITED else None,
    )


def _reread(error: Exception, exchange: str, failure: ExchangeFailure) -> ExchangeFailure:
    """``failure`` corrected by the exchange's own code (and message) in ccxt's text."""
    text = str(error)
    if failure is ExchangeFailure.UNAVAILABLE and "maintenance" in text.lower():
        # Bybit answers maintenance with an HTML page that ccxt raises as ExchangeNotAvailable.
        return ExchangeFailure.MAINTENANCE
    for code in _CODE.findall(text):
        reread = _REREAD.get((exchange, failure, code))
        if reread is not None:
            return reread
        for fragment, by_text in _REREAD_TEXT.get((exchange, failure, code), ()):
            if fragment in text:
                return by_text
    return failure


# An exchange's error code in a ccxt message (``binance {"code":-2015,...}``). OKX answers
# order placements with the outcome of each order (``{"code":"1",...,"data":[{"sCode":...}]}``):
# every code in the text counts.
_CODE = re.compile(r'"(?:code|sCode|retCode)"\s*:\s*"?(-?\d+)')

# Exchange codes that ccxt classifies as something else, read as what they nearly always are.
_REREAD: dict[tuple[str, ExchangeFailure, str], ExchangeFailure] = {
    # Binance -2015 "Invalid API-key, IP, or permissions for action" (HTTP 401): after one
    # successful private spot call ccxt raises it as DDoSProtection, because Binance also sends
    # it during temporary IP bans. Retrying a revoked key only hammers the exchange and hides the
    # real problem; a ban answers 418 or 429, which stay rate limits.
    ("binance", ExchangeFailure.RATE_LIMITED, "-2015"): ExchangeFailure.AUTHENTICATION,
    # OKX 50120 "API key doesn't have permission": ccxt does not map it (plain ExchangeError).
    ("okx", ExchangeFailure.OTHER, "50120"): ExchangeFailure.PERMISSION,
    # Duplicate client order ids; ccxt raises none of them as DuplicateOrderId.
    # Binance USDⓈ-M -4116 "ClientOrderId is duplicated.": InvalidOrder for binance.com URLs,
    # a plain ExchangeError for any other (ccxt's "override commons" table).
    ("binance", ExchangeFailure.INVALID_ORDER, "-4116"): ExchangeFailure.DUPLICATE_ORDER,
    ("binance", ExchangeFailure.OTHER, "-4116"): ExchangeFailure.DUPLICATE_ORDER,
    # Bybit spot 170141 "Duplicate clientOrderId.", linear 110072 "OrderLinkedID is duplicate":
    # InvalidOrder.
    ("bybit", ExchangeFailure.INVALID_ORDER, "170141"): ExchangeFailure.DUPLICATE_ORDER,
    ("bybit", ExchangeFailure.INVALID_ORDER, "110072"): ExchangeFailure.DUPLICATE_ORDER,
    # OKX sCode 51016 "Duplicated clOrdId": InvalidOrder.
    ("okx", ExchangeFailure.INVALID_ORDER, "51016"): ExchangeFailure.DUPLICATE_ORDER,
    # BingX 100410 "rate limitation" (HTTP 429): ccxt raises OperationFailed.
    ("bingx", ExchangeFailure.OTHER, "100410"): ExchangeFailure.RATE_LIMITED,
}

# Codes that mean several things, told apart by the exchange's message.
_REREAD_TEXT: dict[tuple[str, ExchangeFailure, str], tuple[tuple[str, ExchangeFailure], ...]] = {
    # Binance spot -2010 NEW_ORDER_REJECTED also says "Order would immediately match and take."
    # (a post-only order) and more; "Duplicate order sent." is the duplicate client order id.
    ("binance", ExchangeFailure.INVALID_ORDER, "-2010"): (
        ("Duplicate order sent", ExchangeFailure.DUPLICATE_ORDER),
    ),
    # BingX 100421 is "Null timestamp or timestamp mismatch" (and a pair closed to API trading,
    # which ccxt raises it as: BadSymbol).
    ("bingx", ExchangeFailure.BAD_SYMBOL, "100421"): (("timestamp", ExchangeFailure.CLOCK_SKEW),),
}
