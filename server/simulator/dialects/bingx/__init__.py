"""The BingX dialect of the exchange simulator (spot and USDT-M perpetual swap)."""

from server.simulator.dialects.bingx.dialect import BingxDialect

__all__ = ["BingxDialect"]
