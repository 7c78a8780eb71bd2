"""A recorded response's key structure and the simulator's answer to compare with it.

Key paths: ``a.b`` for a nested key, ``a[].b`` for a key of a list's items, ``a[][3]`` for the
fourth column of a row (a list inside a list: candles, book levels). Keys that name something
(a pair, an order id, a coin) are written ``*``; such maps are listed in ``Shape.named``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def keys(names: str, under: str = "") -> frozenset[str]:
    """The paths of ``names`` (space-separated) below ``under``."""
    prefix = f"{under}." if under else ""
    return frozenset(f"{prefix}{name}" for name in names.split())


def columns(count: int, under: str) -> frozenset[str]:
    """The paths of a row's ``count`` columns (rows are lists in the list ``under``)."""
    return frozenset(f"{under}[][{index}]" for index in range(count))


@dataclass(frozen=True)
class Shape:
    """What one recorded response of ``endpoint`` holds, for one CTS venue.

    ``call`` is the ccxt method CTS calls that makes the request; ``source`` names the recording
    (``<ccxt file>: <method> "<description>"``); ``left_out`` maps each recorded key the
    simulator does not send to the reason.
    """

    exchange: str
    api_type: str
    call: str
    endpoint: str
    source: str
    recorded: frozenset[str]
    left_out: dict[str, str] = field(default_factory=dict)
    named: tuple[str, ...] = ()  # paths of maps keyed by names (pairs, order ids, coins)
    fixed: tuple[str, ...] = ()  # literal keys inside those maps (Kraken's OHLC "last")
    variant: str = ""  # tells apart two recordings of one endpoint

    @property
    def id(self) -> str:
        suffix = f"-{self.variant}" if self.variant else ""
        return f"{self.exchange}-{self.api_type}-{self.call}-{self.endpoint}{suffix}"

    def paths(self, body: Any, prefix: str = "") -> set[str]:
        """Every key path in ``body``, names in ``named`` maps written ``*``."""
        found: set[str] = set()
        if isinstance(body, dict):
            for key, value in body.items():
                named = prefix in self.named and key not in self.fixed
                path = f"{prefix}.{'*' if named else key}" if prefix else key
                found.add(path)
                found |= self.paths(value, path)
        elif isinstance(body, list):
            for item in body:
                if isinstance(item, list):
                    found |= {f"{prefix}[][{index}]" for index in range(len(item))}
                else:
                    found |= self.paths(item, f"{prefix}[]")
        return found
