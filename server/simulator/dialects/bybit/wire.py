"""What Bybit's requests and answers carry: parameters as Bybit reads them, constants and
the order details the ledger does not keep."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from server.simulator.dialects import common
from server.simulator.dialects.bybit.errors import BybitError, params_error
from server.simulator.instruments import Kind
from server.simulator.ledger import OrderStatus

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]

DEFAULT_RECV_WINDOW = 5000
FUTURE_TOLERANCE_MS = 1000  # Bybit accepts timestamps up to 1 s ahead of its clock
MAX_ORDER_VALUE = Decimal(2_000_000)  # USDT, for the advertised maximum order quantities
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
FUNDING_RATE = "0.0001"
MAINTENANCE_MARGIN_RATE = Decimal("0.005")
KLINE_SECONDS = {
    "1": 60,
    "3": 180,
    "5": 300,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "120": 7200,
    "240": 14400,
    "360": 21600,
    "720": 43200,
    "D": 86400,
}
CATEGORIES = {"spot": Kind.SPOT, "linear": Kind.LINEAR, "inverse": None, "option": None}
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
UNSUPPORTED_ORDER_PARAMS = ("triggerPrice", "takeProfit", "stopLoss", "tpslMode", "orderIv")
STATUS_NAMES = {
    OrderStatus.OPEN: "New",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
}
HTML_MAINTENANCE = (
    "<html><head><title>Bybit system maintenance</title></head>"
    "<body><h1>The system is under maintenance.</h1>"
    "<p>Trading and API services are suspended until the maintenance is complete.</p>"
    "</body></html>"
)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Params(common.Params):
    """The parameters of one request (query or JSON body), read the way Bybit validates them."""

    def missing(self, name: str) -> BybitError:
        return params_error(f"Missing some parameters that must be filled in, {name}")

    def malformed(self, name: str, expected: str = "a number") -> BybitError:
        return params_error(f"params error: {name} invalid")

    def limit(self, default: int, maximum: int) -> int:
        value = self.integer("limit", default)
        assert value is not None
        if not 1 <= value <= maximum:
            raise params_error(f"params error: limit must be between 1 and {maximum}")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def kind(self) -> Kind | None:
        """The market kind of ``category``: None for categories that list nothing here."""
        category = self.text("category")
        if category not in CATEGORIES:
            raise params_error("Illegal category")
        return CATEGORIES[category]


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What Bybit echoes about an order that the exchange-neutral ledger does not keep."""

    qty: str
    order_link_id: str
    time_in_force: str
    market_unit: str
    last_price_on_created: str
    taker: bool = False  # filled on arrival: its fill took liquidity
    margin: bool = False  # a spot margin order (isLeverage 1)
