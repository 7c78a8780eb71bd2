"""Encryption of credentials at rest (AES-256-GCM under the master key).

A sealed value is ``b"v1" + nonce(12) + ciphertext+tag``. The associated data binds each
ciphertext to its owner and field (for example ``connection:<id>:api_secret``), so a sealed
secret copied into another row or column does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.monitoring.logs.scrub import remember_secrets

FORMAT_V1 = b"v1"
NONCE_BYTES = 12


class SealedValueError(Exception):
    """A sealed value does not open under this key and owner (wrong key or tampered data)."""


class CredentialCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, owner: str) -> bytes:
        remember_secrets(plaintext)  # a credential: never to appear in a log
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext.encode(), owner.encode())

    def open(self, sealed: bytes, *, owner: str) -> str:
        if not sealed.startswith(FORMAT_V1) or len(sealed) < len(FORMAT_V1) + NONCE_BYTES + 16:
            raise SealedValueError(f"unknown sealed value format for {owner}")
        nonce = sealed[len(FORMAT_V1) : len(FORMAT_V1) + NONCE_BYTES]
        try:
            plaintext = self._aead.decrypt(
                nonce, sealed[len(FORMAT_V1) + NONCE_BYTES :], owner.encode()
            ).decode()
        except InvalidTag as exc:
            raise SealedValueError(
                f"sealed value for {owner} does not open with this master key"
            ) from exc
        remember_secrets(plaintext)
        return plaintext
