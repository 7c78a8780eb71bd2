"""Pionex's perpetuals, account and trading (``/uapi/v1/...``, openapi_futures.yaml), over the
shared ledger's linear perps (``BTC_USDT_PERP``).

One-way mode (``BUYSELL``) and cross margin only: ``positionSide`` other than BOTH, hedge mode
and isolated margin are not simulated. The futures account is the ledger account's USDT; its
leverage is the account's (the ledger keeps one leverage per account, Pionex one per symbol).
Orders are sized in base units (``size``) whatever their type: LIMIT, MARKET_QTY, IOC, FOK,
POSTONLY. Placing answers the order id only, as documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from server.simulator.dialects.common import liquidation_price
from server.simulator.dialects.pionex.trading import (
    CLIENT_ORDER_ID,
    eight_places,
    not_found,
    order_fields,
)
from server.simulator.dialects.pionex.wire import (
    TRADE_INVALID_SYMBOL,
    TRADE_OPERATION_DENIED,
    TRADE_PARAMETER_ERROR,
    Json,
    Params,
    PionexError,
    fmt,
    symbol_of,
)
from server.simulator.instruments import QUOTE, Instrument, Kind
from server.simulator.ledger import ZERO, Account, Order, OrderStatus, OrderType, Position, Side

if TYPE_CHECKING:
    from server.simulator.dialects.pionex.dialect import PionexDialect

ORDER_TYPES = ("LIMIT", "MARKET_QTY", "IOC", "FOK", "POSTONLY")
MAINTENANCE_RATE = Decimal("0.005")  # of the notional: the first risk tier's rate


@dataclass(frozen=True, slots=True)
class FuturesWire:
    """What Pionex echoes about a futures order that the ledger does not keep."""

    type: str
    reduce_only: bool


class Futures:
    def __init__(self, dialect: PionexDialect) -> None:
        self.dialect = dialect
        self._wire: dict[str, FuturesWire] = {}

    def _instrument(self, symbol: str | None) -> Instrument:
        return self.dialect.market.instrument(symbol, TRADE_INVALID_SYMBOL, Kind.LINEAR)

    # -- account ------------------------------------------------------------------------------

    def balances(self, account: Account, _params: Params) -> Json:
        """GET /uapi/v1/account/balances: the cross-margin USDT (no isolated margins)."""
        self.dialect.ledger.match(account)
        wallet = account.balance(QUOTE)
        row = {
            "coin": QUOTE,
            "free": eight_places(wallet.free),
            "frozen": eight_places(wallet.locked),
            "debts": "0",
        }
        return {"balances": [row], "isolates": []}

    def positions(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/account/positions (one ``symbol``, or all)."""
        symbol = params.text("symbol")
        wanted = None if symbol is None else self._instrument(symbol)
        held = self.dialect.ledger.positions(account)
        return {
            "positions": [
                self._position(account, p) for p in held if wanted in (None, p.instrument)
            ]
        }

    def _position(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.dialect.ledger.last_price(instrument)
        size = abs(position.size)
        long = position.size > 0
        cost = size * position.entry_price
        liquidation = liquidation_price(position, MAINTENANCE_RATE)
        return {
            "positionId": f"{account.api_key[-6:]}-{symbol_of(instrument)}",
            "symbol": symbol_of(instrument),
            "isolatedMode": "CROSS",
            "riskState": "NORMAL",
            "positionSide": "LONG" if long else "SHORT",
            "netSize": fmt(position.size),
            "avgPrice": fmt(position.entry_price),
            "unrealizedPnL": fmt(position.unrealized(mark)),
            "sizeLong": fmt(size if long else ZERO),
            "sizeShort": fmt(ZERO if long else -size),
            "amountLong": fmt(-cost if long else ZERO),
            "amountShort": fmt(ZERO if long else cost),
            "amountSettled": "0",
            "markPrice": fmt(mark),
            "initialMargin": fmt(position.margin),
            "maintMargin": fmt(cost * MAINTENANCE_RATE),
            "liquidationPrice": "" if liquidation is None else fmt(liquidation),
            "leverage": str(account.leverage),
            "sizeLiquidated": "0",
            "amountLiquidated": "0",
            "createTime": position.updated_ms,
            "updateTime": position.updated_ms,
        }

    def leverage(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/account/leverage"""
        instrument = self._instrument(params.required("symbol"))
        return {"symbol": symbol_of(instrument), "leverage": str(account.leverage)}

    def set_leverage(self, account: Account, params: Params) -> Json:
        """POST /uapi/v1/account/leverage"""
        instrument = self._instrument(params.required("symbol"))
        value = params.integer("leverage")
        if value is None or not 1 <= value <= instrument.max_leverage:
            raise PionexError(
                TRADE_PARAMETER_ERROR, f"leverage must be between 1 and {instrument.max_leverage}"
            )
        account.leverage = value
        return {"symbol": symbol_of(instrument), "leverage": str(value)}

    # -- orders -------------------------------------------------------------------------------

    def new_order(self, account: Account, params: Params) -> Json:
        """POST /uapi/v1/trade/order"""
        instrument = self._instrument(params.required("symbol"))
        side_text, type_text = params.required("side"), params.required("type")
        if side_text not in ("BUY", "SELL"):
            raise params.bad("side")
        if type_text not in ORDER_TYPES:
            raise params.bad("type")
        if (params.text("positionSide") or "BOTH") != "BOTH":
            raise PionexError(TRADE_PARAMETER_ERROR, "positionSide must be BOTH in one-way mode")
        client_order_id = params.text("clientOrderId")
        if client_order_id is not None and not CLIENT_ORDER_ID.match(client_order_id):
            raise params.bad("clientOrderId")
        size = params.decimal("size")
        if size is None:
            raise PionexError(TRADE_PARAMETER_ERROR, "parameter size is required")
        side = Side.BUY if side_text == "BUY" else Side.SELL
        price = None
        if type_text != "MARKET_QTY":
            price = params.decimal("price")
            if price is None:
                raise PionexError(TRADE_PARAMETER_ERROR, f"a {type_text} order needs a price")
        if type_text == "POSTONLY" and price is not None and self._crosses(instrument, side, price):
            raise PionexError(TRADE_OPERATION_DENIED, "post-only order would take liquidity")
        if type_text == "FOK" and price is not None and not self._crosses(instrument, side, price):
            raise PionexError(TRADE_OPERATION_DENIED, "fill-or-kill order cannot be filled")
        reduce_only = params.flag("reduceOnly")
        order = self.dialect.trading.place(
            account,
            instrument,
            side,
            OrderType.MARKET if type_text == "MARKET_QTY" else OrderType.LIMIT,
            size,
            price=price,
            client_order_id=client_order_id,
            ioc=type_text == "IOC",
            reduce_only=reduce_only,
        )
        self._wire[order.id] = FuturesWire(type_text, reduce_only)
        return {"orderId": int(order.id)}

    def _crosses(self, instrument: Instrument, side: Side, price: Decimal) -> bool:
        bid, ask = self.dialect.ledger.bid_ask(instrument)
        return price >= ask if side is Side.BUY else price <= bid

    def cancel_order(self, account: Account, params: Params) -> None:
        """DELETE /uapi/v1/trade/order"""
        instrument = self._instrument(params.required("symbol"))
        order_id = params.integer("orderId")
        if order_id is None:
            raise params.bad("orderId")
        order = self._order_in(account, instrument, order_id, None)
        if order.status is not OrderStatus.OPEN:
            raise not_found()
        self.dialect.ledger.cancel(account, order_id=order.id)

    def get_order(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/trade/order"""
        instrument = self._instrument(params.required("symbol"))
        order_id = params.integer("orderId")
        if order_id is None:
            raise params.bad("orderId")
        return self._describe(self._order_in(account, instrument, order_id, None))

    def get_order_by_client_id(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/trade/orderByClientOrderId"""
        instrument = self._instrument(params.required("symbol"))
        client_order_id = params.required("clientOrderId")
        return self._describe(self._order_in(account, instrument, None, client_order_id))

    def open_orders(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/trade/openOrders (one ``symbol``, or all), the latest ``limit``."""
        symbol = params.text("symbol")
        limit = params.limit(100, 1, 500)
        chosen = self.dialect.ledger.open_orders(
            account, None if symbol is None else self._instrument(symbol)
        )
        perps = [o for o in chosen if o.instrument.kind is Kind.LINEAR]
        return {"orders": [self._describe(o) for o in perps[-limit:]]}

    def history_orders(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/trade/historyOrders: closed orders (filled or cancelled), newest first."""
        symbol = params.text("symbol")
        limit = params.limit(50, 1, 200)
        market: Instrument | Kind = Kind.LINEAR if symbol is None else self._instrument(symbol)
        orders = self.dialect.trading.orders_between(account, market, params)
        closed = [o for o in orders if o.status is not OrderStatus.OPEN]
        return {"orders": [self._describe(o) for o in reversed(closed[-limit:])]}

    def fills(self, account: Account, params: Params) -> Json:
        """GET /uapi/v1/trade/fills: one symbol's, newest first, the latest ``limit``."""
        instrument = self._instrument(params.required("symbol"))
        limit = params.limit(100, 1, 200)
        trading = self.dialect.trading
        orders = trading.orders_between(account, instrument, params, key="updated")
        filled = sorted((o for o in orders if o.filled), key=lambda o: o.updated_ms, reverse=True)
        return {"fills": [trading.fill_row(o) for o in filled[:limit]]}

    # -- helpers ------------------------------------------------------------------------------

    def _order_in(
        self,
        account: Account,
        instrument: Instrument,
        order_id: int | None,
        client_order_id: str | None,
    ) -> Order:
        order = self.dialect.trading.order_of(account, order_id, client_order_id)
        if order.instrument != instrument:
            raise not_found()
        return order

    def _describe(self, order: Order) -> Json:
        wire = self._wire.get(order.id, FuturesWire(order.type.upper(), order.reduce_only))
        return order_fields(order) | {
            "type": wire.type,
            "positionMode": "BUYSELL",
            "isolatedMode": "CROSS",
            "positionSide": "BOTH",
            "origSize": fmt(order.amount),
            "size": fmt(order.amount),
            "reduceOnly": wire.reduce_only,
        }
