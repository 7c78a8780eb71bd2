"""The words of the connection domain: the values each enumerated field may take.

Pure Python (no storage, no gRPC), so that the dashboard can offer the same choices.
"""

from __future__ import annotations

from enum import StrEnum


class Exchange(StrEnum):
    BYBIT = "bybit"
    BINANCE = "binance"
    OKX = "okx"
    KRAKEN = "kraken"
    BINGX = "bingx"
    PIONEX = "pionex"
    ORANGEX = "orangex"


class ApiType(StrEnum):
    SPOT = "spot"
    PERPETUAL_FUTURES = "perpetual_futures"
    MARGIN = "margin"
    OPTIONS = "options"
    UNIFIED = "unified"


class ConnectionMethod(StrEnum):
    REST = "rest"
    WEBSOCKET = "websocket"
    LIBRARY = "library"


class AuthenticationType(StrEnum):
    API_KEY_SECRET = "api_key_secret"
    OAUTH = "oauth"


class MarginType(StrEnum):
    CROSS = "cross"
    ISOLATED = "isolated"


class PositionMode(StrEnum):
    HEDGE = "hedge"
    ONE_WAY = "one-way"


class PresetType(StrEnum):
    """Which stored parameter set the connection's indications and strategies use."""

    DEFAULT = "default"
    CONSERVATIVE = "conservative"
    AGGRESSIVE = "aggressive"
