"""The OKX v5 dialect: spot and USDT-margined perpetual swaps of a "Spot and futures" account.

Every answer is OKX's envelope ``{"code": "0", "msg": "", "data": [...]}``. Private requests
are checked as OKX checks them: headers ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``,
``OK-ACCESS-TIMESTAMP`` (ISO-8601 UTC with milliseconds) and ``OK-ACCESS-SIGN``, the base64
HMAC-SHA256 of ``timestamp + METHOD + requestPath + body`` where the request path carries the
query string exactly as sent and the body is the raw JSON body; the timestamp must lie within
30 s of the server's clock (and before the optional ``expTime`` header).

Refusals use OKX's own codes (``50011`` rate limit, ``50001`` maintenance, ``50013`` busy,
``501xx`` authentication, ``50120`` key permission, ``51xxx`` trading), with the per-order
``sCode``/``sMsg`` of the trade endpoints, so that ccxt raises the same exceptions as against
OKX. Amounts and prices are strings on the wire and :class:`~decimal.Decimal` inside.

The account is OKX's "Spot and futures mode" (``acctLv`` 2) in net (one-way) position mode:
one wallet for spot and swaps, as the shared ledger keeps it. Swap sizes are in contracts: a
contract is worth ``ctVal`` = 100 amount steps of the base asset and trades in lots of 0.01
contracts, so one lot is one amount step of the ledger.

Spot margin is cross margin over the same wallet (``tdMode`` cross with ``ccy`` the pair's base
or quote) and lends nothing: an order that would need a loan is refused with ``51008``, as if
the account's borrowing limit were zero.

Deviations, on purpose: unknown and revoked keys both answer ``50111 Invalid OK-ACCESS-KEY``
(OKX answers ``50119`` for keys that never existed, which ccxt does not map); isolated spot
margin (``tdMode`` isolated on spot), algo orders and hedge mode are refused with ``51000``; the
swap margin mode is the account's (``tdMode`` must match it); a ``post_only`` order that would
take liquidity is refused (``51000``) instead of being placed and cancelled; fees are charged in
the quote asset on both sides, as the ledger charges them.
"""

from server.simulator.dialects.okx.dialect import OkxDialect

__all__ = ["OkxDialect"]
