"""OKX's order queries: one order, pending orders and history."""

from __future__ import annotations

from typing import Any

from server.simulator.dialects.common import fill_fee_rate, plain
from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.errors import OkxError, param_error
from server.simulator.dialects.okx.wire import INST_TYPE_OF, STATE_NAMES, Json, Params
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderType,
    Side,
)


class OkxOrderQueries(OkxCore):
    def _find(
        self, account: Account, instrument: Instrument, order_id: str | None, client_id: str | None
    ) -> Order:
        try:
            if order_id is not None:
                order = self.ledger.find(account, order_id=order_id)
            else:
                order = self.ledger.find(account, client_order_id=client_id)
        except OrderNotFound:
            raise OkxError("51603", "Order does not exist") from None
        if order.instrument != instrument:
            raise OkxError("51603", "Order does not exist")
        return order

    def get_order(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/order (by ordId or clOrdId; any state)."""
        instrument = self._instrument(params.required("instId"))
        order_id, client_id = params.text("ordId"), params.text("clOrdId")
        if order_id is None and client_id is None:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        self.ledger.match(account)
        return [self._order_view(account, self._find(account, instrument, order_id, client_id))]

    def orders_pending(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/orders-pending: open orders, newest first."""
        kind = params.inst_type(required=False)
        state = params.text("state")
        if state is not None and state not in ("live", "partially_filled"):
            raise param_error("state")
        self.ledger.match(account)
        orders = [o for o in self._orders(account, kind, params) if o.status is OrderStatus.OPEN]
        if state == "partially_filled":
            orders = []  # the ledger fills orders whole
        return [self._order_view(account, o) for o in self._page(orders, params)]

    def orders_history(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/orders-history (and -archive): completed orders, newest first,
        with ``state``, ``begin`` and ``end`` filters."""
        kind = params.inst_type(required=True)
        self.ledger.match(account)
        state = params.text("state")
        if state is not None and state not in ("filled", "canceled"):
            raise param_error("state")
        begin, end = params.integer("begin"), params.integer("end")
        orders = [
            o
            for o in self._orders(account, kind, params)
            if o.status is not OrderStatus.OPEN
            and (state is None or STATE_NAMES[o.status] == state)
            and (begin is None or o.created_ms >= begin)
            and (end is None or o.created_ms <= end)
        ]
        return [self._order_view(account, o) for o in self._page(orders, params)]

    def fills(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/fills (``instType`` optional)."""
        return self._fills(account, params.inst_type(required=False), params)

    def fills_history(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/fills-history (``instType`` required)."""
        return self._fills(account, params.inst_type(required=True), params)

    def _fills(self, account: Account, kind: Kind | str | None, params: Params) -> list[Any]:
        """One fill per filled order (the ledger fills an order whole, at one price), newest
        first, with ``ordId``, ``begin``/``end`` (fill time) and ``after``/``before`` (bill id,
        here the order id) filters."""
        self.ledger.match(account)
        order_id = params.text("ordId")
        begin, end = params.integer("begin"), params.integer("end")
        filled = [
            o
            for o in self._orders(account, kind, params)
            if o.filled > 0
            and (order_id is None or o.id == order_id)
            and (begin is None or o.updated_ms >= begin)
            and (end is None or o.updated_ms <= end)
        ]
        return [self._fill_view(o) for o in self._page(filled, params)]

    def _fill_view(self, order: Order) -> Json:
        """An order's fill as OKX's fills list it: sizes as ``sz`` counts them, fees negative."""
        instrument = order.instrument
        spot = instrument.kind is Kind.SPOT
        wire = self._wire.get(order.id)
        filled_at = str(order.updated_ms)
        return {
            "instType": INST_TYPE_OF[instrument.kind],
            "instId": self.inst_id(instrument),
            "tradeId": order.id,
            "ordId": order.id,
            "clOrdId": self._client_id(order),
            "billId": order.id,
            "subType": "1" if order.side is Side.BUY else "2",
            "tag": wire.tag if wire else "",
            "fillPx": plain(order.average or ZERO),
            "fillSz": plain(self.size(instrument, order.filled)),
            "fillIdxPx": "",
            "fillPnl": "0",
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": "" if spot else plain(order.average or ZERO),
            "side": order.side.value,
            "posSide": "" if spot else "net",
            "execType": "M" if wire is not None and not wire.taker else "T",
            "feeCcy": order.fee_asset,
            "fee": plain(-order.fee),
            "feeRate": plain(-fill_fee_rate(order)),
            "ts": filled_at,
            "fillTime": filled_at,
            "tradeQuoteCcy": instrument.quote if spot else "",
        }

    def _orders(self, account: Account, kind: Kind | str | None, params: Params) -> list[Order]:
        inst_id = params.text("instId")
        family = params.text("instFamily") or params.text("uly")
        ord_type = params.text("ordType")
        if inst_id is not None:
            self._instrument(inst_id)
        selected = [
            o
            for o in account.orders.values()
            if (kind == "" or o.instrument.kind is kind)
            and (inst_id is None or self.inst_id(o.instrument) == inst_id)
            and (family is None or f"{o.instrument.base}-{o.instrument.quote}" == family)
            and (ord_type is None or self._ord_type(o) in ord_type.split(","))
        ]
        return sorted(selected, key=lambda o: int(o.id), reverse=True)

    @staticmethod
    def _page(orders: list[Order], params: Params) -> list[Order]:
        """``after``/``before`` page by order id (older/newer than), then ``limit`` (≤ 100)."""
        after, before = params.integer("after"), params.integer("before")
        limit = params.limit(100, 100)
        picked = [
            o
            for o in orders
            if (after is None or int(o.id) < after) and (before is None or int(o.id) > before)
        ]
        return picked[-limit:] if before is not None and after is None else picked[:limit]

    def _client_id(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        return wire.cl_ord_id if wire else order.client_order_id

    def _ord_type(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        if wire:
            return wire.ord_type
        return "market" if order.type is OrderType.MARKET else "limit"

    def _order_view(self, account: Account, order: Order) -> Json:
        """One order as OKX's order queries list it."""
        instrument = order.instrument
        wire = self._wire.get(order.id)
        spot = instrument.kind is Kind.SPOT
        filled = order.status is OrderStatus.FILLED
        average = order.average if order.average is not None else None
        size = wire.sz if wire else plain(self.size(instrument, order.amount))
        return {
            "accFillSz": plain(self.size(instrument, order.filled)),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": plain(average) if average is not None else "",
            "cTime": str(order.created_ms),
            "cancelSource": "1" if order.status is OrderStatus.CANCELED else "",
            "cancelSourceReason": (
                "Order canceled by user" if order.status is OrderStatus.CANCELED else ""
            ),
            "category": "normal",
            "ccy": wire.ccy if wire else "",
            "clOrdId": self._client_id(order),
            "fee": plain(-order.fee),
            "feeCcy": order.fee_asset,
            "fillPx": plain(average) if average is not None else "",
            "fillSz": plain(self.size(instrument, order.filled)),
            "fillTime": str(order.updated_ms) if filled else "",
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "isTpLimit": "false",
            "lever": "" if spot else str(account.leverage),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": order.id,
            "ordType": self._ord_type(order),
            "pnl": "0",
            "posSide": "" if spot else "net",
            "px": plain(order.price) if order.price is not None else "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": instrument.quote,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATE_NAMES[order.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": size,
            "tag": wire.tag if wire else "",
            "tdMode": wire.td_mode if wire else ("cash" if spot else account.margin_mode),
            "tgtCcy": wire.tgt_ccy if wire else "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": order.id if filled else "",
            "tradeQuoteCcy": instrument.quote if spot else "",
            "uTime": str(order.updated_ms),
        }
