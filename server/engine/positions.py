"""A position as stored, streamed and shown (:class:`PositionView`), its mode, status and
close reasons, and the pseudo fill model (:class:`Fills`): what the book
(:mod:`server.engine.book`), the live desk (:mod:`server.engine.live`) and storage share.

Quantities and averages are rounded down to 12 decimal places, fees and PnL to 12 places
half-even (see the book's rules).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from server.engine import strategies
from server.engine.strategies import Side

QUANTITY = Decimal("1e-12")
MONEY = Decimal("1e-12")


class Mode(StrEnum):
    PSEUDO = "pseudo"
    LIVE = "live"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Reason(StrEnum):
    """Why a position closed: its strategy's exits, or outside the strategies."""

    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    ENGINE_STOP = "engine_stop"  # the engine was stopped with "close positions"
    CLOSED_ON_EXCHANGE = "closed_on_exchange"  # a live position gone at the exchange
    ORDER_FAILED = "order_failed"  # a live position whose opening order did not happen
    # A live position whose pseudo position was no longer open at the engine's start (it closed
    # while the close order could not go out, or was lost in a crash): closed then.
    FOLLOWED_CLOSED = "followed_closed"
    MANUAL = "manual"  # closed on a user's request (ClosePosition)


def quantity(value: Decimal) -> Decimal:
    return value.quantize(QUANTITY, rounding=ROUND_DOWN)


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position as stored, streamed and shown."""

    id: uuid.UUID
    connection_id: str
    mode: Mode
    set_id: str
    symbol: str
    state: strategies.Position
    fees: Decimal
    status: Status = Status.OPEN
    exit_price: Decimal | None = None
    realized_pnl: Decimal | None = None
    close_reason: str | None = None
    follows: uuid.UUID | None = None
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    closed_at: datetime | None = None
    mark_price: Decimal | None = None  # the last price seen (not stored)
    # What a reader made of this very view and keeps for the next one (its wire form): a view
    # never changes, and a copy (a re-mark, a fill) starts without it.
    memo: object = field(default=None, init=False, compare=False, repr=False)

    @property
    def side(self) -> Side:
        return self.state.side

    @property
    def notional(self) -> Decimal:
        """Quantity at the average entry price (quote currency)."""
        return self.state.quantity * self.state.average_price

    @property
    def unrealized_pnl(self) -> Decimal | None:
        if self.status is Status.CLOSED or self.mark_price is None:
            return None
        return money(strategies.unrealized_pnl(self.state, self.mark_price))

    def marked_at(self, price: Decimal) -> PositionView:
        """This position with ``price`` as its mark: ``replace(self, mark_price=price)`` at a
        third of its cost (every engine re-marks every open position every period)."""
        return _marked_at(self, price)

    def restated(self, state: strategies.Position, price: Decimal) -> PositionView:
        """This position with another running ``state``, marked at ``price``: ``replace(self,
        state=state, mark_price=price)`` at a fraction of its cost (a trailing position's state
        moves with its price, cycle after cycle)."""
        return _restated(self, state, price)


def _unrolled_copy(*changed: str) -> Callable[..., PositionView]:
    """A function of a view and new values of the ``changed`` fields: a copy of the view with
    those values, its fields set one by one as the frozen dataclass's own generated ``__init__``
    does (``dataclasses.replace`` goes through ``fields()`` and keyword arguments on every
    call); what ``__init__`` does not set (the memo) starts empty, as after ``replace``."""
    names = [f.name for f in fields(PositionView) if f.name not in changed and f.init]
    unset = [f.name for f in fields(PositionView) if not f.init]
    source = "\n".join(
        [
            f"def copied(view, {', '.join(changed)}):",
            "    copy = _new(PositionView)",
            *(f"    _set(copy, {name!r}, view.{name})" for name in names),
            *(f"    _set(copy, {name!r}, {name})" for name in changed),
            *(f"    _set(copy, {name!r}, None)" for name in unset),
            "    return copy",
        ]
    )
    scope: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "PositionView": PositionView,
    }
    exec(source, scope)  # noqa: S102 (source built above from the dataclass's own field names)
    copied: Callable[..., PositionView] = scope["copied"]
    return copied


_marked_at = _unrolled_copy("mark_price")
_restated = _unrolled_copy("state", "mark_price")


@dataclass(frozen=True, slots=True)
class Fill:
    """One simulated or real fill: what was done to which position."""

    kind: str  # open | add | close
    position: PositionView
    quantity: Decimal
    price: Decimal
    fee: Decimal


@dataclass
class Fills:
    """The pseudo fill model: slippage against the order and the market's taker fee."""

    slippage: Decimal
    fee_rates: Mapping[str, Decimal]
    default_fee_rate: Decimal = Decimal("0.001")

    def price(self, last: Decimal, *, buy: bool) -> Decimal:
        return money(last * (1 + self.slippage) if buy else last * (1 - self.slippage))

    def fee(self, symbol: str, amount: Decimal, price: Decimal) -> Decimal:
        return money(amount * price * self.fee_rates.get(symbol, self.default_fee_rate))
