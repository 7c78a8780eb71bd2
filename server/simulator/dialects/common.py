"""Small helpers more than one dialect uses: number formats, signatures, key ids, request
parameters. Exchange-specific rules stay in each dialect's package."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from server.simulator.instruments import ASSET_BY_CODE, Instrument
from server.simulator.ledger import ZERO, Order, Position
from server.simulator.prices import PriceBook

#: The page an exchange's edge serves when its backend is down (Binance, Bybit).
HTML_UNAVAILABLE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def plain(value: Decimal) -> str:
    """A decimal in plain notation: no exponent, no trailing zeros ("0" for zero)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def optional(value: Decimal | None) -> str:
    """A decimal as :func:`plain` writes it, or "" for none."""
    return "" if value is None else plain(value)


def hex_hmac_sha256(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def key_number(api_key: str, hex_digits: int) -> int:
    """A stable number derived from an API key (user ids and the like)."""
    return int(hashlib.sha256(api_key.encode()).hexdigest()[:hex_digits], 16)


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    """``part / whole`` to four decimals, 0 when ``whole`` is not positive."""
    return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else ZERO


def max_amount(instrument: Instrument, value: Decimal) -> Decimal:
    """The largest amount on the market's step worth at most ``value`` at its start price."""
    start = ASSET_BY_CODE[instrument.base].start_price
    steps = (value / start / instrument.amount_step).to_integral_value("ROUND_FLOOR")
    return steps * instrument.amount_step


def unit_value(prices: PriceBook, asset: str, stable: Iterable[str]) -> Decimal:
    """The USD(T) value of one unit of ``asset``: 1 for the ``stable`` coins, 0 for assets
    without a market."""
    if asset in stable:
        return Decimal(1)
    if asset not in ASSET_BY_CODE:
        return ZERO
    return prices.price(asset)


#: The quote value of a simulated order-book level (before its per-level variation).
BOOK_LEVEL_VALUE = Decimal(10_000)

Level = tuple[Decimal, Decimal]  # price, amount in the base asset


def book(
    instrument: Instrument, bid: Decimal, ask: Decimal, levels: int
) -> tuple[list[Level], list[Level]]:
    """A synthetic order book of ``levels`` prices a tick apart on each side of the touch
    (bids best first, above zero; asks best first), each level worth 10,000-25,000 USDT."""
    tick = instrument.price_tick
    bids = [bid - tick * n for n in range(levels) if bid - tick * n > 0]
    asks = [ask + tick * n for n in range(levels)]
    return (
        [(price, level_amount(instrument, price, n)) for n, price in enumerate(bids)],
        [(price, level_amount(instrument, price, n)) for n, price in enumerate(asks)],
    )


def level_amount(instrument: Instrument, price: Decimal, level: int) -> Decimal:
    """A deterministic amount for the ``level``-th level of a simulated book."""
    value = BOOK_LEVEL_VALUE * (1 + Decimal(level % 7) / 4)
    return max(instrument.min_amount, instrument.floor_amount(value / price))


def fill_value(order: Order) -> Decimal:
    """The quote value of what an order has filled."""
    return order.filled * (order.average or ZERO)


def fill_fee_rate(order: Order) -> Decimal:
    """The fee rate an order's fill paid (0 before it fills)."""
    value = fill_value(order)
    return order.fee / value if value else ZERO


def liquidation_price(position: Position, maintenance_rate: Decimal) -> Decimal | None:
    """A plausible liquidation price of a perpetual position (None when flat): the price at
    which its loss has eaten its own margin down to the maintenance margin, ``maintenance_rate``
    times size times entry price, as an isolated position is liquidated. For a cross-margin account
    this leaves the rest of its equity out, so the real price would lie further away. With a
    rate of 0 it is the bankruptcy price. On the market's price tick, never below 0."""
    size = abs(position.size)
    if size == 0:
        return None
    cushion = max(ZERO, position.margin - size * position.entry_price * maintenance_rate)
    move = cushion / size
    price = position.entry_price - move if position.size > 0 else position.entry_price + move
    return max(ZERO, position.instrument.round_price(price))


@dataclass(frozen=True, slots=True)
class DayWindow:
    """A market's last 24 hours, as rolling 24 h tickers report them."""

    open: Decimal  # the price 24 hours ago
    high: Decimal  # open, last and every hourly candle's high included
    low: Decimal
    volume: Decimal  # base asset, over the hourly candles
    turnover: Decimal  # quote asset: each hourly candle's volume at its close


def day_window(prices: PriceBook, base: str, now: float, last: Decimal) -> DayWindow:
    """The 24 hours up to ``now`` of ``base``: hourly candles plus the price 24 h ago and the
    last price, so that open and last always lie within [low, high]."""
    day = prices.candles(base, 3600, since=now - 86400 + 3600, limit=24)
    opened = prices.price(base, at=now - 86400)
    return DayWindow(
        open=opened,
        high=max([c.high for c in day] + [opened, last]),
        low=min([c.low for c in day] + [opened, last]),
        volume=sum((c.volume for c in day), ZERO),
        turnover=sum((c.volume * c.close for c in day), ZERO),
    )


class Params:
    """The parameters of one request (a query or a JSON object), read the way the exchange
    validates them. Subclasses say how the exchange refuses a missing or malformed one."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def missing(self, name: str) -> Exception:
        """The exchange's refusal of a required parameter that was not sent."""
        raise NotImplementedError

    def malformed(self, name: str, expected: str = "a number") -> Exception:
        """The exchange's refusal of a parameter that is not ``expected`` ("a number", "an
        integer") where one is needed."""
        raise NotImplementedError

    def __contains__(self, name: str) -> bool:
        return self.text(name) is not None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self.missing(name)
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise self.malformed(name, "an integer") from None

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.malformed(name) from None
        if not number.is_finite():
            raise self.malformed(name)
        return number
