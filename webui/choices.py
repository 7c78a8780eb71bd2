"""The values the dashboard offers in its selects, from the connection vocabulary and the log's."""

from __future__ import annotations

from enum import StrEnum

from server.connections.vocabulary import (
    ApiType,
    ConnectionMethod,
    Exchange,
    MarginType,
    PositionMode,
    PresetType,
)
from server.exchange.catalogue import supported_api_types
from server.monitoring.logs.entry import Category, Level

EXCHANGE_LABELS = {
    Exchange.BYBIT: "Bybit",
    Exchange.BINANCE: "Binance",
    Exchange.OKX: "OKX",
    Exchange.KRAKEN: "Kraken",
    Exchange.BINGX: "BingX",
    Exchange.PIONEX: "Pionex",
    Exchange.ORANGEX: "OrangeX",
}


def labelled(values: type[StrEnum]) -> dict[str, str]:
    """``{"perpetual_futures": "Perpetual futures", ...}`` for a vocabulary."""
    if values is Exchange:
        return {e.value: label for e, label in EXCHANGE_LABELS.items()}
    return {v.value: v.value.replace("_", " ").replace("-", " ").capitalize() for v in values}


EXCHANGES = labelled(Exchange)
API_TYPES = labelled(ApiType)
CONNECTION_METHODS = labelled(ConnectionMethod)


def api_types_of(exchange: str, keep: str = "") -> dict[str, str]:
    """The API types CTS trades on ``exchange`` (the server refuses the others), and ``keep``:
    the type a connection already has, so that editing it shows what it is."""
    supported = supported_api_types(exchange)
    return {
        value: label for value, label in API_TYPES.items() if value in supported or value == keep
    }


MARGIN_TYPES = labelled(MarginType)
POSITION_MODES = labelled(PositionMode)
PRESET_TYPES = labelled(PresetType)

# The log's words (server.monitoring.logs.entry); "" leaves the filter open.
LOG_LEVELS = {
    "": "All levels",
    **{
        level.word: level.word.capitalize() + (" only" if level is Level.ERROR else " and above")
        for level in Level
        if level is not Level.DEBUG
    },
}
LOG_CATEGORIES = {"": "All categories", **labelled(Category), Category.API.value: "API"}
