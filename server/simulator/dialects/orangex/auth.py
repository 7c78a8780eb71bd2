"""OrangeX's authentication: ``/public/auth`` with ``grant_type=client_credentials`` hands out
a bearer token (``expires_in`` 43,199 s) and a refresh token; private calls carry
``Authorization: bearer <token>``.

A wrong key or secret, a revoked key, a missing, unknown or expired token all answer 10000
"Authentication Failure". Tokens expire on the exchange's clock (a clock-skew fault moves it).
The token's ``scope`` tells what the key may do: ``trade:read_write`` for a key that trades,
``trade:read`` for one that only reads; a call beyond the scope answers 2033 "Access denied".
``client_signature`` (an HMAC of the client id, a timestamp and a nonce) is documented too, but
reported not to work at OrangeX; the simulator answers it as OrangeX does, with 10000.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from server.simulator.dialects.orangex.wire import (
    BAD_PARAMS,
    Json,
    OrangexError,
    Params,
    authentication_failure,
)
from server.simulator.ledger import Account, Ledger

TOKEN_SECONDS = 43_199


@dataclass(frozen=True, slots=True)
class Token:
    api_key: str
    expires_ms: int


def scope_of(account: Account) -> str:
    """The scope OrangeX reports for a key: what it may read and trade."""
    trades = account.permissions.derivatives
    wallet = "wallet:read_write" if account.permissions.withdraw else "wallet:read"
    return f"account:read_write trade:{'read_write' if trades else 'read'} {wallet}"


class Tokens:
    """The access and refresh tokens this exchange has handed out."""

    def __init__(self) -> None:
        self._access: dict[str, Token] = {}
        self._refresh: dict[str, str] = {}  # refresh token → API key

    def key_of(self, header: str | None) -> str | None:
        """The API key behind an ``Authorization: bearer`` header (expired or not)."""
        token = self._bearer(header)
        found = self._access.get(token or "")
        return found.api_key if found else None

    @staticmethod
    def _bearer(header: str | None) -> str | None:
        scheme, _, token = (header or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def grant(self, ledger: Ledger, params: Params, now_ms: int) -> Json:
        """POST /public/auth"""
        grant_type = params.required("grant_type")
        if grant_type == "client_credentials":
            account = ledger.accounts.get(params.required("client_id"))
            secret = params.required("client_secret")
            if account is None or not hmac.compare_digest(account.secret.encode(), secret.encode()):
                raise authentication_failure()
        elif grant_type == "refresh_token":
            api_key = self._refresh.pop(params.required("refresh_token"), None)
            account = ledger.accounts.get(api_key or "")
            if account is None:
                raise authentication_failure()
        elif grant_type == "client_signature":
            raise authentication_failure()
        else:
            raise OrangexError(BAD_PARAMS, "Invalid params: grant_type")
        if account.revoked:
            raise authentication_failure()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = Token(account.api_key, now_ms + TOKEN_SECONDS * 1000)
        self._refresh[refresh] = account.api_key
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": TOKEN_SECONDS,
            "scope": scope_of(account),
        }

    def account(self, ledger: Ledger, header: str | None, now_ms: int) -> Account:
        """The account a private call is made for, by its bearer token."""
        token = self._bearer(header)
        found = self._access.get(token or "")
        if found is None:
            raise authentication_failure()
        if found.expires_ms <= now_ms:
            self._access.pop(token or "", None)
            raise authentication_failure()
        account = ledger.accounts.get(found.api_key)
        if account is None or account.revoked:
            raise authentication_failure()
        return account
