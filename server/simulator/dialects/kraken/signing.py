"""Kraken's request signature and nonce rule.

``API-Sign`` is base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))
where postdata is the raw url-encoded (or JSON) body that carries the nonce. Each key's nonce
must be greater than the last one Kraken accepted for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def signature(secret: str, path: str, nonce: str, body: str) -> str | None:
    """The API-Sign a request should carry, or None for a secret that is not base64."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(key, path.encode() + digest, hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


def signature_matches(secret: str, path: str, nonce: str, body: str, given: str) -> bool:
    expected = signature(secret, path, nonce, body)
    return expected is not None and hmac.compare_digest(expected.encode(), given.encode())


class Nonces:
    """The last nonce accepted per API key."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def accept(self, api_key: str, nonce: int) -> bool:
        """Whether ``nonce`` is greater than the key's last one (and if so, remember it)."""
        if nonce <= self._last.get(api_key, 0):
            return False
        self._last[api_key] = nonce
        return True
