"""The parameter sets of an engine: each pairs an entry (when to open) with a strategy.

- entry ``trend``: Direction's side, while Active says the market moves enough;
- entry ``breakout``: Move's side, while Active Advanced confirms (higher timeframe and volume);
- strategy ``trailing``, ``block`` or ``dca`` (:mod:`server.engine.strategies`), with the
  parameters of the connection's preset.
Set ids are ``entry/strategy``, e.g. ``trend/trailing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from server.errors import InvalidArgument

if TYPE_CHECKING:
    from server.engine.signals import Signals

ENTRIES = ("trend", "breakout")
STRATEGIES = ("trailing", "block", "dca")
SET_IDS = tuple(f"{entry}/{strategy}" for entry in ENTRIES for strategy in STRATEGIES)


def parse_sets(ids: Iterable[str]) -> tuple[str, ...]:
    """Validated set ids, in the given order, without repeats."""
    chosen: list[str] = []
    for set_id in ids:
        if set_id not in SET_IDS:
            raise InvalidArgument.field("sets", f"unknown set {set_id!r}; known: {SET_IDS}")
        if set_id not in chosen:
            chosen.append(set_id)
    if not chosen:
        raise InvalidArgument.field("sets", "at least one set is required")
    return tuple(chosen)


_SPLIT: dict[str, tuple[str, str]] = {}


def split_set(set_id: str) -> tuple[str, str]:
    """``(entry, strategy)`` of a set id, split once per id (the book asks every cycle)."""
    found = _SPLIT.get(set_id)
    if found is None:
        entry, strategy = set_id.split("/")
        found = _SPLIT[set_id] = (entry, strategy)
    return found


def entry_side(signals: Signals, entry: str) -> int:
    """+1, -1 or 0: the side an entry fires on for one symbol's signals."""
    if entry == "trend":
        return signals.direction if signals.active else 0
    return signals.move if signals.active_advanced else 0


def with_optimal(signals: Mapping[str, Signals], optimal: tuple[str, ...]) -> Mapping[str, Signals]:
    """Each symbol's signals with the optimal sets whose entry fires on it."""
    if not optimal:
        return signals
    return {
        symbol: replace(s, optimal=tuple(o for o in optimal if entry_side(s, o.split("/")[0]) != 0))
        for symbol, s in signals.items()
    }
