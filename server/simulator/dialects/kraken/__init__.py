"""Kraken as the simulator speaks it: spot (``/0/``) and futures (``/derivatives/api/v3/``)."""

from server.simulator.dialects.kraken.dialect import KrakenDialect
from server.simulator.dialects.kraken.futures import KrakenFuturesDialect

__all__ = ["KrakenDialect", "KrakenFuturesDialect"]
