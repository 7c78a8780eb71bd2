"""Bybit's order endpoints: create, cancel, open orders and history."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.bybit.core import BybitCore
from server.simulator.dialects.bybit.errors import (
    PERMISSION_DENIED,
    BybitError,
    not_supported_symbol,
    params_error,
)
from server.simulator.dialects.bybit.requests import OrderRequest
from server.simulator.dialects.bybit.wire import STATUS_NAMES, Json, OrderWire, Params
from server.simulator.dialects.common import fill_fee_rate, fill_value, plain
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    LedgerError,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderType,
    Side,
    TradingNotAllowed,
    UnknownInstrument,
)


class BybitOrders(BybitCore):
    # -- orders -------------------------------------------------------------------------------

    def create_order(self, account: Account, params: Params) -> Json:
        """POST /v5/order/create: Market and Limit orders, orderLinkId honoured."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        request = OrderRequest.read(params, instrument)
        bid, ask = self.ledger.bid_ask(instrument)
        amount = request.base_amount(bid, ask)
        self._check_size(instrument, amount, request.price or self.ledger.last_price(instrument))
        if request.post_only_takes(bid, ask):
            raise self._post_only_refusal(instrument)
        try:
            order = self.ledger.place(
                account,
                instrument,
                request.side,
                request.type,
                amount,
                price=request.price,
                client_order_id=request.order_link_id or None,
                reduce_only=request.reduce_only,
            )
            if order.status is OrderStatus.OPEN and request.time_in_force in ("IOC", "FOK"):
                self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, instrument.kind, reduce_only=request.reduce_only) from None
        self._wire[order.id] = OrderWire(
            qty=plain(request.qty),
            order_link_id=request.order_link_id,
            time_in_force=request.time_in_force,
            market_unit=request.market_unit,
            last_price_on_created=plain(self.ledger.last_price(instrument)),
            taker=order.filled > 0,
            margin=request.margin,
        )
        return {"orderId": order.id, "orderLinkId": request.order_link_id}

    @staticmethod
    def _check_size(instrument: Instrument, amount: Decimal, price: Decimal) -> None:
        """Bybit's quantity and order-value floors, with its spot and derivatives codes."""
        spot = instrument.kind is Kind.SPOT
        if amount < instrument.min_amount:
            if spot:
                raise BybitError(170136, "Order quantity lower than the minimum.")
            raise params_error("The number of contracts exceeds minimum limit allowed")
        if amount * price < instrument.min_notional:
            if spot:
                raise BybitError(170140, "Order value exceeded lower limit.")
            raise BybitError(
                110094, f"Order does not meet minimum order value {instrument.min_notional}USDT"
            )

    @staticmethod
    def _post_only_refusal(instrument: Instrument) -> BybitError:
        if instrument.kind is Kind.SPOT:
            return BybitError(170218, "The LIMIT-MAKER order is rejected due to invalid price.")
        return BybitError(110032, "Illegal order: a PostOnly order would take liquidity")

    @staticmethod
    def _refusal(error: LedgerError, kind: Kind, *, reduce_only: bool = False) -> BybitError:
        """A ledger refusal as Bybit's retCode for the market kind."""
        spot = kind is Kind.SPOT
        if isinstance(error, UnknownInstrument):
            return not_supported_symbol()
        if isinstance(error, InsufficientFunds):
            if spot:
                return BybitError(170131, "Insufficient balance.")
            return BybitError(110007, "ab not enough for new order")
        if isinstance(error, DuplicateClientOrderId):
            if spot:
                return BybitError(170141, "Duplicate clientOrderId.")
            return BybitError(110072, "OrderLinkedID is duplicate")
        if isinstance(error, OrderNotFound):
            if spot:
                return BybitError(170213, "Order does not exist.")
            return BybitError(110001, "order not exists or too late to cancel")
        if isinstance(error, TradingNotAllowed):
            return BybitError(10005, PERMISSION_DENIED)
        if spot:
            return BybitError(170210, "New order rejected.")
        if reduce_only:
            return BybitError(110017, "Reduce-only rule not satisfied")
        return BybitError(110032, "Illegal order")

    def cancel_order(self, account: Account, params: Params) -> Json:
        """POST /v5/order/cancel (by orderId or orderLinkId)."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        order_id, link_id = params.text("orderId"), params.text("orderLinkId")
        if order_id is None and link_id is None:
            raise params_error("Missing some parameters that must be filled in, orderId")
        try:
            order = self.ledger.find(account, order_id=order_id, client_order_id=link_id)
            if order.instrument != instrument:
                raise OrderNotFound(order.id)
            self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, instrument.kind) from None
        return {"orderId": order.id, "orderLinkId": self._link_id(order)}

    def realtime_orders(self, account: Account, params: Params) -> Json:
        """GET /v5/order/realtime: open orders; any recent order when asked by id or link id;
        recent closed orders with ``openOnly=1``."""
        kind = params.kind()
        by_id = "orderId" in params or "orderLinkId" in params
        if kind is Kind.LINEAR and not by_id and not self._has_scope(params):
            raise params_error(
                "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        self.ledger.match(account)
        open_only = params.integer("openOnly", 0) == 0
        orders = [
            o
            for o in self._orders(account, kind, params)
            if by_id or (o.status is OrderStatus.OPEN) == open_only
        ]
        return self._order_page(orders, params)

    def order_history(self, account: Account, params: Params) -> Json:
        """GET /v5/order/history: orders of every status, newest first, ``orderStatus`` and
        ``startTime``/``endTime`` filters."""
        kind = params.kind()
        self.ledger.match(account)
        statuses = params.text("orderStatus")
        start, end = params.integer("startTime"), params.integer("endTime")
        orders = [
            o
            for o in self._orders(account, kind, params)
            if (statuses is None or STATUS_NAMES[o.status] in statuses.split(","))
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return self._order_page(orders, params)

    def _orders(self, account: Account, kind: Kind | None, params: Params) -> list[Order]:
        """The account's orders of a category, filtered as Bybit's order queries filter."""
        symbol, base = params.text("symbol"), params.text("baseCoin")
        settle = params.text("settleCoin")
        order_id, link_id = params.text("orderId"), params.text("orderLinkId")
        selected = [
            o
            for o in account.orders.values()
            if o.instrument.kind is kind
            and (symbol is None or o.instrument.plain_id == symbol)
            and (base is None or o.instrument.base == base)
            and (settle is None or o.instrument.quote == settle)
            and (order_id is None or o.id == order_id)
            and (link_id is None or self._link_id(o) == link_id)
        ]
        return sorted(selected, key=lambda o: (o.created_ms, o.id), reverse=True)

    def _order_page(self, orders: list[Order], params: Params) -> Json:
        """One page of orders (at most 50), with an offset as Bybit's opaque cursor."""
        limit = params.limit(20, 50)
        offset = params.integer("cursor", 0) or 0
        page = orders[offset : offset + limit]
        more = offset + limit < len(orders)
        return {
            "category": params.text("category"),
            "list": [self._order_view(o) for o in page],
            "nextPageCursor": str(offset + limit) if more else "",
        }

    def execution_list(self, account: Account, params: Params) -> Json:
        """GET /v5/execution/list: one ``Trade`` execution per filled order (the ledger fills
        an order whole, at one price), newest first; ``startTime``/``endTime`` on the execution
        time, ``limit`` 1-100 (default 50) and an offset as the cursor."""
        kind = params.kind()
        self.ledger.match(account)
        exec_type = params.text("execType")
        start, end = params.integer("startTime"), params.integer("endTime")
        filled = [
            o
            for o in self._orders(account, kind, params)
            if o.filled > 0
            and exec_type in (None, "Trade")
            and (start is None or o.updated_ms >= start)
            and (end is None or o.updated_ms <= end)
        ]
        filled.sort(key=lambda o: (o.updated_ms, o.id), reverse=True)
        limit = params.limit(50, 100)
        offset = params.integer("cursor", 0) or 0
        more = offset + limit < len(filled)
        return {
            "category": params.text("category"),
            "list": [self._execution_view(o) for o in filled[offset : offset + limit]],
            "nextPageCursor": str(offset + limit) if more else "",
        }

    def _execution_view(self, order: Order) -> Json:
        """An order's fill as Bybit's execution list shows it."""
        wire = self._wire.get(order.id)
        market = order.type is OrderType.MARKET
        price = order.average or ZERO
        return {
            "symbol": order.instrument.plain_id,
            "orderId": order.id,
            "orderLinkId": self._link_id(order),
            "side": "Buy" if order.side is Side.BUY else "Sell",
            "orderPrice": "0" if market or order.price is None else plain(order.price),
            "orderQty": wire.qty if wire else plain(order.amount),
            "leavesQty": plain(order.remaining if order.status is OrderStatus.OPEN else ZERO),
            "createType": "CreateByUser",
            "orderType": "Market" if market else "Limit",
            "stopOrderType": "",
            "execFee": plain(order.fee),
            "feeCurrency": order.fee_asset if order.instrument.kind is Kind.SPOT else "",
            "execId": order.id,
            "execPrice": plain(price),
            "execQty": plain(order.filled),
            "execType": "Trade",
            "execValue": plain(fill_value(order)),
            "execTime": str(order.updated_ms),
            "isMaker": order.filled > 0 and wire is not None and not wire.taker,
            "feeRate": plain(fill_fee_rate(order)),
            "tradeIv": "",
            "markIv": "",
            "markPrice": plain(price),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "seq": order.updated_ms,
            "extraFees": "",
            "marketUnit": self._qty_unit(order),
        }

    def _link_id(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        return wire.order_link_id if wire else order.client_order_id

    def _order_view(self, order: Order) -> Json:
        """One order as Bybit's order queries list it."""
        wire = self._wire.get(order.id)
        linear = order.instrument.kind is Kind.LINEAR
        market = order.type is OrderType.MARKET
        remaining = order.remaining if order.status is OrderStatus.OPEN else ZERO
        executed_value = order.filled * (order.average or ZERO)
        view: Json = {
            "symbol": order.instrument.plain_id,
            "orderId": order.id,
            "orderLinkId": self._link_id(order),
            "blockTradeId": "",
            "side": "Buy" if order.side is Side.BUY else "Sell",
            "orderType": "Market" if market else "Limit",
            "price": "0" if market or order.price is None else plain(order.price),
            "qty": wire.qty if wire else plain(order.amount),
            "orderStatus": STATUS_NAMES[order.status],
            "cancelType": "CancelByUser" if order.status is OrderStatus.CANCELED else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": plain(order.average) if order.average is not None else "",
            "leavesQty": plain(remaining),
            "leavesValue": plain(remaining * (order.price or ZERO)),
            "cumExecQty": plain(order.filled),
            "cumExecValue": plain(executed_value),
            "cumExecFee": plain(order.fee),
            "cumFeeDetail": {order.fee_asset: plain(order.fee)} if order.fee else {},
            "timeInForce": wire.time_in_force if wire else ("IOC" if market else "GTC"),
            "positionIdx": 0,
            "isLeverage": "" if linear else ("1" if wire and wire.margin else "0"),
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "stopOrderType": "",
            "triggerPrice": "0" if linear else "0.00",
            "triggerDirection": 0,
            "triggerBy": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "orderIv": "",
            "lastPriceOnCreated": wire.last_price_on_created if wire else "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "placeType": "",
            "createType": "CreateByUser",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }
        view["marketUnit"] = self._qty_unit(order)
        if linear:
            view["tpslMode"] = ""
            view.update(slippageToleranceType="UNKNOWN", slippageTolerance="0", extraFees="")
        return view

    def _qty_unit(self, order: Order) -> str:
        """How a spot market order's qty was meant (baseCoin, quoteCoin); "" for the others."""
        wire = self._wire.get(order.id)
        return wire.market_unit if wire else ""
