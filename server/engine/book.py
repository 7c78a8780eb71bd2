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
   add, no new best price possible) is not stepped: the result is the same, exactly. Nor is
   any position of a symbol whose price is inside all its positions' bands (kept per symbol
   while none of them changes), but on a new bar a Block position's symbol is stepped.
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from server.engine import indications, strategies
from server.engine.positions import (
    Fill,
    Fills,
    Mode,
    PositionView,
    Reason,
    Status,
    money,
    quantity,
)
from server.engine.presets import OptimalParams, Preset, StrategyParams
from server.engine.sets import STRATEGIES, entry_side, split_set
from server.engine.signals import Signals
from server.engine.strategies import Add, Close, Open, Side

INFINITY = Decimal("Infinity")
Key = tuple[str, str]  # an open position's: set id, symbol
Band = tuple[Decimal, Decimal]
ParamsOf = Mapping[str, StrategyParams]  # by strategy
#: Per symbol: (long low, long high, short low, short high, holds a Block position).
Quiet = tuple[Decimal, Decimal, Decimal, Decimal, bool]
Firing = tuple[str, str, str, int, Key]  # set id, strategy, symbol, side, key
CLOSED_KEPT = 200  # closed PnLs kept per set for Optimal (at least any preset's lookback)


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
    _bands: dict[Key, tuple[StrategyParams, Band | None]] = field(default_factory=dict)
    _optimal: tuple[int, OptimalParams | None, tuple[str, ...]] = (-1, None, ())
    # False: the plain path each cycle (every position, every set x symbol), the reference the
    # shortcuts are tested and measured against. The shortcuts' state (tuples are replaced):
    _held: dict[str, dict[Key, None]] = field(default_factory=dict)  # per symbol, its keys
    _order: dict[Key, int] = field(default_factory=dict)  # ``open``'s order: by this number
    _opened: int = 0  # positions put into or taken out of ``open`` (``_order`` numbers)
    _quiet: dict[str, Quiet] = field(default_factory=dict)  # see ``_quiet_of``
    _params: tuple[Preset | None, dict[str, StrategyParams]] = (None, {})
    _firing: tuple[object, list[Firing]] = (None, [])  # the entries firing for a key
    # Of those, the ones without an open position, while no position opened or closed.
    _pending: tuple[list[Firing] | None, int, list[Firing]] = (None, 0, [])
    shortcuts: bool = True

    def restore(
        self, positions: Iterable[PositionView], closed: Mapping[str, Sequence[Decimal]]
    ) -> None:
        """Take back open positions and each set's recent closed PnLs (after a restart)."""
        for position in positions:
            key = (position.set_id, position.symbol)
            self.open[key] = position
            self._hold(key)
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
        firing_key: object | None = None,
    ) -> list[Fill]:
        """One cycle: manage every open position, then (when ``opening``) open on signals.
        ``new_bar``: this cycle is the first of a new bar (Block may add a block).
        ``firing_key``: an object that stays the same (identical) while the entries' sides for
        ``signals`` stay the same (the board's fingerprint): the entries firing are worked out
        again only when it is another object; None works them out every time."""
        now = now or datetime.now(UTC)
        preset = self.preset()
        params_of = self._params_for(preset)
        done: list[Fill] = []
        for key in self._stirred(prices, new_bar, params_of) if self.shortcuts else list(self.open):
            set_id, symbol = key
            price = prices.get(symbol)
            if price is None:
                continue
            position = self.open[key]
            entry, strategy = split_set(set_id)
            confirms = (
                new_bar
                and strategy == "block"
                and symbol in signals
                and entry_side(signals[symbol], entry) == position.side
            )
            params = params_of[strategy]
            band = self._band(key, position, params)
            if not confirms and band is not None and band[0] < position.side * price < band[1]:
                continue  # nothing can happen at this price (marks are the engine's, per period)
            state, actions = strategies.step(position.state, price, params, confirms)
            if not actions:
                if state is not None:
                    self.open[key] = position.restated(state, price)
                    if state != position.state:
                        self._changed(key)
                continue
            position = position.marked_at(price)
            for action in actions:
                if isinstance(action, Close):
                    done.append(self._close(key, position, price, action.reason, now))
                elif isinstance(action, Add) and state is not None:
                    done.append(self._add(key, position, state, action, price))
        if opening:
            done.extend(self._open_on(prices, signals, params_of, now, firing_key))
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
        params_of: ParamsOf,
        now: datetime,
        firing_key: object | None,
    ) -> list[Fill]:
        done = []
        firing = self._firing_of(signals, firing_key)
        known, opened, pending = self._pending
        if firing is not known or opened != self._opened:
            # Opening one (set, symbol) never opens another: which are open can be seen first.
            pending = [f for f in firing if f[4] not in self.open]
            self._pending = (firing, self._opened, pending)
        for set_id, strategy, symbol, side, _ in pending:
            last = prices.get(symbol)
            if last is None:
                continue
            fill_price = self.fills.price(last, buy=side > 0)
            state, actions = strategies.open_position(
                Side(side), fill_price, params_of[strategy], self.volume_factor()
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
            self._hold((set_id, symbol))
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
        self._changed(key)
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
        self._release(key)
        self._closed(position.set_id).append(pnl)
        self.closed_count += 1
        self.trades += 1
        self.realized_pnl += pnl
        return Fill("close", closed, amount, fill_price, fee)

    def _closed(self, set_id: str) -> deque[Decimal]:
        return self.closed_pnls.setdefault(set_id, deque(maxlen=CLOSED_KEPT))

    # -- shortcuts (exact: the same fills and states as stepping everything) -------------------

    def _params_for(self, preset: Preset) -> dict[str, StrategyParams]:
        """The preset's params per strategy; a change of any forgets every symbol's quiet
        prices (each position's band checks its params itself)."""
        seen, params_of = self._params
        if preset is not seen:
            fresh: dict[str, StrategyParams] = {s: getattr(preset, s) for s in STRATEGIES}
            if any(fresh[s] is not params_of.get(s) for s in STRATEGIES):
                self._quiet.clear()
            self._params = (preset, fresh)
        return self._params[1]

    def _firing_of(self, signals: Mapping[str, Signals], key: object | None) -> list[Firing]:
        """(set, strategy, symbol, side) of every set x symbol whose entry fires: sets in
        ``sets`` order, symbols in ``signals`` order; kept while ``key`` is the same object."""
        known_key, known = self._firing
        if key is not None and key is known_key and self.shortcuts:
            return known
        firing = []
        for set_id in self.sets:
            entry, strategy = split_set(set_id)
            for symbol, symbol_signals in signals.items():
                side = entry_side(symbol_signals, entry)
                if side:
                    firing.append((set_id, strategy, symbol, side, (set_id, symbol)))
        self._firing = (key, firing) if key is not None else (None, [])
        return firing

    def _stirred(
        self, prices: Mapping[str, Decimal], new_bar: bool, params_of: ParamsOf
    ) -> list[Key]:
        """The keys of the open positions to step, in the order of ``open``: those of every
        priced symbol whose price is not strictly inside the quiet prices of all its positions
        (and, on a new bar, of every symbol holding a Block position: it may add). The others
        would all be skipped by their own bands: the same result, exactly."""
        stirred = []
        quiet = self._quiet
        for symbol, keys in self._held.items():
            price = prices.get(symbol)
            if price is None:
                continue
            bounds = quiet.get(symbol) or self._quiet_of(symbol, keys, params_of)
            long_low, long_high, short_low, short_high, blocks = bounds
            # +price and -price: the very values ``side * price`` gives (context rounding too).
            if (new_bar and blocks) or not (
                long_low < +price < long_high and short_low < -price < short_high
            ):
                stirred.append(keys)
        if len(stirred) == 1:
            return list(stirred[0])
        return sorted((key for keys in stirred for key in keys), key=self._order.__getitem__)

    def _quiet_of(self, symbol: str, keys: Iterable[Key], params_of: ParamsOf) -> Quiet:
        """The intersection of the symbol's positions' quiet bands, per side (in favourable
        prices, as the bands), and whether one of them is a Block position."""
        long_low = short_low = -INFINITY
        long_high = short_high = INFINITY
        blocks = False
        for key in keys:
            position = self.open[key]
            strategy = split_set(key[0])[1]
            blocks = blocks or strategy == "block"
            band = self._band(key, position, params_of[strategy])
            low, high = band if band is not None else (INFINITY, -INFINITY)  # never quiet
            if position.side > 0:
                long_low, long_high = max(long_low, low), min(long_high, high)
            else:
                short_low, short_high = max(short_low, low), min(short_high, high)
        found = self._quiet[symbol] = (long_low, long_high, short_low, short_high, blocks)
        return found

    def _band(self, key: Key, position: PositionView, params: StrategyParams) -> Band | None:
        """The position's quiet band, kept while its state and params stand."""
        known = self._bands.get(key)
        if known is not None and known[0] is params:
            return known[1]
        band = strategies.quiet_band(position.state, params)  # a new state, or new params
        self._bands[key] = (params, band)
        return band

    def _hold(self, key: Key) -> None:
        """``key`` was put into ``open`` (new, or restored)."""
        if key not in self._order:
            self._opened += 1
            self._order[key] = self._opened
            self._held.setdefault(key[1], {})[key] = None
        self._changed(key)

    def _changed(self, key: Key) -> None:
        """The state of ``key``'s position changed (or it is gone)."""
        self._bands.pop(key, None)
        self._quiet.pop(key[1], None)

    def _release(self, key: Key) -> None:
        """``key`` left ``open``."""
        self._changed(key)
        self._opened += 1
        del self._order[key]
        keys = self._held[key[1]]
        del keys[key]
        if not keys:
            del self._held[key[1]]
