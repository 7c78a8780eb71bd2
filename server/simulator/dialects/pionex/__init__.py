"""The Pionex spot dialect of the exchange simulator (from Pionex's public API documentation)."""

from server.simulator.dialects.pionex.dialect import PionexDialect

__all__ = ["PionexDialect"]
