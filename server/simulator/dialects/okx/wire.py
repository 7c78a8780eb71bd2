"""What OKX's requests and answers carry: parameters as OKX reads them, constants and the
order details the ledger does not keep."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from server.simulator.dialects import common
from server.simulator.dialects.okx.errors import OkxError, param_empty, param_error
from server.simulator.instruments import Kind
from server.simulator.ledger import OrderStatus

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]

PREFIX = "/api/v5/"
TIMESTAMP_TOLERANCE_MS = 30_000  # OKX refuses requests more than 30 s from its clock
CONTRACT_STEPS = 100  # a swap contract is worth this many amount steps of the base asset
LOT_SIZE = Decimal("0.01")  # contracts
MAX_ORDER_VALUE = Decimal(2_000_000)  # USDT, for the advertised maximum order sizes
MAX_MARKET_VALUE = Decimal(1_000_000)  # USDT, spot market orders (maxMktSz)
MAINTENANCE_MARGIN_RATE = Decimal("0.005")
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
HONG_KONG_MS = 8 * HOUR_MS  # OKX's bars without "utc" start at midnight UTC+8
MONDAY_MS = 3 * DAY_MS  # weeks start on Monday; the epoch was a Thursday
# bar → (length, offset): bars start where (start + offset) % length == 0
BARS: dict[str, tuple[int, int]] = {
    "1m": (60_000, 0),
    "3m": (180_000, 0),
    "5m": (300_000, 0),
    "15m": (900_000, 0),
    "30m": (1_800_000, 0),
    "1H": (HOUR_MS, 0),
    "2H": (2 * HOUR_MS, 0),
    "4H": (4 * HOUR_MS, 0),
    "6H": (6 * HOUR_MS, HONG_KONG_MS),
    "12H": (12 * HOUR_MS, HONG_KONG_MS),
    "1D": (DAY_MS, HONG_KONG_MS),
    "2D": (2 * DAY_MS, HONG_KONG_MS),
    "3D": (3 * DAY_MS, HONG_KONG_MS),
    "1W": (7 * DAY_MS, MONDAY_MS + HONG_KONG_MS),
    "6Hutc": (6 * HOUR_MS, 0),
    "12Hutc": (12 * HOUR_MS, 0),
    "1Dutc": (DAY_MS, 0),
    "2Dutc": (2 * DAY_MS, 0),
    "3Dutc": (3 * DAY_MS, 0),
    "1Wutc": (7 * DAY_MS, MONDAY_MS),
}
INST_TYPES = {"SPOT": Kind.SPOT, "SWAP": Kind.LINEAR, "MARGIN": None, "FUTURES": None}
INST_TYPE_OF = {Kind.SPOT: "SPOT", Kind.LINEAR: "SWAP"}
ORDER_TYPES = ("market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc")
ALGO_PARAMS = ("attachAlgoOrds", "tpTriggerPx", "slTriggerPx", "triggerPx", "callbackRatio")
STATE_NAMES = {
    OrderStatus.OPEN: "live",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
}
CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TAG = re.compile(r"^[A-Za-z0-9]{0,16}$")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


class Params(common.Params):
    """The parameters of one request (query or one JSON object), read as OKX validates them."""

    def missing(self, name: str) -> OkxError:
        return param_empty(name)

    def malformed(self, name: str, expected: str = "a number") -> OkxError:
        return param_error(name)

    def limit(self, default: int, maximum: int) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if value < 1:
            raise param_error("limit")
        return min(value, maximum)

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() == "true"

    def inst_type(self, *, required: bool) -> Kind | str | None:
        """The ``instType``: a market kind, None for types that list nothing here, or "" if
        absent and optional."""
        text = self.text("instType")
        if text is None:
            if required:
                raise param_empty("instType")
            return ""
        if text not in INST_TYPES and text != "OPTION":
            raise param_error("instType")
        return INST_TYPES.get(text)


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What OKX echoes about an order that the exchange-neutral ledger does not keep."""

    sz: str
    cl_ord_id: str
    tag: str
    ord_type: str
    td_mode: str
    tgt_ccy: str
    taker: bool = False  # filled on arrival: its fill took liquidity
    ccy: str = ""  # a cross margin spot order's margin currency
