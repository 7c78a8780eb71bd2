"""Positions of one engine: pseudo (paper) positions per parameter set and symbol.

Every parameter set of the engine's plan (:mod:`server.engine.sets`) runs its own pseudo
positions on every symbol, so the sets can be compared (Optimal).

**Rules of the book**, applied on every realtime cycle with the round's last prices:
1. Every open position whose symbol has a price steps through its strategy (exits first; Block
   adds when its set's entry fires again on the position's side *on a new bar*: the first
   cycle after the bar the position was opened or last added on closed, with the signal still
   on its side — at most one block per bar, never one per cycle). This happens while the engine
   is paused too: pause opens nothing new but keeps managing what is open. A position whose
   price stays inside its quiet band (:func:`server.engine.strategies.quiet_band`: no exit, no
   add, no new best price possible) is not stepped: the result is the same, exactly.
2. Then, unless paused, every set whose entry fires on a symbol where that set holds no open
   position opens one: ``base_value * volume_factor`` of quote currency.
A set holds at most one open position per symbol.

**Fills.** A pseudo order fills at once at the last price moved against the order by the
slippage fraction: buys at ``last * (1 + slippage)``, sells at ``last * (1 - slippage)``. Its fee
is ``quantity * fill price * fee rate`` (the market's taker fee). Quantities and averages are
rounded down to 12 decimal places, fees and PnL to 12 places half-even. The realised PnL of a
closed position is ``side * (exit fill - average) * quantity - fees`` (all its fills' fees);
unrealised is ``side * (last - average) * quantity`` (no fees).

**Optimal.** The sets whose recent closed pseudo positions performed best
(:func:`server.engine.indications.optimal` over each set's closed PnLs, oldest first) are
optimal; live trading only follows them (:mod:`server.engine.live`).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from server.engine import indications, strategies
from server.engine.presets import OptimalParams, Preset, StrategyParams
from server.engine.sets import entry_side
from server.engine.signals import Signals
from server.engine.strategies import Add, Close, Open, Side

QUANTITY = Decimal("1e-12")
MONEY = Decimal("1e-12")
CLOSED_KEPT = 200  # closed PnLs kept per set for Optimal (at least any preset's lookback)


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


def strategy_params(preset: Preset, strategy: str) -> StrategyParams:
    params: StrategyParams = getattr(preset, strategy)
    return params


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


def _unrolled_marking() -> Callable[[PositionView, Decimal], PositionView]:
    """A copy of a view with another ``mark_price``, its fields set one by one as the frozen
    dataclass's own generated ``__init__`` does (``dataclasses.replace`` goes through
    ``fields()`` and keyword arguments on every call)."""
    names = [f.name for f in fields(PositionView) if f.name != "mark_price"]
    lines = [f"    _set(copy, {name!r}, view.{name})" for name in names]
    source = "\n".join(
        [
            "def marked_at(view, price):",
            "    copy = _new(PositionView)",
            *lines,
            "    _set(copy, 'mark_price', price)",
            "    return copy",
        ]
    )
    scope: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "PositionView": PositionView,
    }
    exec(source, scope)  # noqa: S102 (source built above from the dataclass's own field names)
    marking: Callable[[PositionView, Decimal], PositionView] = scope["marked_at"]
    return marking


_marked_at = _unrolled_marking()


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


@dataclass
class Book:
    """The pseudo positions of one engine (see the module docstring for the rules)."""

    connection_id: str
    sets: tuple[str, ...]
    fills: Fills
    preset: Callable[[], Preset]
    volume_factor: Callable[[], Decimal]
    open: dict[tuple[str, str], PositionView] = field(default_factory=dict)
    closed_pnls: dict[str, deque[Decimal]] = field(default_factory=dict)
    closed_count: int = 0
    trades: int = 0  # fills
    realized_pnl: Decimal = Decimal(0)
    # Per open position (by key): its quiet band in favourable prices, while its state stands.
    _bands: dict[tuple[str, str], tuple[StrategyParams, tuple[Decimal, Decimal] | None]] = field(
        default_factory=dict
    )
    _optimal: tuple[int, OptimalParams | None, tuple[str, ...]] = (-1, None, ())

    def restore(
        self, positions: Iterable[PositionView], closed: Mapping[str, Sequence[Decimal]]
    ) -> None:
        """Take back open positions and each set's recent closed PnLs (after a restart)."""
        for position in positions:
            self.open[(position.set_id, position.symbol)] = position
            self._bands.pop((position.set_id, position.symbol), None)
        for set_id, pnls in closed.items():
            self._closed(set_id).extend(pnls)

    def step(
        self,
        prices: Mapping[str, Decimal],
        signals: Mapping[str, Signals],
        *,
        opening: bool,
        new_bar: bool = False,
        now: datetime | None = None,
    ) -> list[Fill]:
        """One cycle: manage every open position, then (when ``opening``) open on signals.
        ``new_bar``: this cycle is the first of a new bar (Block may add a block)."""
        now = now or datetime.now(UTC)
        preset = self.preset()
        done: list[Fill] = []
        bands = self._bands
        for key, position in list(self.open.items()):
            price = prices.get(position.symbol)
            if price is None:
                continue
            set_id, symbol = key
            entry, strategy = set_id.split("/")
            confirms = (
                new_bar
                and strategy == "block"
                and symbol in signals
                and entry_side(signals[symbol], entry) == position.side
            )
            params = strategy_params(preset, strategy)
            known = bands.get(key)
            if known is not None and known[0] is params:
                band = known[1]
            else:  # a new state, or the preset changed
                band = strategies.quiet_band(position.state, params)
                bands[key] = (params, band)
            if not confirms and band is not None and band[0] < position.side * price < band[1]:
                continue  # nothing can happen at this price (marks are the engine's, per period)
            state, actions = strategies.step(position.state, price, params, confirms)
            if not actions:
                if state is not None:
                    self.open[key] = replace(position, state=state, mark_price=price)
                    if state != position.state:
                        bands.pop(key, None)
                continue
            position = replace(position, mark_price=price)
            for action in actions:
                if isinstance(action, Close):
                    done.append(self._close(key, position, price, action.reason, now))
                elif isinstance(action, Add) and state is not None:
                    done.append(self._add(key, position, state, action, price))
        if opening:
            done.extend(self._open_on(prices, signals, preset, now))
        return done

    def close_all(
        self, prices: Mapping[str, Decimal], reason: Reason, now: datetime | None = None
    ) -> list[Fill]:
        """Close every open position that has a price (engine stop with "close positions")."""
        now = now or datetime.now(UTC)
        return [
            self._close(key, position, prices[position.symbol], reason, now)
            for key, position in list(self.open.items())
            if position.symbol in prices
        ]

    def close_one(
        self, position_id: uuid.UUID, last: Decimal, reason: Reason, now: datetime | None = None
    ) -> Fill | None:
        """Close one open position at ``last`` (slippage and fee as any close); None when it
        is not open here."""
        key = next((k for k, p in self.open.items() if p.id == position_id), None)
        if key is None:
            return None
        return self._close(key, self.open[key], last, reason, now or datetime.now(UTC))

    def optimal(self, params: OptimalParams) -> tuple[str, ...]:
        """The optimal sets (computed again only when a position closed or the params changed)."""
        closed, last_params, found = self._optimal
        if closed == self.closed_count and last_params == params:
            return found
        found = indications.optimal(
            {set_id: self.closed_pnls.get(set_id, ()) for set_id in self.sets}, params
        )
        self._optimal = (self.closed_count, params, found)
        return found

    def marked(self, prices: Mapping[str, Decimal]) -> list[PositionView]:
        """Mark every open position with its last price; the marked positions."""
        marked = []
        for key, position in self.open.items():
            price = prices.get(position.symbol)
            if price is not None and price != position.mark_price:
                self.open[key] = position = position.marked_at(price)
                marked.append(position)
        return marked

    def unrealized_pnl(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Of every open position at ``prices`` (its own last mark where none)."""
        total = Decimal(0)
        for position in self.open.values():
            price = prices.get(position.symbol, position.mark_price)
            if price is not None:
                total += money(strategies.unrealized_pnl(position.state, price))
        return total

    # -- fills ----------------------------------------------------------------------------------

    def _open_on(
        self,
        prices: Mapping[str, Decimal],
        signals: Mapping[str, Signals],
        preset: Preset,
        now: datetime,
    ) -> list[Fill]:
        done = []
        for set_id in self.sets:
            entry, strategy = set_id.split("/")
            for symbol, symbol_signals in signals.items():
                side = entry_side(symbol_signals, entry)
                last = prices.get(symbol)
                if side == 0 or last is None or (set_id, symbol) in self.open:
                    continue
                fill_price = self.fills.price(last, buy=side > 0)
                state, actions = strategies.open_position(
                    Side(side), fill_price, strategy_params(preset, strategy), self.volume_factor()
                )
                assert isinstance(actions[0], Open)
                state = replace(state, quantity=quantity(state.quantity))
                fee = self.fills.fee(symbol, state.quantity, fill_price)
                position = PositionView(
                    id=uuid.uuid4(),
                    connection_id=self.connection_id,
                    mode=Mode.PSEUDO,
                    set_id=set_id,
                    symbol=symbol,
                    state=state,
                    fees=fee,
                    opened_at=now,
                    mark_price=last,
                )
                self.open[(set_id, symbol)] = position
                self._bands.pop((set_id, symbol), None)
                self.trades += 1
                done.append(Fill("open", position, state.quantity, fill_price, fee))
        return done

    def _add(
        self,
        key: tuple[str, str],
        position: PositionView,
        state: strategies.Position,
        action: Add,
        last: Decimal,
    ) -> Fill:
        """The strategy's add at ``last``, re-priced at the slipped fill (same quote value)."""
        fill_price = self.fills.price(last, buy=position.side > 0)
        added = quantity(action.quantity * last / fill_price)
        before = position.state
        total = before.quantity + added
        average = quantity((before.quantity * before.average_price + added * fill_price) / total)
        state = replace(state, quantity=total, average_price=average)
        fee = self.fills.fee(position.symbol, added, fill_price)
        position = replace(position, state=state, fees=position.fees + fee)
        self.open[key] = position
        self._bands.pop(key, None)
        self.trades += 1
        return Fill("add", position, added, fill_price, fee)

    def _close(
        self,
        key: tuple[str, str],
        position: PositionView,
        last: Decimal,
        reason: str,
        now: datetime,
    ) -> Fill:
        fill_price = self.fills.price(last, buy=position.side < 0)
        amount = position.state.quantity
        fee = self.fills.fee(position.symbol, amount, fill_price)
        fees = position.fees + fee
        pnl = money(strategies.realized_pnl(position.state, fill_price, fees))
        closed = replace(
            position,
            status=Status.CLOSED,
            fees=fees,
            exit_price=fill_price,
            realized_pnl=pnl,
            close_reason=str(reason),
            closed_at=now,
            mark_price=last,
        )
        del self.open[key]
        self._bands.pop(key, None)
        self._closed(position.set_id).append(pnl)
        self.closed_count += 1
        self.trades += 1
        self.realized_pnl += pnl
        return Fill("close", closed, amount, fill_price, fee)

    def _closed(self, set_id: str) -> deque[Decimal]:
        return self.closed_pnls.setdefault(set_id, deque(maxlen=CLOSED_KEPT))
