"""Pionex spot as a ccxt exchange class (ccxt has none): :class:`pionex`."""

from server.exchange.venues.pionex.trading import pionex

__all__ = ["pionex"]
