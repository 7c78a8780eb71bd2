"""Accounts, balances, orders and positions of a simulated exchange, in exchange-neutral terms.

Dialects (the Binance, Bybit and OKX wire formats) translate requests into calls on a
:class:`Ledger` and its results into their own response shapes and error codes.

Rules, kept simple but consistent:
- One wallet per account, shared by spot and derivatives (like a unified account).
- Market orders fill at once at the current price ± one tick (buy at the ask, sell at the bid),
  paying the taker fee. Limit orders that cross fill at once as takers at their limit price
  (or better); others rest, lock their funds, and fill as makers when the price reaches them
  (checked on every request and by :meth:`Ledger.match`).
- Spot fees are paid in the quote asset. Linear perps are one-way (net) positions per market,
  margined in USDT at the account's leverage, with fees and realised PnL in USDT.
- A client order id is unique per account among its open and recent orders.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from server.simulator.instruments import QUOTE, Instrument, Kind, instruments
from server.simulator.prices import PriceBook

ZERO = Decimal(0)


class LedgerError(Exception):
    """Base of the refusals a dialect turns into the exchange's own error codes."""


class UnknownInstrument(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    pass


class InvalidOrder(LedgerError):
    pass


class DuplicateClientOrderId(LedgerError):
    pass


class OrderNotFound(LedgerError):
    pass


class TradingNotAllowed(LedgerError):
    pass


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"


@dataclass
class Permissions:
    read: bool = True
    spot: bool = True
    derivatives: bool = True
    withdraw: bool = False


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass
class Order:
    id: str
    client_order_id: str
    instrument: Instrument
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None  # limit price
    created_ms: int
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = ZERO
    average: Decimal | None = None
    fee: Decimal = ZERO
    fee_asset: str = QUOTE
    updated_ms: int = 0
    reduce_only: bool = False
    locked: Decimal = ZERO  # funds reserved while open

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled


@dataclass
class Position:
    """A net position on a linear perp: positive size long, negative short."""

    instrument: Instrument
    size: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    margin: Decimal = ZERO
    updated_ms: int = 0

    @property
    def side(self) -> str:
        return "long" if self.size > 0 else "short" if self.size < 0 else "flat"

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.entry_price) * self.size


@dataclass
class Account:
    """One API key of one simulated exchange."""

    exchange: str
    api_key: str
    secret: str
    passphrase: str | None = None
    permissions: Permissions = field(default_factory=Permissions)
    balances: dict[str, Balance] = field(default_factory=dict)
    leverage: int = 10
    margin_mode: str = "cross"
    revoked: bool = False
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)

    def balance(self, asset: str) -> Balance:
        return self.balances.setdefault(asset, Balance())


class Ledger:
    """The books of one simulated exchange: its markets, accounts and their orders."""

    def __init__(
        self, exchange: str, prices: PriceBook, clock: Callable[[], float] = time.time
    ) -> None:
        self.exchange = exchange
        self.prices = prices
        self.clock = clock
        self.instruments = instruments()
        self._by_key = {(i.base, i.kind): i for i in self.instruments}
        self.accounts: dict[str, Account] = {}
        self._order_ids = itertools.count(int(clock() * 1000) % 10**9 * 1000)

    # -- accounts -----------------------------------------------------------------------------

    def open_account(
        self,
        api_key: str,
        secret: str,
        *,
        passphrase: str | None = None,
        balances: dict[str, Decimal | str | int] | None = None,
        permissions: Permissions | None = None,
    ) -> Account:
        account = Account(self.exchange, api_key, secret, passphrase, permissions or Permissions())
        for asset, amount in (balances or {}).items():
            account.balances[asset] = Balance(free=Decimal(str(amount)))
        self.accounts[api_key] = account
        return account

    # -- markets ------------------------------------------------------------------------------

    def instrument(self, base: str, kind: Kind) -> Instrument:
        try:
            return self._by_key[(base, kind)]
        except KeyError:
            raise UnknownInstrument(f"{base} {kind}") from None

    def last_price(self, instrument: Instrument) -> Decimal:
        return self.prices.price(instrument.base)

    def bid_ask(self, instrument: Instrument) -> tuple[Decimal, Decimal]:
        last = self.last_price(instrument)
        return last - instrument.price_tick, last + instrument.price_tick

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- orders -------------------------------------------------------------------------------

    def place(
        self,
        account: Account,
        instrument: Instrument,
        side: Side,
        order_type: OrderType,
        amount: Decimal,
        *,
        price: Decimal | None = None,
        client_order_id: str | None = None,
        reduce_only: bool = False,
    ) -> Order:
        self.match(account)
        if instrument.kind is Kind.SPOT and not account.permissions.spot:
            raise TradingNotAllowed("spot trading is not enabled for this key")
        if instrument.kind is Kind.LINEAR and not account.permissions.derivatives:
            raise TradingNotAllowed("derivatives trading is not enabled for this key")
        if client_order_id and any(
            o.client_order_id == client_order_id for o in account.orders.values()
        ):
            raise DuplicateClientOrderId(client_order_id)
        amount = instrument.floor_amount(amount)
        if amount < instrument.min_amount:
            raise InvalidOrder(f"amount below the minimum {instrument.min_amount}")
        if order_type is OrderType.LIMIT:
            if price is None or price <= 0:
                raise InvalidOrder("a limit order needs a positive price")
            price = instrument.round_price(price)
        reference = price if price is not None else self.last_price(instrument)
        if amount * reference < instrument.min_notional:
            raise InvalidOrder(f"order value below the minimum {instrument.min_notional} {QUOTE}")
        now = self.now_ms()
        order_id = str(next(self._order_ids))
        order = Order(
            id=order_id,
            client_order_id=client_order_id or f"sim-{order_id}",
            instrument=instrument,
            side=side,
            type=order_type,
            amount=amount,
            price=price,
            created_ms=now,
            updated_ms=now,
            reduce_only=reduce_only,
        )
        bid, ask = self.bid_ask(instrument)
        crosses = order_type is OrderType.MARKET or (
            (side is Side.BUY and price is not None and price >= ask)
            or (side is Side.SELL and price is not None and price <= bid)
        )
        if crosses:
            fill_price = (
                (ask if side is Side.BUY else bid) if order_type is OrderType.MARKET else price
            )
            assert fill_price is not None
            self._fill(account, order, fill_price, instrument.taker_fee)
        else:
            self._lock(account, order)
        account.orders[order.id] = order
        return order

    def cancel(
        self, account: Account, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self.match(account)
        order = self.find(account, order_id=order_id, client_order_id=client_order_id)
        if order.status is not OrderStatus.OPEN:
            raise OrderNotFound(f"order {order.id} is {order.status}")
        self._unlock(account, order)
        order.status = OrderStatus.CANCELED
        order.updated_ms = self.now_ms()
        return order

    def find(
        self, account: Account, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        for order in account.orders.values():
            if (order_id and order.id == order_id) or (
                client_order_id and order.client_order_id == client_order_id
            ):
                return order
        raise OrderNotFound(order_id or client_order_id or "")

    def open_orders(self, account: Account, instrument: Instrument | None = None) -> list[Order]:
        self.match(account)
        return [
            o
            for o in account.orders.values()
            if o.status is OrderStatus.OPEN and (instrument is None or o.instrument == instrument)
        ]

    def positions(self, account: Account) -> list[Position]:
        self.match(account)
        return [p for p in account.positions.values() if p.size != 0]

    def match(self, account: Account) -> None:
        """Fill the account's resting limit orders that the price has reached."""
        for order in list(account.orders.values()):
            if order.status is not OrderStatus.OPEN or order.price is None:
                continue
            last = self.last_price(order.instrument)
            if (order.side is Side.BUY and last <= order.price) or (
                order.side is Side.SELL and last >= order.price
            ):
                self._unlock(account, order)
                self._fill(account, order, order.price, order.instrument.maker_fee)

    # -- settlement ---------------------------------------------------------------------------

    def _lock(self, account: Account, order: Order) -> None:
        instrument = order.instrument
        assert order.price is not None
        if instrument.kind is Kind.SPOT:
            if order.side is Side.BUY:
                asset, need = (
                    instrument.quote,
                    order.amount * order.price * (1 + instrument.maker_fee),
                )
            else:
                asset, need = instrument.base, order.amount
        else:
            asset, need = QUOTE, order.amount * order.price / account.leverage
        balance = account.balance(asset)
        if balance.free < need:
            raise InsufficientFunds(f"needs {need} {asset}, has {balance.free}")
        balance.free -= need
        balance.locked += need
        order.locked = need

    def _unlock(self, account: Account, order: Order) -> None:
        if order.locked:
            asset = (
                order.instrument.quote
                if order.instrument.kind is not Kind.SPOT or order.side is Side.BUY
                else order.instrument.base
            )
            balance = account.balance(asset)
            balance.locked -= order.locked
            balance.free += order.locked
            order.locked = ZERO

    def _fill(self, account: Account, order: Order, price: Decimal, fee_rate: Decimal) -> None:
        instrument = order.instrument
        amount = order.remaining
        value = amount * price
        fee = value * fee_rate
        if instrument.kind is Kind.SPOT:
            self._settle_spot(account, instrument, order.side, amount, value, fee)
        else:
            self._settle_linear(account, instrument, order, amount, price, fee)
        order.filled = order.amount
        order.average = price
        order.fee += fee
        order.status = OrderStatus.FILLED
        order.updated_ms = self.now_ms()

    @staticmethod
    def _settle_spot(
        account: Account,
        instrument: Instrument,
        side: Side,
        amount: Decimal,
        value: Decimal,
        fee: Decimal,
    ) -> None:
        base, quote = account.balance(instrument.base), account.balance(instrument.quote)
        if side is Side.BUY:
            if quote.free < value + fee:
                raise InsufficientFunds(f"needs {value + fee} {instrument.quote}, has {quote.free}")
            quote.free -= value + fee
            base.free += amount
        else:
            if base.free < amount:
                raise InsufficientFunds(f"needs {amount} {instrument.base}, has {base.free}")
            base.free -= amount
            quote.free += value - fee

    def _settle_linear(
        self,
        account: Account,
        instrument: Instrument,
        order: Order,
        amount: Decimal,
        price: Decimal,
        fee: Decimal,
    ) -> None:
        wallet = account.balance(QUOTE)
        position = account.positions.setdefault(instrument.symbol, Position(instrument))
        signed = amount if order.side is Side.BUY else -amount
        if order.reduce_only and (position.size == 0 or (position.size > 0) == (signed > 0)):
            raise InvalidOrder("reduce-only order would not reduce the position")
        opening = position.size == 0 or (position.size > 0) == (signed > 0)
        if opening:
            margin = amount * price / account.leverage
            if wallet.free < margin + fee:
                raise InsufficientFunds(f"needs {margin + fee} {QUOTE} margin, has {wallet.free}")
            total = position.size + signed
            position.entry_price = (
                position.entry_price * abs(position.size) + price * amount
            ) / abs(total)
            position.size = total
            wallet.free -= margin + fee
            wallet.locked += margin
            position.margin += margin
        else:
            closing = min(amount, abs(position.size))
            if order.reduce_only and amount > abs(position.size):
                amount = closing
            pnl = (price - position.entry_price) * closing * (1 if position.size > 0 else -1)
            released = position.margin * closing / abs(position.size)
            position.margin -= released
            wallet.locked -= released
            wallet.free += released + pnl - fee
            position.realized_pnl += pnl
            position.size += closing if position.size < 0 else -closing
            leftover = amount - closing
            if position.size == 0:
                position.entry_price = ZERO
            if leftover > 0:  # the order flips the position
                margin = leftover * price / account.leverage
                wallet.free -= margin
                wallet.locked += margin
                position.margin = margin
                position.size = leftover if order.side is Side.BUY else -leftover
                position.entry_price = price
        position.updated_ms = self.now_ms()
