"""Binance's orders and trades as its order endpoints show them."""

from __future__ import annotations

from server.simulator.dialects.binance.core import BinanceCore
from server.simulator.dialects.binance.wire import Json, OrderMeta, fmt, random_id
from server.simulator.ledger import ZERO, Order, OrderStatus, Side


class BinanceOrderShapes(BinanceCore):
    def _meta_of(self, order: Order) -> OrderMeta:
        meta = self._meta.get(order.id)
        if meta is None:
            meta = OrderMeta(type=order.type.upper(), time_in_force="GTC")
            self._meta[order.id] = meta
        return meta

    def _status(self, order: Order) -> str:
        if order.status is OrderStatus.OPEN:
            return "NEW"
        if order.status is OrderStatus.FILLED:
            return "FILLED"
        return "EXPIRED" if self._meta_of(order).expired else "CANCELED"

    # -- order shapes -------------------------------------------------------------------------

    def _spot_core(self, order: Order) -> Json:
        meta = self._meta_of(order)
        return {
            "symbol": order.instrument.plain_id,
            "orderId": int(order.id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price or ZERO),
            "origQty": fmt(order.amount),
            "executedQty": fmt(order.filled),
            "origQuoteOrderQty": fmt(meta.quote_qty),
            "cummulativeQuoteQty": fmt(order.filled * (order.average or ZERO)),
            "status": self._status(order),
            "timeInForce": meta.time_in_force,
            "type": meta.type,
            "side": order.side.upper(),
        }

    def _spot_order(self, order: Order) -> Json:
        """An order as GET /api/v3/order shows it."""
        return self._spot_core(order) | {
            "stopPrice": fmt(ZERO),
            "icebergQty": fmt(ZERO),
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "isWorking": True,
            "workingTime": order.created_ms,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _spot_order_response(self, order: Order, response_type: str) -> Json:
        """The answer to POST /api/v3/order in its ACK, RESULT or FULL form."""
        if response_type == "ACK":
            return {
                "symbol": order.instrument.plain_id,
                "orderId": int(order.id),
                "orderListId": -1,
                "clientOrderId": order.client_order_id,
                "transactTime": order.created_ms,
            }
        core = self._spot_core(order)
        result = {key: core[key] for key in ("symbol", "orderId", "orderListId", "clientOrderId")}
        result["transactTime"] = order.created_ms
        result |= {key: value for key, value in core.items() if key not in result}
        result |= {"workingTime": order.created_ms, "selfTradePreventionMode": "EXPIRE_MAKER"}
        if response_type == "FULL":
            result["fills"] = [self._spot_fill(order)] if self._meta_of(order).taker else []
        return result

    def _spot_cancel_response(self, order: Order, cancel_id: str | None) -> Json:
        """The answer to DELETE /api/v3/order: ``clientOrderId`` is the cancel's own id and
        ``origClientOrderId`` the order's."""
        core = self._spot_core(order)
        head = {
            "symbol": core["symbol"],
            "origClientOrderId": order.client_order_id,
            "orderId": core["orderId"],
            "orderListId": -1,
            "clientOrderId": cancel_id or random_id(),
            "transactTime": order.updated_ms,
        }
        return head | {key: value for key, value in core.items() if key not in head}

    @staticmethod
    def _spot_fill(order: Order) -> Json:
        return {
            "price": fmt(order.average or ZERO),
            "qty": fmt(order.filled),
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "tradeId": int(order.id),
        }

    def _futures_order(self, order: Order) -> Json:
        """An order as /fapi/v1/order answers (POST, GET and DELETE)."""
        meta = self._meta_of(order)
        instrument = order.instrument
        price_places = instrument.decimals(instrument.price_tick)
        qty_places = instrument.decimals(instrument.amount_step)
        return {
            "orderId": int(order.id),
            "symbol": instrument.plain_id,
            "status": self._status(order),
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price or ZERO, price_places),
            "avgPrice": fmt(order.average or ZERO, price_places),
            "origQty": fmt(order.amount, qty_places),
            "executedQty": fmt(order.filled, qty_places),
            "cumQty": fmt(order.filled, qty_places),
            "cumQuote": fmt(order.filled * (order.average or ZERO), price_places + qty_places),
            "timeInForce": meta.time_in_force,
            "type": meta.type,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": order.side.upper(),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": meta.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "updateTime": order.updated_ms,
        }

    def _spot_trade(self, order: Order) -> Json:
        """A fill as GET /api/v3/myTrades shows it."""
        meta = self._meta_of(order)
        price = order.average or ZERO
        return {
            "symbol": order.instrument.plain_id,
            "id": int(order.id),
            "orderId": int(order.id),
            "orderListId": -1,
            "price": fmt(price),
            "qty": fmt(order.filled),
            "quoteQty": fmt(order.filled * price),
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "time": order.updated_ms,
            "isBuyer": order.side is Side.BUY,
            "isMaker": not meta.taker,
            "isBestMatch": True,
        }

    def _futures_trade(self, order: Order) -> Json:
        """A fill as GET /fapi/v1/userTrades shows it."""
        meta = self._meta_of(order)
        instrument = order.instrument
        price = order.average or ZERO
        return {
            "buyer": order.side is Side.BUY,
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "id": int(order.id),
            "maker": not meta.taker,
            "marginAsset": instrument.quote,
            "orderId": int(order.id),
            "price": fmt(price, instrument.decimals(instrument.price_tick)),
            "qty": fmt(order.filled, instrument.decimals(instrument.amount_step)),
            "quoteQty": fmt(order.filled * price),
            "realizedPnl": fmt(meta.realized_pnl),
            "side": order.side.upper(),
            "positionSide": "BOTH",
            "symbol": instrument.plain_id,
            "time": order.updated_ms,
        }
