"""One engine's pseudo book cycle: ``Book.step`` with its shortcuts against the plain path.

    python bench/book_step.py [--symbols 20] [--cycles 3000] [--move-pct 0.03]
                              [--bar-cycles 60] [--flip-cycles 120] [--seed 7]

Two books, the default preset's six sets on ``symbols`` symbols, go through the same cycles
(one a second in the engine): every symbol's price takes a random step of about ``move_pct``
percent (normal, per cycle), every ``bar_cycles`` cycles is a new bar, and every
``flip_cycles`` one symbol's signals change (the fingerprint is the same object in between,
as the board's). The signals make each entry fire on two symbols in three, on either side,
so the books hold about two thirds of their 6 x symbols positions (closed ones open again on
the next cycle).
One book steps with its shortcuts, the other with ``shortcuts=False`` (every position and
every set x symbol each cycle, as before them); they alternate which goes first. Prints the
time per ``step`` call of each (mean, median, p95, in µs), their ratio, the open positions
held, and the fills (which must be the same). Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.engine.book import Book
from server.engine.positions import Fills
from server.engine.presets import preset_for
from server.engine.sets import SET_IDS
from server.engine.signals import Signals


def signals_for(rng: random.Random) -> Signals:
    """Each entry firing (on a random side) on two symbols in three."""
    return Signals(
        direction=rng.choice((-1, 1)),
        direction_strength=0.5,
        move=rng.choice((-1, 1)),
        move_strength=0.5,
        active=rng.random() < 2 / 3,
        active_advanced=rng.random() < 2 / 3,
    )


def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    symbols = [f"S{n:02d}/USDT" for n in range(args.symbols)]
    preset = preset_for("default")
    books = [
        Book(
            "bench",
            SET_IDS,
            Fills(Decimal("0.0005"), {}),
            lambda: preset,
            lambda: Decimal(1),
            shortcuts=shortcuts,
        )
        for shortcuts in (True, False)
    ]
    prices = {
        s: Decimal(rng.choice(("0.5321", "2.417", "64.12", "3012.5", "65457.1"))) for s in symbols
    }
    signals = {s: signals_for(rng) for s in symbols}
    fingerprint = tuple(signals.values())
    spent: list[list[float]] = [[], []]
    fills = [0, 0]
    held: list[int] = []
    sd = args.move_pct / 100
    for cycle in range(args.cycles):
        for symbol in symbols:
            step = Decimal(repr(rng.gauss(0.0, sd)))
            prices[symbol] = (prices[symbol] * (1 + step)).quantize(prices[symbol])
        if cycle and cycle % args.flip_cycles == 0:
            signals = dict(signals)
            signals[rng.choice(symbols)] = signals_for(rng)
            fingerprint = tuple(signals.values())
        new_bar = cycle > 0 and cycle % args.bar_cycles == 0
        order = (0, 1) if cycle % 2 == 0 else (1, 0)
        for n in order:
            started = time.perf_counter()
            done = books[n].step(
                prices, signals, opening=True, new_bar=new_bar, firing_key=fingerprint
            )
            spent[n].append(time.perf_counter() - started)
            fills[n] += len(done)
        held.append(len(books[0].open))
        if len(books[0].open) != len(books[1].open):
            raise SystemExit(f"cycle {cycle}: the books differ")
    warm = spent[0][1:], spent[1][1:]  # the first cycle opens everything
    for name, times in (("shortcuts", warm[0]), ("plain", warm[1])):
        ordered = sorted(times)
        print(
            f"{name:>9}: mean {statistics.fmean(times) * 1e6:8.1f} µs/cycle  "
            f"median {ordered[len(ordered) // 2] * 1e6:8.1f}  "
            f"p95 {ordered[int(len(ordered) * 0.95)] * 1e6:8.1f}"
        )
    ratio = statistics.fmean(warm[1]) / statistics.fmean(warm[0])
    print(f"    ratio: plain / shortcuts = {ratio:.1f}x (means)")
    print(
        f"     held: {statistics.fmean(held):.0f} open positions on average "
        f"(min {min(held)}, max {max(held)}); fills {fills[0]} (plain {fills[1]}) "
        f"over {args.cycles} cycles"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3000)
    parser.add_argument("--move-pct", type=float, default=0.03, help="sd of a cycle's move, %%")
    parser.add_argument("--bar-cycles", type=int, default=60)
    parser.add_argument("--flip-cycles", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
