"""What exchange access returns: exchange-neutral values, Decimal for every amount and price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AssetBalance:
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    """What the API key may do, as far as the exchange tells (None: it does not say)."""

    read: bool
    spot_trading: bool | None
    derivatives_trading: bool | None
    withdrawals: bool | None

    @property
    def trading(self) -> bool:
        return bool(self.spot_trading or self.derivatives_trading)


@dataclass(frozen=True, slots=True)
class Market:
    symbol: str
    base: str
    quote: str
    type: str  # spot | swap
    price_precision: Decimal | None
    amount_precision: Decimal | None
    min_amount: Decimal | None
    min_cost: Decimal | None
    taker_fee: Decimal | None = None  # fraction of the notional, as the exchange lists it


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    timestamp_ms: int | None
    quote_volume: Decimal | None = None  # traded in the last 24 h, in the quote asset
    change_percent: Decimal | None = None  # change of the last price over 24 h, in percent


@dataclass(frozen=True, slots=True)
class ServerTime:
    """The exchange's clock, and when the request that read it went out and came back (ms since
    the epoch, CTS's clock). Queueing for the account's limits is not part of that round trip."""

    server_ms: int
    sent_ms: float
    received_ms: float

    @property
    def latency_ms(self) -> float:
        return self.received_ms - self.sent_ms

    @property
    def drift_ms(self) -> float:
        """Exchange clock minus CTS's, at the middle of the round trip."""
        return self.server_ms - (self.sent_ms + self.received_ms) / 2


@dataclass(frozen=True, slots=True)
class Candle:
    time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class OrderInfo:
    id: str
    client_order_id: str | None
    symbol: str
    side: str
    type: str
    status: str  # open | closed | canceled
    amount: Decimal
    filled: Decimal
    price: Decimal | None
    average: Decimal | None
    fee: Decimal | None
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class PositionInfo:
    symbol: str
    side: str  # long | short
    contracts: Decimal  # as the exchange counts them
    amount: Decimal  # in the base asset: contracts times the contract size
    entry_price: Decimal | None
    unrealized_pnl: Decimal | None
