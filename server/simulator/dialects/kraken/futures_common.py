"""Kraken Futures wire basics shared by the dialect and its order handling."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from server.simulator.instruments import Instrument


def iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def number(value: Any) -> float:
    """Kraken Futures writes its numbers as JSON numbers."""
    return float(value)


class FuturesError(Exception):
    def __init__(self, code: str, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


def futures_code(code: str) -> str:
    """Kraken Futures names bitcoin XBT and every other asset by its code (PF_DOGEUSD)."""
    return "XBT" if code == "BTC" else code


def market_id(instrument: Instrument) -> str:
    return f"PF_{futures_code(instrument.base)}USD"


def authent(secret: str, post_data: str, nonce: str, endpoint_path: str) -> str | None:
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.sha256((post_data + nonce + endpoint_path).encode()).digest()
    return base64.b64encode(hmac.new(key, digest, hashlib.sha512).digest()).decode()
