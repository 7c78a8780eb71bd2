"""The Binance dialect: spot (``/api/v3``, ``/sapi``), cross margin (``/sapi/v1/margin``, over
the same wallet, without loans: see ``margin.py``), USDⓈ-M futures (``/fapi``) and an empty
COIN-M (``/dapi``).

Binance's wire rules, as this dialect applies them:

- Signed endpoints take the key in the ``X-MBX-APIKEY`` header and ``timestamp``, optional
  ``recvWindow`` (default 5000 ms, at most 60000) and ``signature`` parameters. The signature is
  the hex HMAC-SHA256, keyed with the secret, of the query string concatenated with the form body,
  both exactly as sent and without the ``signature`` parameter. A request is refused when its
  timestamp is 1000 ms or more ahead of the exchange's clock or older than ``recvWindow``.
- A key that is unknown, revoked, or lacks the permission an endpoint needs gets -2015 (HTTP
  401), as Binance answers; a missing key gets -2014.
- Amounts and prices are strings (Decimal inside); spot formats them with 8 decimals, futures
  with the market's own precision. Errors are ``{"code": <negative int>, "msg": ...}``.
- Spot and the perp of an asset share the id ``BTCUSDT``: the path (``/api`` or ``/fapi``) says
  which market is meant.

Where Binance's behaviour and ccxt's mapping of its codes meet: ccxt maps some codes (-2019,
-4116, -4164, ...) only when the URL is on binance.com, so against the simulator they surface as
plain ``ExchangeError``. Insufficient balance is therefore answered on both APIs with -2010 and
Binance's "Account has insufficient balance for requested action.", which ccxt maps by message.
"""

from server.simulator.dialects.binance.dialect import BinanceDialect

__all__ = ["BinanceDialect"]
