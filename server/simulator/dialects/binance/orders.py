"""Binance's order endpoints, spot (``/api/v3``), cross margin (``/sapi/v1/margin``) and
futures (``/fapi/v1``): new, test, query, list, trades and cancel."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from server.simulator.dialects.binance.errors import (
    BinanceError,
    illegal,
    missing,
    order_missing,
    unknown_order,
)
from server.simulator.dialects.binance.filters import max_qty, on_step
from server.simulator.dialects.binance.margin import BinanceMarginShapes, check_margin_order
from server.simulator.dialects.binance.wire import (
    CLIENT_ID_PATTERN,
    FUTURES_ORDER_TYPES,
    FUTURES_TIME_IN_FORCE,
    MAX_PRICE,
    SPOT_ORDER_TYPES,
    SPOT_TIME_IN_FORCE,
    Call,
    Family,
    Json,
    OrderMeta,
    OrderRequest,
    random_id,
)
from server.simulator.instruments import Instrument
from server.simulator.ledger import ZERO, Account, Order, OrderStatus, OrderType, Side


class BinanceOrders(BinanceMarginShapes):
    # -- orders -------------------------------------------------------------------------------

    def new_order(self, call: Call) -> Json:
        """POST /api/v3/order, /sapi/v1/margin/order, /fapi/v1/order: MARKET, LIMIT (and spot
        LIMIT_MAKER) orders."""
        request = self._order_request(call)
        expire = self._check_execution(call.family, request)
        account = call.user
        realized_before = self._realized(account, request.instrument)
        order = self.ledger.place(
            account,
            request.instrument,
            request.side,
            OrderType.MARKET if request.type == "MARKET" else OrderType.LIMIT,
            request.quantity,
            price=request.price,
            client_order_id=request.client_order_id,
            reduce_only=request.reduce_only,
        )
        meta = OrderMeta(
            type=request.type,
            time_in_force=request.time_in_force,
            quote_qty=request.quote_qty,
            taker=order.status is OrderStatus.FILLED,
            realized_pnl=self._realized(account, request.instrument) - realized_before,
            margin=call.family is Family.MARGIN,
        )
        self._meta[order.id] = meta
        if expire and order.status is OrderStatus.OPEN:
            self.ledger.cancel(account, order_id=order.id)
            meta.expired = True
        if call.family is Family.FUTURES:
            return self._futures_order(order)
        if call.family is Family.MARGIN:
            return self._margin_order_response(order, request.response_type)
        return self._spot_order_response(order, request.response_type)

    def test_order(self, call: Call) -> Json:
        """POST /api/v3/order/test: checks an order without placing it."""
        request = self._order_request(call)
        self._check_execution(call.family, request)
        return {}

    def query_order(self, call: Call) -> Json:
        """GET /api/v3/order, /sapi/v1/margin/order, /fapi/v1/order: by ``orderId`` or
        ``origClientOrderId``."""
        order = self._find_order(call)
        if order is None:
            raise order_missing()
        return self._render(call.family, order)

    def open_orders(self, call: Call) -> list[Json]:
        """GET /api/v3/openOrders, /sapi/v1/margin/openOrders, /fapi/v1/openOrders (``symbol``
        optional)."""
        instrument = self._instrument(call) if call.text("symbol") else None
        orders = self._open_orders(call, instrument)
        return [self._render(call.family, o) for o in orders]

    def all_orders(self, call: Call) -> list[Json]:
        """GET /api/v3/allOrders, /sapi/v1/margin/allOrders, /fapi/v1/allOrders: ``orderId``,
        ``startTime``, ``endTime``, ``limit`` (default 500, at most 1000; 500 on margin)."""
        orders = self._history(
            call, lambda o: o.created_ms, 500 if call.family is Family.MARGIN else 1000
        )
        return [self._render(call.family, o) for o in orders]

    def my_trades(self, call: Call) -> list[Json]:
        """GET /api/v3/myTrades, /sapi/v1/margin/myTrades, /fapi/v1/userTrades: one trade per
        filled order (the ledger fills every order at once, at one price)."""
        orders = self._history(call, lambda o: o.updated_ms, 1000)
        trades = [o for o in orders if o.filled > 0]
        if call.family is Family.FUTURES:
            return [self._futures_trade(o) for o in trades]
        if call.family is Family.MARGIN:
            return [self._margin_trade(o) for o in trades]
        return [self._spot_trade(o) for o in trades]

    def cancel_order(self, call: Call) -> Json:
        """DELETE /api/v3/order, /sapi/v1/margin/order, /fapi/v1/order."""
        order = self._find_order(call)
        if order is None or order.status is not OrderStatus.OPEN:
            raise unknown_order()
        self.ledger.cancel(call.user, order_id=order.id)
        if call.family is Family.FUTURES:
            return self._futures_order(order)
        return self._cancelled(call, order, call.text("newClientOrderId"))

    def cancel_open_orders(self, call: Call) -> list[Json]:
        """DELETE /api/v3/openOrders, /sapi/v1/margin/openOrders: cancels every open order of a
        symbol."""
        instrument = self._instrument(call)
        orders = self._open_orders(call, instrument)
        if not orders:
            raise unknown_order()
        for order in orders:
            self.ledger.cancel(call.user, order_id=order.id)
        return [self._cancelled(call, o, None) for o in orders]

    def cancel_all_futures(self, call: Call) -> Json:
        """DELETE /fapi/v1/allOpenOrders: cancels every open order of a symbol."""
        instrument = self._instrument(call)
        for order in self.ledger.open_orders(call.user, instrument):
            self.ledger.cancel(call.user, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # -- which account's orders, in which shape -----------------------------------------------

    def _in_account(self, call: Call, order: Order) -> bool:
        """Whether ``order`` belongs to the account the request's API addresses: the futures
        API's markets are its own; spot and cross margin share the markets, not the orders."""
        if order.instrument.kind is not call.kind:
            return False
        return self._meta_of(order).margin is (call.family is Family.MARGIN)

    def _open_orders(self, call: Call, instrument: Instrument | None) -> list[Order]:
        return [
            o for o in self.ledger.open_orders(call.user, instrument) if self._in_account(call, o)
        ]

    def _render(self, family: Family, order: Order) -> Json:
        """An order as the query and list endpoints of ``family`` show it."""
        if family is Family.FUTURES:
            return self._futures_order(order) | {"time": order.created_ms}
        if family is Family.MARGIN:
            return self._margin_order(order)
        return self._spot_order(order)

    def _cancelled(self, call: Call, order: Order, cancel_id: str | None) -> Json:
        if call.family is Family.MARGIN:
            return self._margin_cancel_response(order, cancel_id)
        return self._spot_cancel_response(order, cancel_id)

    # -- order helpers ------------------------------------------------------------------------

    def _order_request(self, call: Call) -> OrderRequest:
        """Parses a new order the way Binance validates it, filters included."""
        futures = call.family is Family.FUTURES
        if call.family is Family.MARGIN:
            check_margin_order(call)
        instrument = self._instrument(call)
        side = call.required("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        order_type = call.required("type")
        if order_type not in (FUTURES_ORDER_TYPES if futures else SPOT_ORDER_TYPES):
            raise BinanceError(-1116, "Invalid orderType.")
        time_in_force = self._time_in_force(call, order_type)
        price = call.decimal("price")
        if order_type == "MARKET" and price is not None and not futures:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
        if order_type != "MARKET" and price is None:
            raise missing("price")
        quantity, quote_qty = self._quantity(call, instrument, side, order_type)
        request = OrderRequest(
            instrument=instrument,
            side=Side.BUY if side == "BUY" else Side.SELL,
            type=order_type,
            time_in_force=time_in_force,
            quantity=quantity,
            price=price if order_type != "MARKET" else None,
            client_order_id=self._client_order_id(call),
            reduce_only=futures and call.flag("reduceOnly"),
            quote_qty=quote_qty,
            response_type=(call.text("newOrderRespType") or "FULL").upper(),
        )
        if futures:
            self._futures_filters(request)
        else:
            self._spot_filters(request)
        return request

    @staticmethod
    def _time_in_force(call: Call, order_type: str) -> str:
        if order_type != "LIMIT":
            return "GTC"
        value = call.required("timeInForce")
        allowed = FUTURES_TIME_IN_FORCE if call.family is Family.FUTURES else SPOT_TIME_IN_FORCE
        if value not in allowed:
            raise BinanceError(-1115, "Invalid timeInForce.")
        return value

    def _quantity(
        self, call: Call, instrument: Instrument, side: str, order_type: str
    ) -> tuple[Decimal, Decimal]:
        """The base quantity, and the quote amount of a spot market order given by it."""
        quantity = call.decimal("quantity")
        spot_api = call.family is not Family.FUTURES  # spot and margin
        quote_qty = call.decimal("quoteOrderQty") if spot_api else None
        if order_type == "MARKET" and quote_qty is not None:
            if quantity is not None:
                raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            bid, ask = self.ledger.bid_ask(instrument)
            fill_price = ask if side == "BUY" else bid
            return instrument.floor_amount(quote_qty / fill_price), quote_qty
        if quantity is None:
            if order_type == "MARKET" and spot_api:
                raise BinanceError(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                )
            raise missing("quantity")
        return quantity, ZERO

    @staticmethod
    def _client_order_id(call: Call) -> str:
        value = call.text("newClientOrderId")
        if value is None:
            return random_id()
        if not re.fullmatch(CLIENT_ID_PATTERN, value):
            if call.family is Family.FUTURES:
                raise BinanceError(-4015, "Client order id is not valid.")
            raise illegal("newClientOrderId", CLIENT_ID_PATTERN)
        return value

    def _reference_price(self, request: OrderRequest) -> Decimal:
        return (
            request.price
            if request.price is not None
            else self.ledger.last_price(request.instrument)
        )

    def _spot_filters(self, request: OrderRequest) -> None:
        """PRICE_FILTER, LOT_SIZE / MARKET_LOT_SIZE and NOTIONAL, as spot applies them."""
        instrument = request.instrument
        if request.price is not None and not on_step(
            request.price, instrument.price_tick, instrument.price_tick, MAX_PRICE
        ):
            raise BinanceError(-1013, "Filter failure: PRICE_FILTER")
        if not on_step(
            request.quantity, instrument.min_amount, instrument.amount_step, max_qty(instrument)
        ):
            lot = "MARKET_LOT_SIZE" if request.type == "MARKET" else "LOT_SIZE"
            raise BinanceError(-1013, f"Filter failure: {lot}")
        if request.quantity * self._reference_price(request) < instrument.min_notional:
            raise BinanceError(-1013, "Filter failure: NOTIONAL")

    def _futures_filters(self, request: OrderRequest) -> None:
        """The futures checks of price, quantity and notional, with their own codes."""
        instrument = request.instrument
        if request.price is not None:
            if request.price < instrument.price_tick:
                raise BinanceError(-4013, "Price less than min price.")
            if request.price > MAX_PRICE:
                raise BinanceError(-4002, "Price greater than max price.")
            if request.price % instrument.price_tick:
                raise BinanceError(-4014, "Price not increased by tick size.")
        if request.quantity <= 0:
            raise BinanceError(-4003, "Quantity less than or equal to zero.")
        if request.quantity < instrument.min_amount:
            raise BinanceError(-4004, "Quantity less than min quantity.")
        if request.quantity > max_qty(instrument):
            raise BinanceError(-4005, "Quantity greater than max quantity.")
        if request.quantity % instrument.amount_step:
            raise BinanceError(-4023, "Quantity not increased by step size.")
        notional = request.quantity * self._reference_price(request)
        if not request.reduce_only and notional < instrument.min_notional:
            raise BinanceError(
                -4164,
                f"Order's notional must be no smaller than {instrument.min_notional} "
                "(unless you choose reduce only).",
            )

    def _check_execution(self, family: Family, request: OrderRequest) -> bool:
        """Post-only and fill-or-kill checks; True when the order expires instead of resting."""
        if request.type == "MARKET":
            return False
        bid, ask = self.ledger.bid_ask(request.instrument)
        assert request.price is not None
        crosses = request.price >= ask if request.side is Side.BUY else request.price <= bid
        if request.type == "LIMIT_MAKER" and crosses:
            raise BinanceError(-2010, "Order would immediately match and take.")
        if family is Family.FUTURES and request.time_in_force == "GTX" and crosses:
            raise BinanceError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be "
                "rejected. The order will not be recorded in the order history",
            )
        if family is Family.FUTURES and request.time_in_force == "FOK" and not crosses:
            raise BinanceError(
                -5021,
                "Due to the order could not be filled immediately, the FOK order has been "
                "rejected. The order will not be recorded in the order history",
            )
        return request.time_in_force in ("IOC", "FOK") and not crosses

    @staticmethod
    def _realized(account: Account, instrument: Instrument) -> Decimal:
        position = account.positions.get(instrument.symbol)
        return position.realized_pnl if position is not None else ZERO

    def _find_order(self, call: Call) -> Order | None:
        """The order named by ``orderId`` (preferred) or ``origClientOrderId`` in ``symbol``."""
        instrument = self._instrument(call)
        order_id = call.integer("orderId")
        client_id = call.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        for order in call.user.orders.values():
            if order.instrument != instrument or not self._in_account(call, order):
                continue
            if order_id is not None and order.id == str(order_id):
                return order
            if order_id is None and order.client_order_id == client_id:
                return order
        return None

    def _history(self, call: Call, time_of: Callable[[Order], int], max_limit: int) -> list[Order]:
        """The orders of ``symbol`` selected by ``orderId`` / ``fromId``, ``startTime``,
        ``endTime`` and ``limit`` (default 500, at most ``max_limit``), oldest first."""
        instrument = self._instrument(call)
        first_id = call.integer("orderId") or call.integer("fromId")
        start, end = call.integer("startTime"), call.integer("endTime")
        limit = min(call.integer("limit") or 500, max_limit)
        orders = sorted(
            (
                o
                for o in call.user.orders.values()
                if o.instrument == instrument and self._in_account(call, o)
            ),
            key=lambda o: int(o.id),
        )
        selected = [
            o
            for o in orders
            if (first_id is None or int(o.id) >= first_id)
            and (start is None or time_of(o) >= start)
            and (end is None or time_of(o) <= end)
        ]
        return selected[:limit] if first_id is not None else selected[-limit:]
