"""Pionex perpetuals (openapi_futures.yaml): their markets, positions and leverage
(``/uapi/v1/account/...``), and the request and order type of a perpetual order.

Pionex's futures orders are sized in contracts of one base unit (market orders too:
``MARKET_QTY``); time in force and post-only are order types of their own (``IOC``, ``FOK``,
``POSTONLY``); ``reduceOnly`` applies in one-way mode. Leverage is per symbol.
"""

from __future__ import annotations

from typing import Any

from ccxt.base.errors import InvalidOrder
from ccxt.base.precise import Precise

from server.exchange.venues.pionex.base import Json, PionexBase

# Pionex's futures order types → ccxt's type, time in force and post-only
FUTURES_ORDER_TYPES = {
    "LIMIT": ("limit", "GTC", False),
    "MARKET_QTY": ("market", None, None),
    "IOC": ("limit", "IOC", False),
    "FOK": ("limit", "FOK", False),
    "POSTONLY": ("limit", "PO", True),
}
TIME_IN_FORCE_TYPES = {None: "LIMIT", "GTC": "LIMIT", "IOC": "IOC", "FOK": "FOK", "PO": "POSTONLY"}


class PionexFutures(PionexBase):
    def parse_swap_market(self, market: Json) -> Any:
        """A USDT-margined perpetual (openapi_futures.yaml ``FuturesSymbolInfo``): one contract
        is one unit of the base asset."""
        market_id = self.safe_string(market, "symbol")
        base_id = self.safe_string(market, "baseCurrency")
        quote_id = self.safe_string(market, "quoteCurrency")
        base = self.safe_currency_code(base_id)
        quote = self.safe_currency_code(quote_id)
        fees = self.safe_dict(self.options, "swapFees", {})
        return self.safe_market_structure(
            {
                "id": market_id,
                "symbol": f"{base}/{quote}:{quote}",
                "base": base,
                "quote": quote,
                "settle": quote,
                "baseId": base_id,
                "quoteId": quote_id,
                "settleId": quote_id,
                "type": "swap",
                "spot": False,
                "margin": False,
                "swap": True,
                "future": False,
                "option": False,
                "contract": True,
                "linear": True,
                "inverse": False,
                "contractSize": self.parse_number("1"),
                "active": self.safe_string(market, "status") == "TRADING",
                "taker": self.safe_number(fees, "taker"),
                "maker": self.safe_number(fees, "maker"),
                "precision": {
                    "amount": self.safe_number(market, "baseStep"),
                    "price": self.safe_number(market, "quoteStep"),
                },
                "limits": {
                    "leverage": {"min": None, "max": None},
                    "amount": {
                        "min": self.safe_number(market, "minSizeLimit"),
                        "max": self.safe_number(market, "maxSizeLimit"),
                    },
                    "price": {"min": None, "max": None},
                    "cost": {"min": self.safe_number(market, "minNotional"), "max": None},
                },
                "marginModes": {"cross": True, "isolated": True},
                "created": None,
                "info": market,
            }
        )

    def futures_order_request(
        self, market: Any, type: str, side: str, amount: Any, price: Any, params: Json
    ) -> Json:
        """The body of ``POST /uapi/v1/trade/order`` (``params`` loses what it used)."""
        request: Json = {
            "symbol": market["id"],
            "side": side.upper(),
            "size": self.amount_to_precision(market["symbol"], amount),
        }
        time_in_force = params.pop("timeInForce", None)
        if params.pop("postOnly", False):
            time_in_force = "PO"
        if type == "market":
            request["type"] = "MARKET_QTY"
        elif type == "limit":
            if price is None:
                raise InvalidOrder(f"{self.id} create_order() needs a price for a limit order")
            if time_in_force not in TIME_IN_FORCE_TYPES:
                raise InvalidOrder(f"{self.id} supports the time in force GTC, IOC, FOK and PO")
            request["type"] = TIME_IN_FORCE_TYPES[time_in_force]
            request["price"] = self.price_to_precision(market["symbol"], price)
        else:
            raise InvalidOrder(f"{self.id} supports limit and market orders only, not {type}")
        reduce_only = params.pop("reduceOnly", None)
        if reduce_only is not None:
            request["reduceOnly"] = bool(reduce_only)
        return request

    @staticmethod
    def futures_order_type(wire_type: Any) -> tuple[Any, Any, Any]:
        """ccxt's (type, timeInForce, postOnly) of a Pionex futures order type."""
        return FUTURES_ORDER_TYPES.get(str(wire_type), (None, None, None))

    # -- positions ----------------------------------------------------------------------------

    async def fetch_positions(self, symbols: Any = None, params: Any = None) -> Any:
        """Open positions; with one symbol, Pionex is asked for that symbol only."""
        await self.load_markets()
        symbols = self.market_symbols(symbols)
        request: Json = {}
        if symbols and len(symbols) == 1:
            request["symbol"] = self.market_id(symbols[0])
        response = await self.private_get_uapi_account_positions(self.extend(request, params or {}))
        positions = self.safe_list(self.safe_dict(response, "data", {}), "positions", [])
        parsed = [self.parse_position(p) for p in positions]
        return self.filter_by_array_positions(parsed, "symbol", symbols)

    def parse_position(self, position: Json, market: Any = None) -> Any:
        market = self.market_of(self.safe_string(position, "symbol"), market)
        net = self.safe_string(position, "netSize", "0")
        contracts = Precise.string_abs(net)
        side = self.safe_string_lower(position, "positionSide")
        if side is None and not Precise.string_eq(net, "0"):
            side = "long" if Precise.string_gt(net, "0") else "short"
        mark = self.safe_string(position, "markPrice")
        notional = Precise.string_mul(contracts, mark) if mark is not None else None
        margin = self.safe_string(position, "initialMargin")
        pnl = self.safe_string(position, "unrealizedPnL")
        percentage = None
        if margin is not None and pnl is not None and Precise.string_gt(margin, "0"):
            percentage = Precise.string_mul(Precise.string_div(pnl, margin), "100")
        maintenance = self.safe_string(position, "maintMargin")
        ratio = None
        if margin is not None and maintenance is not None and Precise.string_gt(margin, "0"):
            ratio = Precise.string_div(maintenance, margin)
        mode = self.safe_string(position, "isolatedMode")
        created = self.safe_integer(position, "createTime")
        return self.safe_position(
            {
                "info": position,
                "id": self.safe_string(position, "positionId"),
                "symbol": market["symbol"],
                "timestamp": created,
                "datetime": self.iso8601(created),
                "lastUpdateTimestamp": self.safe_integer(position, "updateTime"),
                "initialMargin": self.parse_number(margin),
                "initialMarginPercentage": None,
                "maintenanceMargin": self.parse_number(maintenance),
                "maintenanceMarginPercentage": None,
                "entryPrice": self.safe_number(position, "avgPrice"),
                "notional": self.parse_number(notional),
                "leverage": self.safe_number(position, "leverage"),
                "unrealizedPnl": self.parse_number(pnl),
                "realizedPnl": None,
                "contracts": self.parse_number(contracts),
                "contractSize": market["contractSize"],
                "marginRatio": self.parse_number(ratio),
                "liquidationPrice": self.parse_number(
                    self.omit_zero(self.safe_string(position, "liquidationPrice"))
                ),
                "markPrice": self.parse_number(mark),
                "lastPrice": None,
                "collateral": self.parse_number(margin),
                "marginMode": None
                if mode is None
                else ("cross" if mode == "CROSS" else "isolated"),
                "side": side,
                "hedged": False,
                "percentage": self.parse_number(percentage),
                "stopLossPrice": None,
                "takeProfitPrice": None,
            }
        )

    # -- leverage -----------------------------------------------------------------------------

    async def set_leverage(self, leverage: Any, symbol: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        request = {"symbol": market["id"], "leverage": str(int(leverage))}
        return await self.private_post_uapi_account_leverage(self.extend(request, params or {}))

    async def fetch_leverage(self, symbol: str, params: Any = None) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        response = await self.private_get_uapi_account_leverage(
            self.extend({"symbol": market["id"]}, params or {})
        )
        return self.parse_leverage(self.safe_dict(response, "data", {}), market)

    def parse_leverage(self, leverage: Json, market: Any = None) -> Any:
        market = self.market_of(self.safe_string(leverage, "symbol"), market)
        value = self.safe_integer(leverage, "leverage")
        return {
            "info": leverage,
            "symbol": market["symbol"],
            "marginMode": None,
            "longLeverage": value,
            "shortLeverage": value,
        }
