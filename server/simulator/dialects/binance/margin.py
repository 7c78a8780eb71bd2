"""Binance's cross margin account (``/sapi/v1/margin/*``): its order rules and shapes.

What the simulator keeps of it:

- The cross margin account is the key's wallet in the shared ledger (the same wallet its spot
  and futures APIs see), so a demo key's margin account holds the demo balance.
- Orders go to the spot markets, with spot's order types, filters and codes, and Binance's
  margin parameters: ``isIsolated`` (only ``FALSE``: isolated accounts are not simulated and are
  answered with -11001, as Binance answers a key without one) and ``sideEffectType``.
- Nothing is lent. Every side effect is accepted, but an order is paid from the account's own
  funds: one that would need a loan (a ``MARGIN_BUY`` beyond the free balance, a short sale) is
  refused with Binance's insufficient-balance answer, and the account never owes anything
  (``borrowed`` and ``interest`` are 0, the margin level is Binance's 999 for no debt).
- Margin orders are the margin account's: the spot order endpoints do not list them, nor the
  margin ones spot orders.
"""

from __future__ import annotations

from server.simulator.dialects.binance.errors import BinanceError, illegal
from server.simulator.dialects.binance.shapes import BinanceOrderShapes
from server.simulator.dialects.binance.wire import SIDE_EFFECTS, Call, Json, fmt, random_id
from server.simulator.ledger import ZERO, Order, Side

# Binance's margin level for an account without debt.
NO_DEBT_MARGIN_LEVEL = "999.00000000"


def check_margin_order(call: Call) -> None:
    """Binance's checks of the margin parameters of a new order."""
    isolated = (call.text("isIsolated") or "FALSE").upper()
    if isolated not in ("TRUE", "FALSE"):
        raise illegal("isIsolated", "TRUE|FALSE")
    if isolated == "TRUE":
        raise BinanceError(-11001, "Isolated margin account does not exist.")
    side_effect = call.text("sideEffectType") or "NO_SIDE_EFFECT"
    if side_effect not in SIDE_EFFECTS:
        raise illegal("sideEffectType", "|".join(SIDE_EFFECTS))


class BinanceMarginShapes(BinanceOrderShapes):
    def _margin_order(self, order: Order) -> Json:
        """An order as GET /sapi/v1/margin/order (and openOrders, allOrders) shows it."""
        core = self._spot_core(order)
        return {
            "clientOrderId": core["clientOrderId"],
            "cummulativeQuoteQty": core["cummulativeQuoteQty"],
            "executedQty": core["executedQty"],
            "icebergQty": fmt(ZERO),
            "isWorking": True,
            "orderId": core["orderId"],
            "origQty": core["origQty"],
            "price": core["price"],
            "side": core["side"],
            "status": core["status"],
            "stopPrice": fmt(ZERO),
            "symbol": core["symbol"],
            "isIsolated": False,
            "time": order.created_ms,
            "timeInForce": core["timeInForce"],
            "type": core["type"],
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "updateTime": order.updated_ms,
        }

    def _margin_order_response(self, order: Order, response_type: str) -> Json:
        """The answer to POST /sapi/v1/margin/order in its ACK, RESULT or FULL form (no
        ``marginBuyBorrowAmount``: Binance sends it only when the order borrowed)."""
        head = {
            "symbol": order.instrument.plain_id,
            "orderId": int(order.id),
            "clientOrderId": order.client_order_id,
            "transactTime": order.created_ms,
        }
        if response_type == "ACK":
            return head | {"isIsolated": False}
        core = self._spot_core(order)
        result = head | {
            key: core[key]
            for key in (
                "price",
                "origQty",
                "executedQty",
                "cummulativeQuoteQty",
                "status",
                "timeInForce",
                "type",
                "side",
            )
        }
        result |= {"isIsolated": False, "selfTradePreventionMode": "EXPIRE_MAKER"}
        if response_type == "FULL":
            result["fills"] = [self._spot_fill(order)] if self._meta_of(order).taker else []
        return result

    def _margin_cancel_response(self, order: Order, cancel_id: str | None) -> Json:
        """The answer to DELETE /sapi/v1/margin/order: the order id is a string here."""
        core = self._spot_core(order)
        return {
            "symbol": core["symbol"],
            "isIsolated": False,
            "orderId": order.id,
            "origClientOrderId": order.client_order_id,
            "clientOrderId": cancel_id or random_id(),
            "price": core["price"],
            "origQty": core["origQty"],
            "executedQty": core["executedQty"],
            "cummulativeQuoteQty": core["cummulativeQuoteQty"],
            "status": core["status"],
            "timeInForce": core["timeInForce"],
            "type": core["type"],
            "side": core["side"],
        }

    def _margin_trade(self, order: Order) -> Json:
        """A fill as GET /sapi/v1/margin/myTrades shows it."""
        price = order.average or ZERO
        return {
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "id": int(order.id),
            "isBestMatch": True,
            "isBuyer": order.side is Side.BUY,
            "isMaker": not self._meta_of(order).taker,
            "orderId": int(order.id),
            "price": fmt(price),
            "qty": fmt(order.filled),
            "symbol": order.instrument.plain_id,
            "isIsolated": False,
            "time": order.updated_ms,
        }
