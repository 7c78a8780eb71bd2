"""The Bybit v5 dialect: spot and USDT-linear perpetuals of a unified trading account (UTA 2.0).

Every answer is Bybit's envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``.
Private requests are checked as Bybit checks them: headers ``X-BAPI-API-KEY``,
``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN``, the hex HMAC-SHA256 of
``timestamp + apiKey + recvWindow + payload`` where the payload is the raw query string (GET) or
the raw JSON body (POST); the timestamp must lie in ``[server - recvWindow, server + 1000)``.

Refusals use Bybit's own retCodes (``10001`` parameters, ``10002`` timestamp, ``10003`` key,
``10004`` signature, ``10005`` permission, ``10006`` rate limit, ``1100xx`` derivatives,
``1701xx`` spot), so that ccxt raises the same exceptions as against Bybit. Amounts and prices
are strings on the wire and :class:`~decimal.Decimal` inside.

Deviations, on purpose: the simulator's rate limit answers HTTP 429 with retCode 10006 (Bybit's
per-UID limit answers HTTP 200 with 10006, its system-level protection HTTP 429); an unknown
symbol is answered with ``10001 Not supported symbols`` on every endpoint (ccxt: BadSymbol);
conditional and TP/SL orders are refused; a PostOnly order that would take liquidity is refused
instead of being accepted and then cancelled.

Spot margin (``isLeverage`` 1 on a spot order) is the unified account's, as at Bybit: the order
trades the same spot market from the same wallet and says ``isLeverage`` "1". Nothing is lent:
an order that would need a loan (a buy beyond the free balance, a short sale) is refused with
Bybit's insufficient-balance answer, as if the account's borrowing limit were zero; the demo
accounts have spot margin switched on.
"""

from server.simulator.dialects.bybit.dialect import BybitDialect

__all__ = ["BybitDialect"]
