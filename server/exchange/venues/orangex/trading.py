"""OrangeX perpetual futures, part two: the account, orders, fills and positions
(``/api/v1/private/...``)."""

from __future__ import annotations

from typing import Any

from ccxt.base.errors import ArgumentsRequired, BadRequest, InvalidOrder, OrderNotFound
from ccxt.base.precise import Precise

from server.exchange.venues.orangex.base import PERPETUAL, Json, OrangexBase

ORDER_STATES = {
    "open": "open",
    "filled": "closed",
    "canceled": "canceled",
    "cancelled": "canceled",  # as OrangeX's documentation spells it
    "rejected": "rejected",
}
TIME_IN_FORCE = {"GTC": "good_til_cancelled", "IOC": "immediate_or_cancel", "FOK": "fill_or_kill"}
HISTORY_PAGE = 100


class orangex(OrangexBase):
    # -- the account --------------------------------------------------------------------------

    async def fetch_balance(self, params: Any = None) -> Any:
        await self.load_markets()
        request = {"asset_type": [PERPETUAL]}  # an array, or OrangeX refuses it
        response = await self.private_post_get_assets_info(self.extend(request, params or {}))
        area = self.safe_dict(self.safe_dict(response, "result", {}), PERPETUAL, {})
        result: Json = {"info": response}
        if area:
            account = self.account()
            account["free"] = self.safe_string(area, "available_funds")
            account["total"] = self.safe_string(area, "wallet_balance")
            result[self.safe_currency_code(self.safe_string(area, "currency", "USDT"))] = account
        return self.safe_balance(result)

    async def fetch_positions(self, symbols: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        symbols = self.market_symbols(symbols)
        request: Json = {}
        if symbols and len(symbols) == 1:
            request["instrument_name"] = self.market_id(symbols[0])
        response = await self.private_post_get_user_position(self.extend(request, params or {}))
        positions = [self.parse_position(p) for p in self.safe_list(response, "result", [])]
        return self.filter_by_array_positions(positions, "symbol", symbols)

    def parse_position(self, position: Json, market: Any = None) -> Any:
        market = self.safe_market(self.safe_string(position, "instrument_name"), market)
        size = self.safe_string(position, "size", "0")
        contracts = Precise.string_abs(size)
        mark = self.safe_string(position, "mark_price")
        contract_size = self.number_to_string(market["contractSize"] or 1)
        margin = self.safe_string(position, "initial_margin")
        pnl = self.safe_string(position, "floating_profit_loss")
        notional = None
        if mark is not None:
            notional = Precise.string_mul(Precise.string_mul(contracts, contract_size), mark)
        collateral = None if margin is None or pnl is None else Precise.string_add(margin, pnl)
        percentage = None
        if margin is not None and pnl is not None and Precise.string_gt(margin, "0"):
            percentage = Precise.string_mul(Precise.string_div(pnl, margin), "100")
        side = self.safe_string(position, "position_side")
        return self.safe_position(
            {
                "info": position,
                "id": self.safe_string(position, "pos_id"),
                "symbol": market["symbol"],
                "timestamp": None,  # OrangeX's positions carry no time (nor do Deribit's)
                "datetime": None,
                "side": "short" if Precise.string_lt(size, "0") else "long",
                "hedged": side in ("LONG", "SHORT"),
                "contracts": self.parse_number(contracts),
                "contractSize": self.parse_number(contract_size),
                "entryPrice": self.safe_number(position, "average_price"),
                "markPrice": self.parse_number(mark),
                "notional": self.parse_number(notional),
                "leverage": self.safe_number(position, "leverage"),
                "unrealizedPnl": self.parse_number(pnl),
                "realizedPnl": self.safe_number(position, "realized_profit_loss"),
                "initialMargin": self.parse_number(margin),
                "maintenanceMargin": self.safe_number(position, "maintenance_margin"),
                "collateral": self.parse_number(collateral),
                "liquidationPrice": self.parse_number(
                    self.omit_zero(self.safe_string(position, "liquid_price"))
                ),
                "marginMode": self.safe_string_lower(position, "margin_type"),
                "percentage": self.parse_number(percentage),
                "stopLossPrice": self.parse_number(
                    self.omit_zero(self.safe_string(position, "stop_loss_price"))
                ),
                "takeProfitPrice": self.parse_number(
                    self.omit_zero(self.safe_string(position, "take_profit_price"))
                ),
            }
        )

    async def set_leverage(self, leverage: Any, symbol: Any = None, params: Any = None) -> Any:
        """OrangeX's ``modify_perpetual_instrument_leverage``, per instrument."""
        if symbol is None:
            raise ArgumentsRequired(f"{self.id} set_leverage() requires a symbol argument")
        await self.load_markets()
        market = self.market(symbol)
        request = {"instrument_name": market["id"], "leverage": int(leverage)}
        return await self.private_post_modify_perpetual_instrument_leverage(
            self.extend(request, params or {})
        )

    # -- orders -------------------------------------------------------------------------------

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Any,
        price: Any = None,
        params: Any = None,
    ) -> Any:
        """A limit or market order; ``params['clientOrderId']`` travels as OrangeX's
        ``custom_order_id``. OrangeX answers the order id only: the order as sent is returned."""
        await self.load_markets()
        market = self.market(symbol)
        params = dict(params or {})
        if type not in ("limit", "market"):
            raise InvalidOrder(f"{self.id} supports limit and market orders only, not {type}")
        request: Json = {
            "instrument_name": market["id"],
            "amount": self.amount_to_precision(symbol, amount),
            "type": type,
        }
        if type == "limit":
            if price is None:
                raise InvalidOrder(f"{self.id} create_order() needs a price for a limit order")
            request["price"] = self.price_to_precision(symbol, price)
        client_order_id = params.pop("clientOrderId", None)
        if client_order_id is not None:
            request["custom_order_id"] = client_order_id
        time_in_force = params.pop("timeInForce", None)
        if time_in_force is not None:
            if time_in_force not in TIME_IN_FORCE:
                raise InvalidOrder(f"{self.id} supports the time in force GTC, IOC and FOK")
            request["time_in_force"] = TIME_IN_FORCE[time_in_force]
        if params.pop("postOnly", False):
            request["post_only"] = True
        if params.pop("reduceOnly", False):
            request["reduce_only"] = True
        place = self.private_post_buy if side == "buy" else self.private_post_sell
        if side not in ("buy", "sell"):
            raise InvalidOrder(f"{self.id} create_order() side must be buy or sell")
        try:
            response = await place(self.extend(request, params))
        except BadRequest as refused:  # 8000 on an order: its parameters were refused
            raise InvalidOrder(str(refused)) from refused
        result = self.safe_dict(response, "result", {})
        return self.safe_order(
            {
                "id": self.safe_string(result, "order_id"),
                "clientOrderId": client_order_id,
                "symbol": market["symbol"],
                "type": type,
                "side": side,
                "amount": self.safe_number(request, "amount"),
                "price": self.safe_number(request, "price"),
                "timeInForce": self.safe_string(
                    {v: k for k, v in TIME_IN_FORCE.items()}, request.get("time_in_force")
                ),
                "postOnly": request.get("post_only", False) if type == "limit" else None,
                "reduceOnly": request.get("reduce_only", False),
                "info": response,
            },
            market,
        )

    async def cancel_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        market = None if symbol is None else self.market(symbol)
        request = {"order_id": id}
        response = await self.private_post_cancel(self.extend(request, params or {}))
        result = self.safe_dict(response, "result", {})
        return self.safe_order(
            {
                "id": self.safe_string(result, "order_id", id),
                "symbol": None if market is None else market["symbol"],
                "status": "canceled",
                "info": response,
            },
            market,
        )

    async def fetch_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        """By order id, or by ``params['clientOrderId']`` (OrangeX's ``custom_order_id``):
        OrangeX has no query by it, so the market's open orders are read, then its finished
        ones, newest first, up to ``options['customOrderIdHistoryPages']`` pages of 100."""
        await self.load_markets()
        params = dict(params or {})
        client_order_id = params.pop("clientOrderId", None)
        if client_order_id is not None:
            return await self._order_by_custom_id(str(client_order_id), symbol, params)
        response = await self.private_post_get_order_state(self.extend({"order_id": id}, params))
        order = self.parse_order(self.safe_dict(response, "result", {}))
        if symbol is not None and order["symbol"] != self.symbol(symbol):
            raise OrderNotFound(f"{self.id} order {id} is not a {symbol} order")
        return order

    async def _order_by_custom_id(self, custom_id: str, symbol: Any, params: Json) -> Any:
        market = self._required_market("fetch_order", symbol)
        request = self.extend({"instrument_name": market["id"]}, params)
        response = await self.private_post_get_open_orders_by_instrument(request)
        for order in self.safe_list(response, "result", []):
            if self.safe_string(order, "custom_order_id") == custom_id:
                return self.parse_order(order, market)
        for page in range(self.safe_integer(self.options, "customOrderIdHistoryPages", 5)):
            paged = self.extend(request, {"count": HISTORY_PAGE, "offset": page * HISTORY_PAGE})
            response = await self.private_post_get_order_history_by_instrument(paged)
            finished = self.safe_list(response, "result", [])
            for order in finished:
                if self.safe_string(order, "custom_order_id") == custom_id:
                    return self.parse_order(order, market)
            if len(finished) < HISTORY_PAGE:
                break
        raise OrderNotFound(
            f"{self.id} no {market['symbol']} order has custom_order_id {custom_id}"
        )

    async def fetch_open_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        await self.load_markets()
        market = self._required_market("fetch_open_orders", symbol)
        request = self.extend({"instrument_name": market["id"]}, params or {})
        response = await self.private_post_get_open_orders_by_instrument(request)
        return self.parse_orders(self.safe_list(response, "result", []), market, since, limit)

    async def fetch_closed_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        await self.load_markets()
        market = self._required_market("fetch_closed_orders", symbol)
        request = {"instrument_name": market["id"], "count": min(limit or HISTORY_PAGE, 1000)}
        response = await self.private_post_get_order_history_by_instrument(
            self.extend(request, params or {})
        )
        return self.parse_orders(self.safe_list(response, "result", []), market, since, limit)

    def parse_order(self, order: Json, market: Any = None) -> Any:
        market = self.safe_market(self.safe_string(order, "instrument_name"), market)
        created = self.safe_integer(order, "creation_timestamp")
        order_type = self.safe_string(order, "order_type")
        fee = self.safe_string(order, "commission")
        filled = self.safe_string(order, "filled_amount")
        average = self.omit_zero(self.safe_string(order, "average_price"))
        return self.safe_order(
            {
                "id": self.safe_string(order, "order_id"),
                "clientOrderId": self.omit_zero(self.safe_string(order, "custom_order_id")),
                "symbol": market["symbol"],
                "timestamp": created,
                "datetime": self.iso8601(created),
                "lastTradeTimestamp": None,
                "lastUpdateTimestamp": self.safe_integer(order, "last_update_timestamp"),
                "type": order_type,
                "timeInForce": self.safe_string(
                    {v: k for k, v in TIME_IN_FORCE.items()},
                    self.safe_string(order, "time_in_force"),
                ),
                "postOnly": self.safe_bool(order, "post_only"),
                "reduceOnly": self.safe_bool(order, "reduce_only"),
                "side": self.safe_string(order, "direction"),
                "price": self.omit_zero(self.safe_string(order, "price")),
                "triggerPrice": self.omit_zero(self.safe_string(order, "trigger_price")),
                "amount": self.safe_string(order, "amount"),
                "filled": filled,
                "average": average,
                "cost": None if average is None else Precise.string_mul(filled or "0", average),
                "status": self.safe_string(ORDER_STATES, self.safe_string(order, "order_state")),
                "fee": None
                if fee is None
                else {"cost": self.parse_number(fee), "currency": market["settle"]},
                "trades": None,
                "info": order,
            },
            market,
        )

    async def fetch_my_trades(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        await self.load_markets()
        market = self._required_market("fetch_my_trades", symbol)
        request: Json = {"instrument_name": market["id"], "count": min(limit or 100, 1000)}
        if since is not None:
            request["start_timestamp"] = since
        response = await self.private_post_get_user_trades_by_instrument(
            self.extend(request, params or {})
        )
        fills = self.safe_list(self.safe_dict(response, "result", {}), "trades", [])
        return self.parse_trades(fills, market, since, limit)

    def parse_trade(self, trade: Json, market: Any = None) -> Any:
        market = self.safe_market(self.safe_string(trade, "instrument_name"), market)
        timestamp = self.safe_integer(trade, "timestamp")
        fee = self.safe_string(trade, "fee")
        return self.safe_trade(
            {
                "id": self.safe_string(trade, "trade_id"),
                "order": self.safe_string(trade, "order_id"),
                "symbol": market["symbol"],
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "type": self.safe_string(trade, "order_type"),
                "side": self.safe_string(trade, "direction"),
                "takerOrMaker": self.safe_string(trade, "role"),
                "price": self.safe_string(trade, "price"),
                "amount": self.safe_string(trade, "amount"),
                "cost": None,
                "fee": None
                if fee is None
                else {
                    "cost": fee,
                    "currency": self.safe_currency_code(self.safe_string(trade, "fee_coin_type")),
                },
                "info": trade,
            },
            market,
        )

    def _required_market(self, method: str, symbol: Any) -> Any:
        """OrangeX's order and fill queries are per instrument: the symbol is required."""
        if symbol is None:
            raise ArgumentsRequired(f"{self.id} {method}() requires a symbol argument")
        return self.market(symbol)
