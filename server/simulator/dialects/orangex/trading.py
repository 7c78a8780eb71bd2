"""OrangeX's private methods: the perpetual account, orders, fills and positions.

``/private/buy`` and ``/private/sell`` answer the new order's ``order_id`` only: its state is
asked with ``get_order_state``. ``custom_order_id`` (``^[.A-Z:/a-z0-9_-]{1,36}$``) is the
client's label of an order, unique per account here. Positions are one-way (``position_side``
BOTH), cross-margined at the account's leverage. Order states are open, filled and canceled
(spelled so at OrangeX, though its documentation writes "cancelled"). The dialect refuses
trading methods to a key whose scope is not ``trade:read_write`` before they get here.

Field names follow OrangeX's documentation and what its users report; where those are silent
(a position's margins, a fill's ``commission``), Deribit's, whose API OrangeX copies.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from server.simulator.dialects import common
from server.simulator.dialects.orangex.wire import (
    ACCESS_DENIED,
    BAD_PARAMS,
    NOT_ENOUGH_FUNDS,
    ORDER_NOT_FOUND,
    PERPETUAL,
    Json,
    OrangexError,
    Params,
    fmt,
    instrument_name,
)
from server.simulator.instruments import QUOTE, Instrument
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
    from server.simulator.dialects.orangex.dialect import OrangexDialect

CUSTOM_ORDER_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
TIME_IN_FORCE = ("good_til_cancelled", "fill_or_kill", "immediate_or_cancel")
MAINTENANCE_RATE = Decimal("0.005")  # of a position's value (the simulator's)
HISTORY_COUNT = 20  # default ``count`` of the history and fills queries (Deribit's)
MAX_COUNT = 1000
STATES = {OrderStatus.OPEN: "open", OrderStatus.FILLED: "filled", OrderStatus.CANCELED: "canceled"}


def not_found(what: str) -> OrangexError:
    return OrangexError(ORDER_NOT_FOUND, f"order not found: {what}")


class Trading:
    def __init__(self, dialect: OrangexDialect) -> None:
        self.dialect = dialect
        self._terms: dict[str, tuple[str, bool]] = {}  # order id → time in force, post only

    def _instrument(self, params: Params) -> Instrument:
        return self.dialect.market.instrument(params.required("instrument_name"))

    # -- the account --------------------------------------------------------------------------

    def assets_info(self, account: Account, params: Params) -> Json:
        """POST /private/get_assets_info: ``asset_type`` is an array (``["PERPETUAL"]``)."""
        asset_types = params.values.get("asset_type")
        if not isinstance(asset_types, list) or not all(isinstance(t, str) for t in asset_types):
            raise params.malformed("asset_type", "an array of asset types")
        ledger = self.dialect.ledger
        positions = ledger.positions(account)
        wallet = account.balance(QUOTE)
        margin = sum((p.margin for p in positions), ZERO)
        upl = sum((p.unrealized(ledger.last_price(p.instrument)) for p in positions), ZERO)
        result: Json = {}
        if PERPETUAL in asset_types:
            result[PERPETUAL] = {
                "currency": QUOTE,
                "available_funds": fmt(wallet.free),
                "available_withdraw_funds": fmt(wallet.free),
                "wallet_balance": fmt(wallet.total),
                "order_frozen": fmt(wallet.locked - margin),
                "total_initial_margin_cross": fmt(margin),
                "total_maintenance_margin_cross": fmt(
                    sum(
                        (abs(p.size) * p.entry_price * MAINTENANCE_RATE for p in positions),
                        ZERO,
                    )
                ),
                "total_upl_cross": fmt(upl),
                "total_margin_balance": fmt(wallet.total + upl),
            }
        return result

    def set_leverage(self, account: Account, params: Params) -> Json:
        """POST /private/modify_perpetual_instrument_leverage (the account's leverage here: the
        shared ledger keeps one per account)."""
        instrument = self._instrument(params)
        leverage = params.integer("leverage")
        if leverage is None:
            raise params.missing("leverage")
        if not 1 <= leverage <= instrument.max_leverage:
            raise params.malformed("leverage", f"between 1 and {instrument.max_leverage}")
        account.leverage = leverage
        return {"instrument_name": instrument_name(instrument), "leverage": leverage}

    # -- orders -------------------------------------------------------------------------------

    def buy(self, account: Account, params: Params) -> Json:
        """POST /private/buy"""
        return self._place(account, params, Side.BUY)

    def sell(self, account: Account, params: Params) -> Json:
        """POST /private/sell"""
        return self._place(account, params, Side.SELL)

    def _place(self, account: Account, params: Params, side: Side) -> Json:
        instrument = self._instrument(params)
        amount = params.positive("amount")
        if amount is None:
            raise params.missing("amount")
        order_type = params.choice("type", ("limit", "market"), "limit")
        price = params.positive("price")
        if order_type == "limit" and price is None:
            raise params.missing("price")
        default_tif = "good_til_cancelled" if order_type == "limit" else "immediate_or_cancel"
        time_in_force = params.choice("time_in_force", TIME_IN_FORCE, default_tif)
        post_only, reduce_only = params.flag("post_only"), params.flag("reduce_only")
        custom_order_id = params.text("custom_order_id")
        if custom_order_id is not None and not CUSTOM_ORDER_ID.match(custom_order_id):
            raise params.malformed("custom_order_id", "1-36 of A-Z a-z 0-9 . : / _ -")
        params.choice("position_side", ("BOTH",), "BOTH")  # one-way (net) positions only
        ledger = self.dialect.ledger
        if post_only and order_type == "limit" and price is not None:
            bid, ask = ledger.bid_ask(instrument)
            if (side is Side.BUY and price >= ask) or (side is Side.SELL and price <= bid):
                raise OrangexError(BAD_PARAMS, "post only order would be filled immediately")
        try:
            order = ledger.place(
                account,
                instrument,
                side,
                OrderType.LIMIT if order_type == "limit" else OrderType.MARKET,
                amount,
                price=price if order_type == "limit" else None,
                client_order_id=custom_order_id or "",
                reduce_only=reduce_only,
            )
            if time_in_force != "good_til_cancelled" and order.status is OrderStatus.OPEN:
                ledger.cancel(account, order_id=order.id)
        except InsufficientFunds:
            raise OrangexError(NOT_ENOUGH_FUNDS, "not enough funds") from None
        except DuplicateClientOrderId:
            raise OrangexError(BAD_PARAMS, "duplicate custom_order_id") from None
        except TradingNotAllowed:
            raise OrangexError(ACCESS_DENIED, "Access denied") from None
        except InvalidOrder as exc:
            raise OrangexError(BAD_PARAMS, f"Invalid params: {exc}") from None
        if not custom_order_id:
            order.client_order_id = ""  # the ledger names unnamed orders; OrangeX leaves it empty
        self._terms[order.id] = (time_in_force, post_only)
        return {"order_id": order.id}

    def cancel(self, account: Account, params: Params) -> Json:
        """POST /private/cancel"""
        order_id = params.required("order_id")
        try:
            order = self.dialect.ledger.cancel(account, order_id=order_id)
        except OrderNotFound:
            raise not_found(order_id) from None
        return {"order_id": order.id}

    def order_state(self, account: Account, params: Params) -> Json:
        """POST /private/get_order_state"""
        order_id = params.required("order_id")
        self.dialect.ledger.match(account)
        order = account.orders.get(order_id)
        if order is None:
            raise not_found(order_id)
        return self._describe(order)

    def open_orders(self, account: Account, params: Params) -> list[Json]:
        """POST /private/get_open_orders_by_instrument"""
        instrument = self._instrument(params)
        orders = self.dialect.ledger.open_orders(account, instrument)
        return [self._describe(o) for o in sorted(orders, key=lambda o: o.created_ms)]

    def order_history(self, account: Account, params: Params) -> list[Json]:
        """POST /private/get_order_history_by_instrument: finished orders, newest first,
        ``count`` (1-1000) from ``offset``."""
        instrument = self._instrument(params)
        self.dialect.ledger.match(account)
        done = [
            o
            for o in account.orders.values()
            if o.instrument == instrument and o.status is not OrderStatus.OPEN
        ]
        done.sort(key=lambda o: (o.updated_ms, int(o.id)), reverse=True)
        return [self._describe(o) for o in self._page(done, params)]

    def user_trades(self, account: Account, params: Params) -> Json:
        """POST /private/get_user_trades_by_instrument: fills, newest first."""
        instrument = self._instrument(params)
        self.dialect.ledger.match(account)
        since = params.integer("start_timestamp")
        filled = [
            o
            for o in account.orders.values()
            if o.instrument == instrument and o.filled and (since is None or o.updated_ms >= since)
        ]
        filled.sort(key=lambda o: (o.updated_ms, int(o.id)), reverse=True)
        page = self._page(filled, params)
        return {"trades": [self._fill(o) for o in page], "has_more": len(filled) > len(page)}

    @staticmethod
    def _page(orders: list[Order], params: Params) -> list[Order]:
        count = params.integer("count", HISTORY_COUNT)
        offset = params.integer("offset", 0)
        assert count is not None and offset is not None
        if not 1 <= count <= MAX_COUNT:
            raise params.malformed("count", "between 1 and 1000")
        if offset < 0:
            raise params.malformed("offset", "0 or more")
        return orders[offset : offset + count]

    def positions(self, account: Account, params: Params) -> list[Json]:
        """POST /private/get_user_position: the open positions (of one instrument if named)."""
        name = params.text("instrument_name")
        wanted = None if name is None else self.dialect.market.instrument(name)
        ledger = self.dialect.ledger
        described = []
        for position in ledger.positions(account):
            if wanted is not None and position.instrument != wanted:
                continue
            mark = ledger.last_price(position.instrument)
            size = abs(position.size)
            upl = position.unrealized(mark)
            liquidation = common.liquidation_price(position, MAINTENANCE_RATE)
            described.append(
                {
                    "instrument_name": instrument_name(position.instrument),
                    "kind": "perpetual",
                    "pos_id": f"{account.api_key[-4:]}-{instrument_name(position.instrument)}",
                    "position_side": "BOTH",
                    "direction": "buy" if position.size > 0 else "sell",
                    "size": fmt(position.size),
                    "average_price": fmt(position.entry_price),
                    "mark_price": fmt(mark),
                    "index_price": fmt(mark),
                    "floating_profit_loss": fmt(upl),
                    "realized_profit_loss": fmt(position.realized_pnl),
                    "total_profit_loss": fmt(upl + position.realized_pnl),
                    "initial_margin": fmt(position.margin),
                    "maintenance_margin": fmt(size * position.entry_price * MAINTENANCE_RATE),
                    "liquid_price": common.optional(liquidation),
                    "margin_type": account.margin_mode,
                    "leverage": account.leverage,
                    "stop_loss_price": "0",
                    "take_profit_price": "0",
                    "risk_level": fmt(
                        common.ratio(
                            size * position.entry_price * MAINTENANCE_RATE, position.margin
                        )
                    ),
                }
            )
        return described

    # -- shapes -------------------------------------------------------------------------------

    def _describe(self, order: Order) -> Json:
        time_in_force, post_only = self._terms.get(order.id, ("good_til_cancelled", False))
        return {
            "order_id": order.id,
            "custom_order_id": order.client_order_id,
            "instrument_name": instrument_name(order.instrument),
            "kind": "perpetual",
            "direction": order.side.value,
            "order_type": order.type.value,
            "order_state": STATES[order.status],
            "amount": fmt(order.amount),
            "filled_amount": fmt(order.filled),
            "price": common.optional(order.price) or "0",
            "average_price": fmt(order.average or ZERO),
            "commission": fmt(order.fee),
            "time_in_force": time_in_force,
            "post_only": post_only,
            "reduce_only": order.reduce_only,
            "position_side": "BOTH",
            "condition_type": "NORMAL",
            "trigger_price": "0",
            "error_code": 0,
            "creation_timestamp": order.created_ms,
            "last_update_timestamp": order.updated_ms,
        }

    @staticmethod
    def _fill(order: Order) -> Json:
        taker = order.type is OrderType.MARKET or order.updated_ms == order.created_ms
        return {
            "trade_id": f"{order.id}-1",
            "order_id": order.id,
            "instrument_name": instrument_name(order.instrument),
            "direction": order.side.value,
            "order_type": order.type.value,
            "amount": fmt(order.filled),
            "price": fmt(order.average or ZERO),
            "role": "taker" if taker else "maker",
            "fee": fmt(order.fee),
            "fee_coin_type": order.fee_asset,
            "timestamp": order.updated_ms,
        }
