"""Pionex's private endpoints: balances, orders and fills, over the shared ledger.

Pionex knows two order states, OPEN and CLOSED (filled or cancelled). Market buys are sized in
the quote asset (``amount``), everything else in the base asset (``size``). The ledger fills an
order at once and in full, so each filled order has one fill, whose id is the order's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from server.simulator.dialects.pionex.wire import (
    PERMISSION_DENIED,
    TRADE_INVALID_SYMBOL,
    TRADE_OPERATION_DENIED,
    TRADE_ORDER_NOT_FOUND,
    TRADE_PARAMETER_ERROR,
    Json,
    Params,
    PionexError,
    fmt,
    symbol_of,
)
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderType,
    Side,
    TradingNotAllowed,
)

if TYPE_CHECKING:
    from server.simulator.dialects.pionex.dialect import PionexDialect

CLIENT_ORDER_ID = re.compile(r"^[a-zA-Z0-9-]{1,64}$")
BALANCE_PLACES = Decimal("0.00000001")  # balances carry 8 decimals
FILLS_LIMIT = 100


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What Pionex echoes about an order that the exchange-neutral ledger does not keep."""

    quote_amount: Decimal | None  # a market buy's amount in the quote asset
    ioc: bool


def eight_places(value: Decimal) -> str:
    """``0.90000000``: a balance as Pionex writes it."""
    return format(value.quantize(BALANCE_PLACES, ROUND_DOWN), "f")


def order_fields(order: Order) -> Json:
    """What Pionex tells of every order, spot or perpetual."""
    fields: Json = {
        "orderId": int(order.id),
        "symbol": symbol_of(order.instrument),
        "side": order.side.upper(),
        "filledSize": fmt(order.filled),
        "filledAmount": fmt(order.filled * (order.average or ZERO)),
        "status": "OPEN" if order.status is OrderStatus.OPEN else "CLOSED",
        "clientOrderId": order.client_order_id,
        "source": "API",
        "createTime": order.created_ms,
        "updateTime": order.updated_ms,
    }
    if order.price is not None:
        fields["price"] = fmt(order.price)
    return fields


def not_found() -> PionexError:
    return PionexError(TRADE_ORDER_NOT_FOUND, "order not found")


class Trading:
    def __init__(self, dialect: PionexDialect) -> None:
        self.dialect = dialect
        self._wire: dict[str, OrderWire] = {}

    def _instrument(self, params: Params) -> Instrument:
        symbol = params.required("symbol")
        return self.dialect.market.instrument(symbol, TRADE_INVALID_SYMBOL, Kind.SPOT)

    # -- account ------------------------------------------------------------------------------

    def balances(self, account: Account, _params: Params) -> Json:
        """GET /api/v1/account/balances, sorted by coin."""
        self.dialect.ledger.match(account)
        return {
            "balances": [
                {
                    "coin": coin,
                    "free": eight_places(balance.free),
                    "frozen": eight_places(balance.locked),
                }
                for coin, balance in sorted(account.balances.items())
            ]
        }

    # -- orders -------------------------------------------------------------------------------

    def new_order(self, account: Account, params: Params) -> Json:
        """POST /api/v1/trade/order"""
        instrument = self._instrument(params)
        side_text, type_text = params.required("side"), params.required("type")
        if side_text not in ("BUY", "SELL"):
            raise params.bad("side")
        if type_text not in ("LIMIT", "MARKET"):
            raise params.bad("type")
        side = Side.BUY if side_text == "BUY" else Side.SELL
        client_order_id = params.text("clientOrderId")
        if client_order_id is not None and not CLIENT_ORDER_ID.match(client_order_id):
            raise params.bad("clientOrderId")
        ioc = params.flag("IOC")
        quote_amount = None
        price = None
        if type_text == "LIMIT":
            size, price = params.decimal("size"), params.decimal("price")
            if size is None or price is None:
                raise PionexError(TRADE_PARAMETER_ERROR, "a limit order needs size and price")
        elif side is Side.BUY:
            quote_amount = params.decimal("amount")
            if quote_amount is None:
                raise PionexError(TRADE_PARAMETER_ERROR, "a market buy needs amount")
            _, ask = self.dialect.ledger.bid_ask(instrument)
            size = instrument.floor_amount(quote_amount / ask)
        else:
            size = params.decimal("size")
            if size is None:
                raise PionexError(TRADE_PARAMETER_ERROR, "a market sell needs size")
        order_type = OrderType.LIMIT if type_text == "LIMIT" else OrderType.MARKET
        order = self.place(
            account,
            instrument,
            side,
            order_type,
            size,
            price=price,
            client_order_id=client_order_id,
            ioc=ioc,
        )
        self._wire[order.id] = OrderWire(quote_amount, ioc)
        return {"orderId": int(order.id), "clientOrderId": order.client_order_id}

    def place(
        self,
        account: Account,
        instrument: Instrument,
        side: Side,
        order_type: OrderType,
        size: Decimal,
        *,
        price: Decimal | None,
        client_order_id: str | None,
        ioc: bool = False,
        reduce_only: bool = False,
    ) -> Order:
        """An order in the ledger (an IOC one cancelled if it rests), or Pionex's refusal."""
        ledger = self.dialect.ledger
        try:
            order = ledger.place(
                account,
                instrument,
                side,
                order_type,
                size,
                price=price,
                client_order_id=client_order_id,
                reduce_only=reduce_only,
            )
            if ioc and order.status is OrderStatus.OPEN:
                ledger.cancel(account, order_id=order.id)
        except InsufficientFunds:
            raise PionexError(TRADE_OPERATION_DENIED, "Insufficient balance") from None
        except DuplicateClientOrderId:
            raise PionexError(TRADE_OPERATION_DENIED, "duplicate clientOrderId") from None
        except TradingNotAllowed:
            raise PionexError(
                PERMISSION_DENIED, "trading is not enabled for this key", 403
            ) from None
        except InvalidOrder as exc:
            raise PionexError(TRADE_PARAMETER_ERROR, str(exc)) from None
        return order

    def cancel_order(self, account: Account, params: Params) -> None:
        """DELETE /api/v1/trade/order"""
        instrument = self._instrument(params)
        order_id = params.integer("orderId")
        if order_id is None:
            raise params.bad("orderId")
        order = self.order_of(account, order_id, None)
        if order.instrument != instrument or order.status is not OrderStatus.OPEN:
            raise not_found()
        try:
            self.dialect.ledger.cancel(account, order_id=order.id)
        except OrderNotFound:
            raise not_found() from None

    def get_order(self, account: Account, params: Params) -> Json:
        """GET /api/v1/trade/order"""
        order_id = params.integer("orderId")
        if order_id is None:
            raise params.bad("orderId")
        return self._describe(self.order_of(account, order_id, None))

    def get_order_by_client_id(self, account: Account, params: Params) -> Json:
        """GET /api/v1/trade/orderByClientOrderId"""
        return self._describe(self.order_of(account, None, params.required("clientOrderId")))

    def open_orders(self, account: Account, params: Params) -> Json:
        """GET /api/v1/trade/openOrders (one symbol)"""
        instrument = self._instrument(params)
        orders = self.dialect.ledger.open_orders(account, instrument)
        return {"orders": [self._describe(o) for o in orders]}

    def all_orders(self, account: Account, params: Params) -> Json:
        """GET /api/v1/trade/allOrders: the latest ``limit`` (1-200) of one symbol."""
        instrument = self._instrument(params)
        limit = params.limit(50, 1, 200)
        orders = self.orders_between(account, instrument, params)
        return {"orders": [self._describe(o) for o in orders[-limit:]]}

    def fills(self, account: Account, params: Params) -> Json:
        """GET /api/v1/trade/fills: the latest 100 of one symbol, newest first."""
        instrument = self._instrument(params)
        filled = [
            o for o in self.orders_between(account, instrument, params, key="updated") if o.filled
        ]
        filled.sort(key=lambda o: o.updated_ms, reverse=True)
        return {"fills": [self.fill_row(o) for o in filled[:FILLS_LIMIT]]}

    # -- helpers ------------------------------------------------------------------------------

    def order_of(
        self, account: Account, order_id: int | None, client_order_id: str | None
    ) -> Order:
        self.dialect.ledger.match(account)
        try:
            return self.dialect.ledger.find(
                account,
                order_id=None if order_id is None else str(order_id),
                client_order_id=client_order_id,
            )
        except OrderNotFound:
            raise not_found() from None

    def orders_between(
        self,
        account: Account,
        instrument: Instrument | Kind,
        params: Params,
        key: str = "created",
    ) -> list[Order]:
        """The orders of one market (or of every market of a kind) created (or ``key``
        updated) between ``startTime`` and ``endTime``, oldest first."""
        self.dialect.ledger.match(account)
        start, end = params.integer("startTime"), params.integer("endTime")
        chosen = []
        for order in account.orders.values():
            moment = order.created_ms if key == "created" else order.updated_ms
            if order.instrument != instrument and order.instrument.kind is not instrument:
                continue
            if (start is None or moment >= start) and (end is None or moment <= end):
                chosen.append(order)
        return sorted(chosen, key=lambda o: (o.created_ms, int(o.id)))

    def _describe(self, order: Order) -> Json:
        wire = self._wire.get(order.id, OrderWire(None, False))
        market_buy = wire.quote_amount is not None
        described = order_fields(order) | {
            "type": order.type.upper(),
            "fee": fmt(order.fee),
            "feeCoin": order.fee_asset,
            "IOC": wire.ioc,
        }
        if market_buy:
            assert wire.quote_amount is not None
            described["amount"] = fmt(wire.quote_amount)
        else:
            described["size"] = fmt(order.amount)
        return described

    @staticmethod
    def fill_row(order: Order) -> Json:
        taker = order.type is OrderType.MARKET or order.updated_ms == order.created_ms
        return {
            "id": int(order.id),
            "orderId": int(order.id),
            "symbol": symbol_of(order.instrument),
            "side": order.side.upper(),
            "role": "TAKER" if taker else "MAKER",
            "price": fmt(order.average or ZERO),
            "size": fmt(order.filled),
            "fee": fmt(order.fee),
            "feeCoin": order.fee_asset,
            "timestamp": order.updated_ms,
        }
