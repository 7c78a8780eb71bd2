"""Strategies: how one position, opened on a signal, is built up and closed.

Each strategy is a small pure state machine over a frozen :class:`Position`. The engine calls
:func:`open_position` when a signal fires, then :func:`step` with every new price until the
position is closed (``step`` returns ``None`` as the new state, with a :class:`Close`).
Everything here is Decimal. The new state assumes each order fills at the price given; fees,
slippage and exchange rounding are the engine's, which may replace ``quantity`` and
``average_price`` with the real fill (``dataclasses.replace``).

Definitions (``side`` is +1 long, -1 short; a level is "reached" when touched or passed):
- Sizes: ``order_value = base_value * volume_factor`` (quote currency) for the opening order;
  an order's quantity (base asset) is its value / price.
- Average price: quantity-weighted mean of the entry fills.
- Best price: the most favourable price seen since open (highest long, lowest short).
- Take-profit: ``average * (1 + side * take_profit)``; stop-loss ``average * (1 - side *
  stop_loss)``.
- Trailing: arms once the best price reaches ``entry * (1 + side * arm_at)``; when armed, the
  stop is ``best * (1 - side * distance)``. Checked in order: take-profit, trailing stop (armed
  only), stop-loss (from the entry).
- Block: with no exit reached, if the signal confirms again and fewer than ``max_blocks``
  blocks are held, add one block of ``order_value``. Exits from the average price.
- DCA: safety order n (1-based) is worth ``order_value * multiplier**n`` and is placed when the
  price reaches ``entry * (1 - side * D_n)``, ``D_n = step * (1 + s + ... + s**(n-1))`` with
  ``s = step_scale`` (each step is the previous one times ``s``, measured from the first
  entry). At most one safety order per step; a gap past several levels fills the rest on the
  next steps. Take-profit from the average price at all times; stop-loss from the average price
  only once all ``max_safety_orders`` are used (before that, adverse moves buy).
- Exits are checked before additions; a step that closes never adds.
- PnL: ``side * (price - average) * quantity``; realized PnL also subtracts the fees paid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum, StrEnum

from server.engine.presets import BlockParams, DcaParams, StrategyParams, TrailingParams
from server.errors import InvalidArgument


class Side(IntEnum):
    LONG = 1
    SHORT = -1


class CloseReason(StrEnum):
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"


@dataclass(frozen=True, slots=True)
class Open:
    side: Side
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Add:
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Close:
    reason: CloseReason


Action = Open | Add | Close


@dataclass(frozen=True, slots=True)
class Position:
    side: Side
    quantity: Decimal  # base asset
    average_price: Decimal
    entry_price: Decimal  # of the opening order
    order_value: Decimal  # quote value of the opening order: base_value * volume_factor
    best_price: Decimal
    adds: int = 0  # orders after the opening one: extra blocks or safety orders
    trailing_armed: bool = False

    @property
    def blocks(self) -> int:
        return self.adds + 1

    @property
    def safety_orders(self) -> int:
        return self.adds


def _check_price(price: Decimal) -> None:
    if not (price.is_finite() and price > 0):
        raise InvalidArgument.field("price", "must be a positive number")


def _reached(side: Side, price: Decimal, level: Decimal) -> bool:
    """Price is at or beyond ``level`` in the position's favour."""
    return side * (price - level) >= 0


def _take_profit(position: Position, price: Decimal, fraction: Decimal) -> bool:
    level = position.average_price * (1 + position.side * fraction)
    return _reached(position.side, price, level)


def _stop_loss(position: Position, price: Decimal, reference: Decimal, fraction: Decimal) -> bool:
    level = reference * (1 - position.side * fraction)
    return _reached(position.side, level, price)


def _add(position: Position, price: Decimal, value: Decimal) -> tuple[Position, list[Action]]:
    quantity = value / price
    total = position.quantity + quantity
    average = (position.quantity * position.average_price + quantity * price) / total
    added = replace(position, quantity=total, average_price=average, adds=position.adds + 1)
    return added, [Add(quantity)]


def open_position(
    side: Side, price: Decimal, params: StrategyParams, volume_factor: Decimal = Decimal(1)
) -> tuple[Position, list[Action]]:
    """The position a signal opens: one order of ``base_value * volume_factor`` at ``price``."""
    _check_price(price)
    if not volume_factor > 0:
        raise InvalidArgument.field("volume_factor", "must be positive")
    value = params.base_value * volume_factor
    quantity = value / price
    position = Position(
        side=side,
        quantity=quantity,
        average_price=price,
        entry_price=price,
        order_value=value,
        best_price=price,
    )
    return position, [Open(side, quantity)]


def step(
    position: Position, price: Decimal, params: StrategyParams, signal_confirms: bool
) -> tuple[Position | None, list[Action]]:
    """One new price for an open position: the new state (``None`` once closed) and orders.

    ``signal_confirms`` says the opening signal fires again on this side (only Block uses it).
    """
    _check_price(price)
    better = position.side * (price - position.best_price) > 0
    if better:
        position = replace(position, best_price=price)
    if isinstance(params, TrailingParams):
        return _step_trailing(position, price, params)
    if isinstance(params, BlockParams):
        return _step_block(position, price, params, signal_confirms)
    return _step_dca(position, price, params)


def _step_trailing(
    position: Position, price: Decimal, params: TrailingParams
) -> tuple[Position | None, list[Action]]:
    if not position.trailing_armed:
        arm_level = position.entry_price * (1 + position.side * params.arm_at)
        if _reached(position.side, position.best_price, arm_level):
            position = replace(position, trailing_armed=True)
    if _take_profit(position, price, params.take_profit):
        return None, [Close(CloseReason.TAKE_PROFIT)]
    if position.trailing_armed and _stop_loss(
        position, price, position.best_price, params.distance
    ):
        return None, [Close(CloseReason.TRAILING_STOP)]
    if _stop_loss(position, price, position.entry_price, params.stop_loss):
        return None, [Close(CloseReason.STOP_LOSS)]
    return position, []


def _step_block(
    position: Position, price: Decimal, params: BlockParams, signal_confirms: bool
) -> tuple[Position | None, list[Action]]:
    if _take_profit(position, price, params.take_profit):
        return None, [Close(CloseReason.TAKE_PROFIT)]
    if _stop_loss(position, price, position.average_price, params.stop_loss):
        return None, [Close(CloseReason.STOP_LOSS)]
    if signal_confirms and position.blocks < params.max_blocks:
        return _add(position, price, position.order_value)
    return position, []


def safety_order_deviation(n: int, params: DcaParams) -> Decimal:
    """``D_n``: the adverse move from the entry, as a fraction, that places safety order n."""
    return params.step * sum((params.step_scale**i for i in range(n)), Decimal(0))


def _step_dca(
    position: Position, price: Decimal, params: DcaParams
) -> tuple[Position | None, list[Action]]:
    if _take_profit(position, price, params.take_profit):
        return None, [Close(CloseReason.TAKE_PROFIT)]
    used = position.safety_orders
    if used >= params.max_safety_orders:
        if _stop_loss(position, price, position.average_price, params.stop_loss):
            return None, [Close(CloseReason.STOP_LOSS)]
        return position, []
    n = used + 1
    level = position.entry_price * (1 - position.side * safety_order_deviation(n, params))
    if _reached(position.side, level, price):
        return _add(position, price, position.order_value * params.multiplier**n)
    return position, []


def quiet_band(position: Position, params: StrategyParams) -> tuple[Decimal, Decimal] | None:
    """The prices at which :func:`step` (without a confirming signal) changes nothing.

    ``(low, high)`` in the position's favourable direction (``side * price``): for every
    price with ``low < side * price < high``, ``step(position, price, params, False)`` returns
    ``(position, [])`` — no new best price, no arming, no exit, no safety order. None when no
    price is quiet (a trailing stop still to arm on the best price already seen). Each bound
    is the very level :func:`step` compares with, so the band is exact, not an estimate; the
    engine steps only the positions whose price left their band.
    """
    side = position.side
    high = side * position.best_price  # beyond it: a new best price
    low = Decimal("-Infinity")
    if isinstance(params, TrailingParams):
        if not position.trailing_armed:
            arm_level = position.entry_price * (1 + side * params.arm_at)
            if _reached(side, position.best_price, arm_level):
                return None
        high = min(high, side * (position.average_price * (1 + side * params.take_profit)))
        if position.trailing_armed:
            low = side * (position.best_price * (1 - side * params.distance))
        low = max(low, side * (position.entry_price * (1 - side * params.stop_loss)))
    elif isinstance(params, BlockParams):
        high = min(high, side * (position.average_price * (1 + side * params.take_profit)))
        low = side * (position.average_price * (1 - side * params.stop_loss))
    else:
        high = min(high, side * (position.average_price * (1 + side * params.take_profit)))
        used = position.safety_orders
        if used >= params.max_safety_orders:
            low = side * (position.average_price * (1 - side * params.stop_loss))
        else:
            deviation = safety_order_deviation(used + 1, params)
            low = side * (position.entry_price * (1 - side * deviation))
    return low, high


def unrealized_pnl(position: Position, price: Decimal) -> Decimal:
    """``side * (price - average_price) * quantity``, in the quote currency."""
    return position.side * (price - position.average_price) * position.quantity


def realized_pnl(position: Position, exit_price: Decimal, fees: Decimal = Decimal(0)) -> Decimal:
    """PnL of closing the whole position at ``exit_price``, less ``fees`` paid on all fills."""
    return unrealized_pnl(position, exit_price) - fees
