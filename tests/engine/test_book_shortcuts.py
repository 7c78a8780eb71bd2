"""The book's shortcuts change nothing: the same fills and positions as the plain path.

A book with its shortcuts (symbols whose price is quiet for all their positions skipped, the
entries firing kept while the signals' sides stand) and a book without them
(``shortcuts=False``: every position and every set x symbol each cycle) go through the same
random price walks, signal changes, new bars, pauses, preset changes, manual closes and
restarts; their fills (ids aside) and open positions must be identical after every cycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.connections.vocabulary import PresetType
from server.engine.book import Book
from server.engine.positions import Fill, Fills, PositionView, Reason
from server.engine.presets import Preset, preset_for
from server.engine.sets import SET_IDS
from server.engine.signals import Signals

D = Decimal
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NO_ID = uuid.UUID(int=0)

sides = st.sampled_from([-1, 0, 1])
symbol_signals = st.builds(
    Signals,
    direction=sides,
    direction_strength=st.just(0.5),
    move=sides,
    move_strength=st.just(0.5),
    active=st.booleans(),
    active_advanced=st.booleans(),
)
board = st.tuples(*(symbol_signals for _ in SYMBOLS))
# A move in basis points: mostly tiny, now and then a jump through the exits.
move = st.one_of(st.integers(-4, 4), st.integers(-40, 40), st.integers(-400, 400))


@st.composite
def cycles(draw: st.DrawFn) -> dict[str, object]:
    return {
        "moves": draw(st.tuples(*(move for _ in SYMBOLS))),
        "unpriced": draw(st.sets(st.sampled_from(SYMBOLS), max_size=1)),
        "signals": draw(st.one_of(st.none(), st.none(), board)),  # None: the sides stand
        "new_bar": draw(st.integers(0, 9)) == 0,
        "opening": draw(st.integers(0, 9)) != 0,
        "preset": draw(st.one_of(*(st.none() for _ in range(15)), st.sampled_from(PresetType))),
        "close": draw(st.one_of(*(st.none() for _ in range(15)), st.integers(0, 200))),
        "restart": draw(st.integers(0, 29)) == 0,
    }


@dataclass
class Market:
    preset: Preset

    def current(self) -> Preset:
        return self.preset


def a_book(market: Market, sets: tuple[str, ...], *, shortcuts: bool) -> Book:
    fills = Fills(D("0.0005"), {"AAA": D("0.0004")})
    return Book("c", sets, fills, market.current, lambda: D(1), shortcuts=shortcuts)


def restarted(book: Book, market: Market) -> Book:
    """A new book that takes back the open positions and closed PnLs (an engine's restart)."""
    again = a_book(market, book.sets, shortcuts=book.shortcuts)
    again.restore(list(book.open.values()), {s: list(p) for s, p in book.closed_pnls.items()})
    return again


def seen(fill: Fill) -> tuple[object, ...]:
    return (fill.kind, replace(fill.position, id=NO_ID), fill.quantity, fill.price, fill.fee)


def held(book: Book) -> list[tuple[tuple[str, str], PositionView]]:
    return [(key, replace(p, id=NO_ID)) for key, p in book.open.items()]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(SET_IDS), min_size=1, unique=True),
    board,
    st.lists(cycles(), min_size=20, max_size=80),
)
def test_the_shortcuts_give_the_same_fills_and_positions_as_stepping_everything(
    sets: list[str], first: tuple[Signals, ...], walk: list[dict[str, object]]
) -> None:
    market = Market(preset_for(PresetType.DEFAULT))
    fast = a_book(market, tuple(sets), shortcuts=True)
    plain = a_book(market, tuple(sets), shortcuts=False)
    prices = dict.fromkeys(SYMBOLS, D(100))
    signals = dict(zip(SYMBOLS, first, strict=True))
    fingerprint = tuple(signals.values())  # as the board's: the same object while unchanged
    for cycle in walk:
        for symbol, bp in zip(SYMBOLS, cycle["moves"], strict=True):  # type: ignore[call-overload]
            prices[symbol] = (prices[symbol] * (1 + D(bp) / 10_000)).quantize(D("0.0001"))
        if isinstance(cycle["signals"], tuple):
            signals = dict(zip(SYMBOLS, cycle["signals"], strict=True))
            if tuple(signals.values()) != fingerprint:
                fingerprint = tuple(signals.values())
        if isinstance(cycle["preset"], PresetType):
            market.preset = preset_for(cycle["preset"])
        if cycle["restart"]:
            fast, plain = restarted(fast, market), restarted(plain, market)
        priced = {s: p for s, p in prices.items() if s not in cycle["unpriced"]}  # type: ignore[operator]
        steps = [
            book.step(
                priced,
                signals,
                opening=bool(cycle["opening"]),
                new_bar=bool(cycle["new_bar"]),
                now=NOW,
                firing_key=fingerprint,
            )
            for book in (fast, plain)
        ]
        assert [seen(f) for f in steps[0]] == [seen(f) for f in steps[1]]
        if isinstance(cycle["close"], int) and fast.open:
            n = cycle["close"] % len(fast.open)
            closes = [
                book.close_one(list(book.open.values())[n].id, prices["AAA"], Reason.MANUAL, NOW)
                for book in (fast, plain)
            ]
            assert closes[0] is not None and closes[1] is not None
            assert seen(closes[0]) == seen(closes[1])
        assert held(fast) == held(plain)
        assert [replace(p, id=NO_ID) for p in fast.marked(prices)] == [
            replace(p, id=NO_ID) for p in plain.marked(prices)
        ]
    assert (fast.trades, fast.realized_pnl, fast.closed_pnls) == (
        plain.trades,
        plain.realized_pnl,
        plain.closed_pnls,
    )


def test_a_quiet_cycle_steps_no_position_and_reuses_the_entries_firing() -> None:
    market = Market(preset_for(PresetType.DEFAULT))
    book = a_book(market, SET_IDS, shortcuts=True)
    prices = dict.fromkeys(SYMBOLS, D(100))
    both = Signals(1, 0.5, -1, 0.5, active=True, active_advanced=True)
    signals = dict.fromkeys(SYMBOLS, both)
    key = object()
    opened = book.step(prices, signals, opening=True, now=NOW, firing_key=key)
    assert len(opened) == len(SET_IDS) * len(SYMBOLS) == len(book.open)
    firing = book._firing[1]
    before = dict(book.open)
    # Long buys and short sells slipped away from 100: 100 is strictly inside every band.
    assert book.step(prices, signals, opening=True, now=NOW, firing_key=key) == []
    assert book._stirred(prices, False, book._params_for(market.preset)) == []
    assert book._firing[1] is firing and book.open == before
    # A new bar steps the symbols holding Block positions (they may add), in open's order.
    stirred = book._stirred(prices, True, book._params_for(market.preset))
    assert stirred == [key for key in book.open]
