"""BingX's order endpoints, spot (/openApi/spot/v1/trade/...) and USDT-M perpetual
(/openApi/swap/v2/trade/...): place, cancel, query, open, history, fills.

Market and limit orders only. Spot client order ids travel as ``newClientOrderId`` when placing
and ``clientOrderID`` when cancelling or querying; swap ones as ``clientOrderID`` (queries also
take ``clientOrderId``). The ledger fills an order whole, so each filled order has one fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from server.simulator.dialects.bingx.wire import (
    BELOW_MINIMUM,
    DUPLICATE_CLIENT_ID,
    MARGIN_INSUFFICIENT,
    ORDER_NOT_FOUND,
    PERMISSION_DENIED,
    SPOT_INSUFFICIENT,
    BingxError,
    Json,
    Params,
    Venue,
    bad_parameter,
    fmt,
    market_id,
)
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    LedgerError,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderType,
    Side,
    TradingNotAllowed,
)

TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
# Conditional, attached TP/SL and trailing orders: refused by the simulator.
UNSUPPORTED = ("stopPrice", "stopLoss", "takeProfit", "priceRate", "activationPrice")
# An order's take-profit and stop-loss as BingX's order queries show them when none is set.
NO_STOP = {"type": "", "quantity": "0", "stopPrice": "0", "price": "0", "workingType": ""}
SPOT_STATUS = {
    OrderStatus.OPEN: "PENDING",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
}
SWAP_STATUS = {
    OrderStatus.OPEN: "NEW",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What BingX echoes about an order that the ledger does not keep."""

    client_order_id: str  # as given ("" when none was)
    time_in_force: str
    quote_qty: Decimal  # a spot market order by value; 0 otherwise


class Orders:
    """The order endpoints of one BingX dialect, with their own memory of the wire details."""

    def __init__(self) -> None:
        self._wire: dict[str, OrderWire] = {}

    # -- placing and cancelling ---------------------------------------------------------------

    def place(self, venue: Venue, account: Account, params: Params) -> Json:
        """POST /openApi/spot/v1/trade/order and /openApi/swap/v2/trade/order"""
        kind = params.kind
        instrument = venue.instrument(kind, params.required("symbol"))
        side = {"BUY": Side.BUY, "SELL": Side.SELL}.get(params.required("side"))
        order_type = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}.get(
            params.required("type")
        )
        if side is None:
            raise bad_parameter(kind, "side must be BUY or SELL")
        if order_type is None:
            raise bad_parameter(kind, "type must be MARKET or LIMIT in the simulator")
        for name in UNSUPPORTED:
            if params.text(name) not in (None, "0"):
                raise bad_parameter(kind, f"{name} is not supported by the simulator")
        if kind is Kind.LINEAR and params.text("positionSide") not in (None, "BOTH"):
            raise bad_parameter(kind, "positionSide must be BOTH in one-way mode")
        time_in_force = params.text("timeInForce") or "GTC"
        if time_in_force not in TIME_IN_FORCE:
            raise bad_parameter(kind, "timeInForce invalid")
        client_id = params.text("newClientOrderId" if kind is Kind.SPOT else "clientOrderID") or ""
        if len(client_id) > 40:
            raise bad_parameter(kind, "the client order id is longer than 40 characters")
        price = params.decimal("price") if order_type is OrderType.LIMIT else None
        if order_type is OrderType.LIMIT and (price is None or price <= 0):
            raise bad_parameter(kind, "price is required for a limit order")
        if price is not None and price % instrument.price_tick != 0:
            raise bad_parameter(kind, f"price must be a multiple of {fmt(instrument.price_tick)}")
        bid, ask = venue.ledger.bid_ask(instrument)
        quantity, quote_qty = params.decimal("quantity"), params.decimal("quoteOrderQty")
        if quantity is None and quote_qty is not None and order_type is OrderType.MARKET:
            quantity = instrument.floor_amount(quote_qty / (ask if side is Side.BUY else bid))
        else:
            quote_qty = None
        if quantity is None or quantity <= 0:
            raise bad_parameter(kind, "quantity must be greater than 0")
        if quote_qty is None and quantity % instrument.amount_step != 0:
            raise bad_parameter(
                kind, f"quantity must be a multiple of {fmt(instrument.amount_step)}"
            )
        takes = price is not None and (price >= ask if side is Side.BUY else price <= bid)
        if time_in_force == "PostOnly" and takes:
            raise BingxError(BELOW_MINIMUM, "PostOnly order would take liquidity")
        self._check_size(instrument, quantity, price or venue.ledger.last_price(instrument))
        try:
            order = venue.ledger.place(
                account,
                instrument,
                side,
                order_type,
                quantity,
                price=price,
                client_order_id=client_id or None,
                reduce_only=params.flag("reduceOnly"),
            )
            if order.status is OrderStatus.OPEN and time_in_force in ("IOC", "FOK"):
                venue.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise refusal(error, kind) from None
        self._wire[order.id] = OrderWire(client_id, time_in_force, quote_qty or ZERO)
        if kind is Kind.SPOT:
            view = self.spot_view(order)
            view["orderId"] = int(order.id)
            view["transactTime"] = order.created_ms
            return view
        created = {
            "symbol": market_id(instrument),
            "orderId": int(order.id),
            "side": "BUY" if side is Side.BUY else "SELL",
            "positionSide": "BOTH",
            "type": "MARKET" if order_type is OrderType.MARKET else "LIMIT",
            "price": float(price) if price is not None else 0,
            "quantity": float(quantity),
            "stopPrice": 0,
            "workingType": "MARK_PRICE",
            "clientOrderID": client_id,
            "timeInForce": time_in_force,
            "priceRate": 0,
            "stopLoss": "",
            "takeProfit": "",
            "reduceOnly": order.reduce_only,
            "activationPrice": 0,
            "closePosition": "",
            "stopGuaranteed": "",
        }
        return {"order": created}

    @staticmethod
    def _check_size(instrument: Instrument, quantity: Decimal, price: Decimal) -> None:
        if quantity < instrument.min_amount:
            raise BingxError(
                BELOW_MINIMUM,
                f"The minimum order amount is {fmt(instrument.min_amount)} {instrument.base}.",
            )
        if quantity * price < instrument.min_notional:
            raise BingxError(
                BELOW_MINIMUM,
                f"The minimum order value is {fmt(instrument.min_notional)} {instrument.quote}.",
            )

    def cancel(self, venue: Venue, account: Account, params: Params) -> Json:
        """POST /openApi/spot/v1/trade/cancel and DELETE /openApi/swap/v2/trade/order"""
        order = self._find(venue, account, params)
        try:
            venue.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise refusal(error, params.kind) from None
        return self._view(order)

    # -- queries ------------------------------------------------------------------------------

    def query(self, venue: Venue, account: Account, params: Params) -> Json:
        """GET /openApi/spot/v1/trade/query and /openApi/swap/v2/trade/order"""
        venue.ledger.match(account)
        return self._view(self._find(venue, account, params))

    def open_orders(self, venue: Venue, account: Account, params: Params) -> Json:
        """GET .../trade/openOrders (one symbol or all), newest first."""
        venue.ledger.match(account)
        orders = [o for o in self._orders(venue, account, params) if o.status is OrderStatus.OPEN]
        return {"orders": [self._entry(o) for o in orders]}

    def history(self, venue: Venue, account: Account, params: Params) -> Json:
        """GET /openApi/spot/v1/trade/historyOrders (filled and cancelled) and
        /openApi/swap/v2/trade/allOrders (every order), newest first, by time window."""
        venue.ledger.match(account)
        start, end = params.integer("startTime"), params.integer("endTime")
        spot = params.kind is Kind.SPOT
        limit = params.limit("pageSize", 100, 100) if spot else params.limit("limit", 500, 1000)
        orders = [
            o
            for o in self._orders(venue, account, params)
            if (not spot or o.status is not OrderStatus.OPEN)
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return {"orders": [self._entry(o) for o in orders[:limit]]}

    def fills(self, venue: Venue, account: Account, params: Params) -> Json:
        """GET /openApi/spot/v1/trade/myTrades (``fills``) and /openApi/swap/v2/trade/
        allFillOrders (``fill_orders``): one fill per filled order, oldest first."""
        venue.ledger.match(account)
        spot = params.kind is Kind.SPOT
        instrument = venue.instrument(params.kind, params.required("symbol"))
        start = params.integer("startTime" if spot else "startTs")
        end = params.integer("endTime" if spot else "endTs")
        order_id = params.text("orderId")
        limit = params.limit("limit", 500, 1000)
        filled = sorted(
            (
                o
                for o in account.orders.values()
                if o.instrument == instrument
                and o.filled > 0
                and (order_id is None or o.id == order_id)
                and (start is None or o.updated_ms >= start)
                and (end is None or o.updated_ms <= end)
            ),
            key=lambda o: (o.updated_ms, o.id),
        )[:limit]
        if spot:
            return {"fills": [self._spot_fill(o) for o in filled]}
        return {"fill_orders": [self._swap_fill(o) for o in filled]}

    def _find(self, venue: Venue, account: Account, params: Params) -> Order:
        instrument = venue.instrument(params.kind, params.required("symbol"))
        order_id = params.text("orderId")
        client_id = params.text("clientOrderID") or params.text("clientOrderId")
        if order_id is None and client_id is None:
            raise bad_parameter(params.kind, "orderId or clientOrderID is required")
        for order in account.orders.values():
            if order.instrument != instrument:
                continue
            if (order_id is not None and order.id == order_id) or (
                order_id is None and client_id and self._client_id(order) == client_id
            ):
                return order
        raise BingxError(ORDER_NOT_FOUND, "order not exist")

    def _orders(self, venue: Venue, account: Account, params: Params) -> list[Order]:
        symbol = params.text("symbol")
        wanted = venue.instrument(params.kind, symbol) if symbol else None
        selected = [
            o
            for o in account.orders.values()
            if o.instrument.kind is params.kind and (wanted is None or o.instrument == wanted)
        ]
        return sorted(selected, key=lambda o: (o.created_ms, o.id), reverse=True)

    # -- views --------------------------------------------------------------------------------

    def _client_id(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        return wire.client_order_id if wire else ""

    def _view(self, order: Order) -> Json:
        """An order as cancel and query answer it (swap ones wrapped in ``order``)."""
        if order.instrument.kind is Kind.SPOT:
            return self.spot_view(order)
        return {"order": self.swap_view(order)}

    def _entry(self, order: Order) -> Json:
        """An order as the order lists carry it."""
        if order.instrument.kind is Kind.SPOT:
            return self.spot_view(order)
        return self.swap_view(order)

    def spot_view(self, order: Order) -> Json:
        wire = self._wire.get(order.id)
        market = order.type is OrderType.MARKET
        price = order.average if market else order.price
        return {
            "symbol": market_id(order.instrument),
            "orderId": order.id,
            "price": fmt(price or ZERO),
            "StopPrice": "0",
            "origQty": fmt(order.amount),
            "executedQty": fmt(order.filled),
            "cummulativeQuoteQty": fmt(order.filled * (order.average or ZERO)),
            "status": SPOT_STATUS[order.status],
            "type": "MARKET" if market else "LIMIT",
            "side": "BUY" if order.side is Side.BUY else "SELL",
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "origQuoteOrderQty": fmt(wire.quote_qty if wire else ZERO),
            "fee": fmt(-order.fee),
            "feeAsset": order.fee_asset,
            "clientOrderID": self._client_id(order),
        }

    def swap_view(self, order: Order) -> Json:
        wire = self._wire.get(order.id)
        market = order.type is OrderType.MARKET
        return {
            "symbol": market_id(order.instrument),
            "orderId": order.id,
            "side": "BUY" if order.side is Side.BUY else "SELL",
            "positionSide": "BOTH",
            "type": "MARKET" if market else "LIMIT",
            "origQty": fmt(order.amount),
            "price": fmt(order.price or order.average or ZERO),
            "executedQty": fmt(order.filled),
            "avgPrice": fmt(order.average or ZERO),
            "cumQuote": fmt(order.filled * (order.average or ZERO)),
            "stopPrice": "",
            "profit": "0",
            "commission": fmt(-order.fee),
            "status": SWAP_STATUS[order.status],
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "clientOrderId": self._client_id(order),
            "leverage": "",
            "takeProfit": dict(NO_STOP),
            "stopLoss": dict(NO_STOP),
            "advanceAttr": 0,
            "positionID": 0,
            "takeProfitEntrustPrice": 0,
            "stopLossEntrustPrice": 0,
            "orderType": "",
            "workingType": "MARK_PRICE",
            "timeInForce": wire.time_in_force if wire else "GTC",
            "reduceOnly": order.reduce_only,
            "onlyOnePosition": True,
            "stopGuaranteed": "false",
            "triggerOrderId": 0,
        }

    @staticmethod
    def _is_maker(order: Order) -> bool:
        value = order.filled * (order.average or ZERO)
        return order.type is OrderType.LIMIT and order.fee < value * order.instrument.taker_fee

    def _spot_fill(self, order: Order) -> Json:
        price = order.average or ZERO
        return {
            "symbol": market_id(order.instrument),
            "id": int(order.id),
            "orderId": int(order.id),
            "price": fmt(price),
            "qty": fmt(order.filled),
            "quoteQty": fmt(order.filled * price),
            "commission": float(-order.fee),
            "commissionAsset": order.fee_asset,
            "time": order.updated_ms,
            "isBuyer": order.side is Side.BUY,
            "isMaker": self._is_maker(order),
        }

    def _swap_fill(self, order: Order) -> Json:
        price = order.average or ZERO
        filled_at = datetime.fromtimestamp(order.updated_ms / 1000, UTC)
        return {
            "symbol": market_id(order.instrument),
            "tradeId": order.id,
            "orderId": order.id,
            "side": "BUY" if order.side is Side.BUY else "SELL",
            "positionSide": "BOTH",
            "volume": fmt(order.filled),
            "price": fmt(price),
            "amount": fmt(order.filled * price),
            "commission": fmt(-order.fee),
            "currency": order.fee_asset,
            "maker": self._is_maker(order),
            "liquidatedPrice": "0",
            "liquidatedMarginRatio": "0",
            "filledTm": filled_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            # As BingX writes it: filledTm's clock, with a +0800 suffix.
            "filledTime": filled_at.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{filled_at:%f}"[:3]
            + "+0800",
            "clientOrderID": self._client_id(order),
            "onlyOnePosition": True,
        }


def refusal(error: LedgerError, kind: Kind) -> BingxError:
    """A ledger refusal as BingX's code."""
    if isinstance(error, InsufficientFunds):
        if kind is Kind.SPOT:
            return BingxError(SPOT_INSUFFICIENT, "Insufficient balance")
        return BingxError(MARGIN_INSUFFICIENT, "Insufficient margin")
    if isinstance(error, DuplicateClientOrderId):
        return BingxError(DUPLICATE_CLIENT_ID, "the clientOrderID is duplicated")
    if isinstance(error, OrderNotFound):
        return BingxError(ORDER_NOT_FOUND, "order not exist")
    if isinstance(error, TradingNotAllowed):
        return BingxError(PERMISSION_DENIED, "Permission denied, the API key cannot trade this")
    if isinstance(error, InvalidOrder):
        return BingxError(BELOW_MINIMUM, str(error))
    return bad_parameter(kind, str(error))
