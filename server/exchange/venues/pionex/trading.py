"""Pionex, part two: orders and fills, spot (``/api/v1/trade/...``) and perpetual
(``/uapi/v1/trade/...``), chosen by the order's market."""

from __future__ import annotations

from typing import Any

from ccxt.base.errors import ArgumentsRequired, InvalidOrder, OrderNotFound
from ccxt.base.precise import Precise

from server.exchange.venues.pionex.base import Json
from server.exchange.venues.pionex.futures import PionexFutures


class pionex(PionexFutures):
    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Any,
        price: Any = None,
        params: Any = None,
    ) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        params = dict(params or {})
        client_order_id = params.pop("clientOrderId", None)
        if market["swap"]:
            body = self.futures_order_request(market, type, side, amount, price, params)
            if client_order_id is not None:
                body["clientOrderId"] = client_order_id
            response = await self.private_post_uapi_trade_order(self.extend(body, params))
            return self.placed_order(response, market, type, side, amount, price, client_order_id)
        request: Json = {
            "symbol": market["id"],
            "side": side.upper(),
            "type": type.upper(),
        }
        if client_order_id is not None:
            request["clientOrderId"] = client_order_id
        if type == "market":
            if side == "buy":
                cost = await self._market_buy_cost(market, amount, price, params)
                request["amount"] = self.cost_to_precision(symbol, cost)
                params.pop("cost", None)
            else:
                request["size"] = self.amount_to_precision(symbol, amount)
        elif type == "limit":
            if price is None:
                raise InvalidOrder(f"{self.id} create_order() needs a price for a limit order")
            request["size"] = self.amount_to_precision(symbol, amount)
            request["price"] = self.price_to_precision(symbol, price)
            time_in_force = params.pop("timeInForce", None)
            if time_in_force == "IOC":
                request["IOC"] = True
            elif time_in_force not in (None, "GTC"):
                raise InvalidOrder(f"{self.id} supports the time in force GTC and IOC only")
        else:
            raise InvalidOrder(f"{self.id} supports limit and market orders only, not {type}")
        response = await self.private_post_trade_order(self.extend(request, params))
        sized_by_cost = type == "market" and side == "buy"
        return self.placed_order(
            response, market, type, side, None if sized_by_cost else amount, price, client_order_id
        )

    def placed_order(
        self,
        response: Json,
        market: Any,
        type: str,
        side: str,
        amount: Any,
        price: Any,
        client_order_id: Any,
    ) -> Any:
        """What an order's placement tells: its id (Pionex answers nothing else)."""
        data = self.safe_dict(response, "data", {})
        return self.safe_order(
            {
                "id": self.safe_string(data, "orderId"),
                "clientOrderId": self.safe_string(data, "clientOrderId", client_order_id),
                "symbol": market["symbol"],
                "type": type,
                "side": side,
                "amount": amount,
                "price": price if type == "limit" else None,
                "info": response,
            },
            market,
        )

    async def _market_buy_cost(self, market: Any, amount: Any, price: Any, params: Json) -> str:
        """Pionex sizes market buys in the quote asset: ``params['cost']``, or amount x price
        (ccxt's ``createMarketBuyOrderRequiresPrice``), or the amount itself when that option
        is off. With the option ``marketBuyCostFromBook`` (CTS sets it), a market buy without
        a price costs amount x the best ask, read just before."""
        cost = self.safe_string(params, "cost")
        if cost is not None:
            return str(cost)
        if not self.options.get("createMarketBuyOrderRequiresPrice", True):
            return str(amount)
        if price is None and self.options.get("marketBuyCostFromBook"):
            book = await self.public_get_market_booktickers({"symbol": market["id"]})
            rows = self.safe_list(self.safe_dict(book, "data", {}), "tickers", [])
            price = self.safe_string(rows[0] if rows else {}, "askPrice")
        if price is None:
            raise InvalidOrder(
                f"{self.id} a market buy is sized in the quote asset: pass the price (the cost is "
                "amount x price), params['cost'], or use create_market_buy_order_with_cost"
            )
        return str(Precise.string_mul(self.number_to_string(amount), self.number_to_string(price)))

    async def create_market_buy_order_with_cost(
        self, symbol: str, cost: Any, params: Any = None
    ) -> Any:
        return await self.create_order(
            symbol, "market", "buy", cost, None, self.extend(params or {}, {"cost": str(cost)})
        )

    async def cancel_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        market = await self._required_market("cancel_order", symbol)
        # Pionex's order ids are integers; anything else goes as sent, for Pionex to refuse.
        request = {"symbol": market["id"], "orderId": int(id) if str(id).isdigit() else id}
        request = self.extend(request, params or {})
        if market["swap"]:
            response = await self.private_delete_uapi_trade_order(request)
        else:
            response = await self.private_delete_trade_order(request)
        return self.safe_order(
            {"id": id, "symbol": market["symbol"], "status": "canceled", "info": response}, market
        )

    async def fetch_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        """By order id, or by ``params['clientOrderId']`` (Pionex's orderByClientOrderId).
        Pionex looks spot orders up account-wide: with a symbol, an order of another market is
        not found. Perpetual orders are looked up in their symbol (required)."""
        await self.load_markets()
        params = dict(params or {})
        client_order_id = params.pop("clientOrderId", None)
        swap, params = self.is_swap_call("fetch_order", symbol, params)
        if swap:
            market = await self._required_market("fetch_order", symbol)
            request: Json = {"symbol": market["id"]}
            if client_order_id is not None:
                request["clientOrderId"] = client_order_id
                response = await self.private_get_uapi_trade_orderbyclientorderid(
                    self.extend(request, params)
                )
            else:
                request["orderId"] = id
                response = await self.private_get_uapi_trade_order(self.extend(request, params))
        elif client_order_id is not None:
            response = await self.private_get_trade_orderbyclientorderid(
                self.extend({"clientOrderId": client_order_id}, params)
            )
        else:
            response = await self.private_get_trade_order(self.extend({"orderId": id}, params))
        order = self.parse_order(self.safe_dict(response, "data", {}))
        if symbol is not None and order["symbol"] != self.symbol(symbol):
            raise OrderNotFound(f"{self.id} order {id or client_order_id} is not a {symbol} order")
        return order

    async def fetch_open_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        await self.load_markets()
        swap, params = self.is_swap_call("fetch_open_orders", symbol, params)
        if swap:  # perpetuals: one symbol or all
            market = None if symbol is None else self.market(symbol)
            request = {} if market is None else {"symbol": market["id"]}
            response = await self.private_get_uapi_trade_openorders(self.extend(request, params))
        else:
            market = await self._required_market("fetch_open_orders", symbol)
            request = self.extend({"symbol": market["id"]}, params)
            response = await self.private_get_trade_openorders(request)
        orders = self.safe_list(self.safe_dict(response, "data", {}), "orders", [])
        return self.parse_orders(orders, market, since, limit)

    async def fetch_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        market = await self._required_market("fetch_orders", symbol)
        request: Json = {"symbol": market["id"]}
        if since is not None:
            request["startTime"] = since
        if limit is not None:
            request["limit"] = min(limit, 200)
        request = self.extend(request, params or {})
        if market["swap"]:  # closed ones (historyOrders), then the open ones
            history = await self.private_get_uapi_trade_historyorders(request)
            current = await self.private_get_uapi_trade_openorders({"symbol": market["id"]})
            orders = [
                *self.safe_list(self.safe_dict(history, "data", {}), "orders", []),
                *self.safe_list(self.safe_dict(current, "data", {}), "orders", []),
            ]
        else:
            response = await self.private_get_trade_allorders(request)
            orders = self.safe_list(self.safe_dict(response, "data", {}), "orders", [])
        return self.parse_orders(orders, market, since, limit)

    async def fetch_closed_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        orders = await self.fetch_orders(symbol, since, None, params)
        done = [o for o in orders if o["status"] in ("closed", "canceled")]
        return self.filter_by_since_limit(done, since, limit)

    def parse_order(self, order: Json, market: Any = None) -> Any:
        market = self.market_of(self.safe_string(order, "symbol"), market)
        size = self.safe_string(order, "size")
        filled = self.safe_string(order, "filledSize")
        status = self.safe_string(order, "status")
        if status == "OPEN":
            unified_status = "open"
        elif status == "CLOSED":
            # Pionex knows OPEN and CLOSED only: closed with less than its size filled (or,
            # for a market buy sized by cost, nothing filled) is ccxt's "canceled".
            whole = (
                Precise.string_ge(filled or "0", size)
                if size
                else Precise.string_gt(filled or "0", "0")
            )
            unified_status = "closed" if whole else "canceled"
        else:
            unified_status = None
        if market["swap"]:
            order_type, time_in_force, post_only = self.futures_order_type(order.get("type"))
        else:
            order_type = self.safe_string_lower(order, "type")
            ioc = self.safe_bool(order, "IOC")
            time_in_force = "IOC" if ioc else ("GTC" if order_type == "limit" else None)
            post_only = False if order_type == "limit" else None
        fee_cost = self.safe_string(order, "fee")
        created = self.safe_integer(order, "createTime")
        return self.safe_order(
            {
                "id": self.safe_string(order, "orderId"),
                "clientOrderId": self.safe_string(order, "clientOrderId"),
                "symbol": market["symbol"],
                "timestamp": created,
                "datetime": self.iso8601(created),
                "lastTradeTimestamp": None,
                "lastUpdateTimestamp": self.safe_integer(order, "updateTime"),
                "type": order_type,
                "timeInForce": time_in_force,
                "postOnly": post_only,
                "reduceOnly": self.safe_bool(order, "reduceOnly"),
                "side": self.safe_string_lower(order, "side"),
                "price": self.omit_zero(self.safe_string(order, "price")),
                "triggerPrice": None,
                "amount": size,
                "cost": self.safe_string(order, "filledAmount"),
                "filled": filled,
                "status": unified_status,
                "fee": None
                if fee_cost is None
                else {
                    "cost": self.parse_number(fee_cost),  # safe_order keeps "fee" as given
                    "currency": self.safe_currency_code(self.safe_string(order, "feeCoin")),
                },
                "trades": None,
                "info": order,
            },
            market,
        )

    async def fetch_my_trades(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        market = await self._required_market("fetch_my_trades", symbol)
        request: Json = {"symbol": market["id"]}
        if since is not None:
            request["startTime"] = since
        request = self.extend(request, params or {})
        if market["swap"]:
            response = await self.private_get_uapi_trade_fills(request)
        else:
            response = await self.private_get_trade_fills(request)
        fills = self.safe_list(self.safe_dict(response, "data", {}), "fills", [])
        return self.parse_trades(fills, market, since, limit)

    def parse_trade(self, trade: Json, market: Any = None) -> Any:
        market = self.market_of(self.safe_string(trade, "symbol"), market)
        timestamp = self.safe_integer(trade, "timestamp")
        fee_cost = self.safe_string(trade, "fee")
        return self.safe_trade(
            {
                "id": self.safe_string(trade, "id"),
                "order": self.safe_string(trade, "orderId"),
                "symbol": market["symbol"],
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "type": None,
                "side": self.safe_string_lower(trade, "side"),
                "takerOrMaker": self.safe_string_lower(trade, "role"),
                "price": self.safe_string(trade, "price"),
                "amount": self.safe_string(trade, "size"),
                "cost": None,
                "fee": None
                if fee_cost is None
                else {
                    "cost": fee_cost,
                    "currency": self.safe_currency_code(self.safe_string(trade, "feeCoin")),
                },
                "info": trade,
            },
            market,
        )

    async def _required_market(self, method: str, symbol: Any) -> Any:
        """Pionex's order and fill queries are per market: the symbol is required."""
        if symbol is None:
            raise ArgumentsRequired(f"{self.id} {method}() requires a symbol argument")
        await self.load_markets()
        return self.market(symbol)
