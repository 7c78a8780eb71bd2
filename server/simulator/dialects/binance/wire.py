"""What Binance's requests carry: the API families, parameters as Binance parses them, and the
constants of its markets."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from server.simulator.dialects.binance.errors import illegal, missing
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import ZERO, Account, Side

Json = dict[str, Any]

DEFAULT_RECV_WINDOW = Decimal(5000)
MAX_RECV_WINDOW = Decimal(60000)
MAX_PRICE = Decimal(1_000_000)
MAX_QTY_STEPS = Decimal(10_000_000)  # maxQty is this many steps of the market's stepSize
BOOK_LEVEL_VALUE = Decimal(20_000)  # quote value of each simulated order-book level
ONBOARD_MS = 1_569_398_400_000
PERPETUAL_DELIVERY_MS = 4_133_404_800_000
CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INTEGER_PATTERN = r"^[0-9]{1,20}$"
SPOT_ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET")
FUTURES_ORDER_TYPES = ("LIMIT", "MARKET")
SPOT_TIME_IN_FORCE = ("GTC", "IOC", "FOK")
# What a margin order does about loans (the simulator lends nothing: see margin.py).
SIDE_EFFECTS = ("NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY", "AUTO_BORROW_REPAY")
FUTURES_TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX")
KLINE_INTERVALS = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
}
# (notional floor, notional cap, initial leverage, maintenance margin ratio); the first
# bracket's leverage is the market's maximum.
BRACKETS = (
    (Decimal(0), Decimal(50_000), 0, Decimal("0.005")),
    (Decimal(50_000), Decimal(250_000), 50, Decimal("0.01")),
    (Decimal(250_000), Decimal(1_000_000), 20, Decimal("0.025")),
    (Decimal(1_000_000), Decimal(10_000_000), 10, Decimal("0.05")),
    (Decimal(10_000_000), Decimal(50_000_000), 5, Decimal("0.1")),
)


class Family(StrEnum):
    """Which of Binance's APIs a path belongs to."""

    SPOT = "spot"  # /api/v3 and /sapi
    MARGIN = "margin"  # /sapi/v1/margin: the cross margin account, on the spot markets
    FUTURES = "futures"  # /fapi (USDⓈ-M)
    COIN = "coin"  # /dapi (COIN-M): answered, but lists no markets


class Security(StrEnum):
    """Binance's endpoint security types, as far as the simulator needs them."""

    NONE = "NONE"  # public market data
    USER_DATA = "USER_DATA"  # signed, reading
    TRADE = "TRADE"  # signed, needs the API's trading permission


KIND = {Family.SPOT: Kind.SPOT, Family.MARGIN: Kind.SPOT, Family.FUTURES: Kind.LINEAR}


def fmt(value: Decimal, places: int = 8) -> str:
    """A number as Binance writes it: a plain decimal string with ``places`` decimals."""
    return f"{value:.{places}f}"


@dataclass
class Call:
    """One request to an endpoint: its API, parameters and (for signed endpoints) account."""

    family: Family
    params: dict[str, str]
    account: Account | None = None

    @property
    def user(self) -> Account:
        assert self.account is not None, "a signed endpoint always has an account"
        return self.account

    @property
    def kind(self) -> Kind:
        return KIND[self.family]

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise missing(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(DECIMAL_PATTERN, value):
            raise illegal(name, DECIMAL_PATTERN)
        return Decimal(value)

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(INTEGER_PATTERN, value):
            raise illegal(name, INTEGER_PATTERN)
        return int(value)

    def flag(self, name: str) -> bool:
        return (self.text(name) or "false").lower() == "true"


@dataclass
class OrderMeta:
    """What Binance reports about an order that the exchange-neutral ledger does not keep."""

    type: str
    time_in_force: str
    quote_qty: Decimal = ZERO
    expired: bool = False
    taker: bool = False
    realized_pnl: Decimal = ZERO
    margin: bool = False  # placed in the cross margin account (/sapi/v1/margin/order)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new-order request, parsed and checked against the market's filters."""

    instrument: Instrument
    side: Side
    type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal | None
    client_order_id: str
    reduce_only: bool
    quote_qty: Decimal
    response_type: str


@dataclass(frozen=True, slots=True)
class DayStats:
    """Rolling 24-hour statistics of a market."""

    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_ms: int
    close_ms: int


Handler = Callable[[Call], Any]


def random_id() -> str:
    """A client order id as Binance generates one when none is sent."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(22))
