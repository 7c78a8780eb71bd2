"""OKX's trade endpoints: place (one or a batch) and cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from server.simulator.dialects.okx.errors import ALL_FAILED, NO_PERMISSION, OkxError, OrderRefusal
from server.simulator.dialects.okx.queries import OkxOrderQueries
from server.simulator.dialects.okx.requests import OrderRequest
from server.simulator.dialects.okx.wire import TAG, Json, Params
from server.simulator.instruments import Kind
from server.simulator.ledger import (
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    LedgerError,
    Order,
    OrderNotFound,
    OrderStatus,
    Side,
    TradingNotAllowed,
    UnknownInstrument,
)


class OkxOrders(OkxOrderQueries):
    # -- orders -------------------------------------------------------------------------------

    def place_order(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/order: one order, its outcome in ``sCode``/``sMsg``."""
        if not isinstance(params, Params):
            raise OkxError("50002", "Json data format error", 400)
        return self._trade_answer([self._place(account, params)])

    def place_orders(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/batch-orders: up to 20 orders, each with its own outcome."""
        batch = [params] if isinstance(params, Params) else params
        if not batch:
            raise OkxError("50000", "Body can not be empty", 400)
        if len(batch) > 20:
            raise OkxError("51111", "Maximum 20 orders can be placed in bulk")
        return self._trade_answer([self._place(account, p) for p in batch])

    def _trade_answer(self, results: Sequence[Json]) -> web.Response:
        """Code 0 when every item succeeded, 1 when all failed, 2 when some did."""
        failed = sum(1 for r in results if r["sCode"] != "0")
        if failed == 0:
            code, message = "0", ""
        elif failed == len(results):
            code, message = "1", ALL_FAILED
        else:
            code, message = "2", "Batch operation partially succeeded"
        now = self.now_ms() * 1000
        body = {
            "code": code,
            "msg": message,
            "data": list(results),
            "inTime": str(now),
            "outTime": str(now + 150),
        }
        return web.json_response(body)

    def _place(self, account: Account, params: Params) -> Json:
        client_id = params.text("clOrdId") or ""
        tag = params.text("tag") or ""
        ts = str(self.now_ms())
        outcome: Json = {"clOrdId": client_id, "ordId": "", "tag": tag, "ts": ts}
        try:
            if not TAG.match(tag):
                raise OrderRefusal("51000", "Parameter tag error")
            instrument = self._markets.get(params.text("instId") or "")
            if instrument is None:
                raise OrderRefusal("51001", "Instrument ID or Spread ID doesn't exist.")
            request = OrderRequest.read(params, instrument, self, account.margin_mode)
            order = self._submit(account, request)
        except OrderRefusal as refusal:
            return outcome | {"sCode": refusal.code, "sMsg": refusal.message}
        self._wire[order.id] = replace(request.wire, taker=order.filled > 0)
        return outcome | {"ordId": order.id, "sCode": "0", "sMsg": "Order placed"}

    def _submit(self, account: Account, request: OrderRequest) -> Order:
        instrument = request.instrument
        bid, ask = self.ledger.bid_ask(instrument)
        amount = request.base_amount(bid, ask)
        reference = request.price or self.ledger.last_price(instrument)
        if amount < instrument.min_amount:
            if instrument.kind is Kind.SPOT:
                raise OrderRefusal(
                    "51020", "Your order should meet or exceed the minimum order amount."
                )
            raise OrderRefusal(
                "51007",
                "Order failed. Please place orders of at least 1 contract or more.",
            )
        if amount * reference < instrument.min_notional:
            raise OrderRefusal(
                "51020", "Your order should meet or exceed the minimum order amount."
            )
        if request.post_only_takes(bid, ask):
            raise OrderRefusal("51000", "Parameter px error: a post_only order would take")
        try:
            order = self.ledger.place(
                account,
                instrument,
                request.side,
                request.type,
                amount,
                price=request.price,
                client_order_id=request.wire.cl_ord_id or None,
                reduce_only=request.reduce_only,
            )
            if order.status is OrderStatus.OPEN and request.wire.ord_type in ("ioc", "fok"):
                self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, request) from None
        return order

    @staticmethod
    def _refusal(error: LedgerError, request: OrderRequest) -> OrderRefusal:
        """A ledger refusal as OKX's sCode."""
        instrument = request.instrument
        if isinstance(error, UnknownInstrument):
            return OrderRefusal("51001", "Instrument ID or Spread ID doesn't exist.")
        if isinstance(error, InsufficientFunds):
            spends_base = instrument.kind is Kind.SPOT and request.side is Side.SELL
            asset = instrument.base if spends_base else instrument.quote
            return OrderRefusal(
                "51008", f"Order failed. Insufficient {asset} balance in trading account."
            )
        if isinstance(error, DuplicateClientOrderId):
            return OrderRefusal("51016", "Duplicated clOrdId")
        if isinstance(error, OrderNotFound):
            return OrderRefusal("51603", "Order does not exist")
        if isinstance(error, TradingNotAllowed):
            return OrderRefusal("50120", NO_PERMISSION)
        if request.reduce_only:
            return OrderRefusal("51205", "Reduce Only is not available.")
        return OrderRefusal("51000", f"Parameter sz error: {error}")

    def cancel_order(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/cancel-order (by ordId or clOrdId)."""
        if not isinstance(params, Params):
            raise OkxError("50002", "Json data format error", 400)
        instrument = self._instrument(params.required("instId"))
        order_id, client_id = params.text("ordId"), params.text("clOrdId")
        if order_id is None and client_id is None:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        outcome: Json = {
            "clOrdId": client_id or "",
            "ordId": order_id or "",
            "ts": str(self.now_ms()),
        }
        self.ledger.match(account)
        try:
            order = self._find(account, instrument, order_id, client_id)
        except OkxError:
            return self._trade_answer(
                [
                    outcome
                    | {
                        "sCode": "51400",
                        "sMsg": "Order cancellation failed as the order has been filled, "
                        "canceled or does not exist.",
                    }
                ]
            )
        outcome |= {"clOrdId": self._client_id(order), "ordId": order.id}
        if order.status is OrderStatus.CANCELED:
            refusal = ("51401", "Cancellation failed as the order has been canceled.")
        elif order.status is OrderStatus.FILLED:
            refusal = ("51402", "Cancellation failed as the order has been filled.")
        else:
            self.ledger.cancel(account, order_id=order.id)
            return self._trade_answer([outcome | {"sCode": "0", "sMsg": ""}])
        return self._trade_answer([outcome | {"sCode": refusal[0], "sMsg": refusal[1]}])
