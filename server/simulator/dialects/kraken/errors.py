"""Kraken's refusals: every answer is ``{"error": [...], "result": ...}``, errors as
``"<severity><category>:<message>"`` strings, and (unlike most exchanges) HTTP 200."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.simulator.ledger import (
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    LedgerError,
    OrderNotFound,
    TradingNotAllowed,
    UnknownInstrument,
)

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
RATE_LIMIT = "EAPI:Rate limit exceeded"
PERMISSION_DENIED = "EGeneral:Permission denied"
UNKNOWN_METHOD = "EGeneral:Unknown method"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_ORDER = "EOrder:Unknown order"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
POST_ONLY = "EOrder:Post only order"
# Not confirmed from Kraken's documentation (which says only that a cl_ord_id is unique among a
# client's open orders): the simulator's words for a second open order with the same cl_ord_id.
DUPLICATE_ORDER = "EOrder:Duplicate order"
UNAVAILABLE = "EService:Unavailable"
# Kraken's answer while a market is halted for maintenance (ccxt: OnMaintenance).
CANCEL_ONLY = "EService:Market in cancel_only mode"


def invalid_arguments(name: str) -> KrakenError:
    return KrakenError(f"EGeneral:Invalid arguments:{name}")


class KrakenError(Exception):
    """A refusal as Kraken words it."""

    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


def envelope(
    result: Any = None,
    *,
    errors: tuple[str, ...] = (),
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": list(errors)}
    if result is not None:
        body["result"] = result
    elif errors:
        body["result"] = {}
    return web.json_response(body, status=status, headers=headers)


def refusal(error: LedgerError) -> KrakenError:
    """The ledger's refusal in Kraken's words."""
    if isinstance(error, InsufficientFunds):
        return KrakenError(INSUFFICIENT_FUNDS)
    if isinstance(error, OrderNotFound):
        return KrakenError(UNKNOWN_ORDER)
    if isinstance(error, TradingNotAllowed):
        return KrakenError(PERMISSION_DENIED)
    if isinstance(error, UnknownInstrument):
        return KrakenError(UNKNOWN_PAIR)
    if isinstance(error, DuplicateClientOrderId):
        return KrakenError(DUPLICATE_ORDER)
    if isinstance(error, InvalidOrder) and "minimum" in str(error):
        return KrakenError(ORDER_MINIMUM)
    return invalid_arguments("volume")
