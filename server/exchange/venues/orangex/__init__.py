"""OrangeX perpetual futures as a ccxt exchange class (ccxt has none): :class:`orangex`."""

from server.exchange.venues.orangex.trading import orangex

__all__ = ["orangex"]
