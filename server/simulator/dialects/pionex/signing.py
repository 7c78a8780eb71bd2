"""Pionex's check of a private request: key, timestamp (±20 s) and signature.

``PIONEX-SIGNATURE`` is the hex HMAC-SHA256 under the secret of METHOD + path + "?" + the query
parameters sorted by name (``timestamp`` among them, values not URL-encoded) + the raw JSON body
of a POST or DELETE.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from aiohttp import web

from server.simulator.dialects.pionex.wire import (
    APIKEY_EXPIRED,
    APIKEY_LOST,
    INVALID_APIKEY,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    SIGNATURE_LOST,
    TRADE_PARAMETER_ERROR,
    Params,
    PionexError,
)
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.dialects.pionex.dialect import PionexDialect

TIMESTAMP_WINDOW_MS = 20_000
KEY_HEADER = "PIONEX-KEY"
SIGNATURE_HEADER = "PIONEX-SIGNATURE"


def unauthorized(code: str, message: str) -> PionexError:
    return PionexError(code, message, status=401)


def signature_of(secret: str, method: str, path: str, query: str, body: str) -> str:
    payload = f"{method}{path}?{query}{body}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sorted_query(request: web.Request) -> str:
    return "&".join(f"{name}={value}" for name, value in sorted(request.query.items()))


async def authenticate(dialect: PionexDialect, request: web.Request) -> tuple[Account, Params]:
    """The account a private request is signed for, and its parameters (query or JSON body)."""
    api_key = request.headers.get(KEY_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not api_key:
        raise unauthorized(APIKEY_LOST, "API key is missing")
    if not signature:
        raise unauthorized(SIGNATURE_LOST, "signature is missing")
    account = dialect.account(api_key)
    if account is None:
        raise unauthorized(INVALID_APIKEY, "invalid API key")
    if account.revoked:
        raise unauthorized(APIKEY_EXPIRED, "API key has expired")
    try:
        sent = int(request.query.get("timestamp", ""))
    except ValueError:
        raise unauthorized(INVALID_TIMESTAMP, "timestamp is missing or not a number") from None
    if abs(dialect.now_ms() - sent) > TIMESTAMP_WINDOW_MS:
        raise unauthorized(INVALID_TIMESTAMP, "timestamp is outside the 20 s window")
    body = await request.text() if request.method in ("POST", "DELETE") else ""
    expected = signature_of(
        account.secret, request.method, request.path, sorted_query(request), body
    )
    if not hmac.compare_digest(expected, signature.lower()):
        raise unauthorized(INVALID_SIGNATURE, "invalid signature")
    if request.method == "GET":
        return account, Params(request.query, TRADE_PARAMETER_ERROR)
    try:
        values = json.loads(body) if body else {}
    except ValueError:
        raise PionexError(TRADE_PARAMETER_ERROR, "the body is not JSON") from None
    if not isinstance(values, dict):
        raise PionexError(TRADE_PARAMETER_ERROR, "the body is not a JSON object")
    return account, Params(values, TRADE_PARAMETER_ERROR)
