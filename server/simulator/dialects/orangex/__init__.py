"""The OrangeX perpetual-futures dialect of the exchange simulator (from OrangeX's public API
documentation and what its users report; Deribit's API, which OrangeX follows, where both are
silent)."""

from server.simulator.dialects.orangex.dialect import OrangexDialect

__all__ = ["OrangexDialect"]
