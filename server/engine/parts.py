"""What an engine is given: the parts every engine of a coordinator shares, and the market feed
it subscribes to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from server.engine.board import Boards, SharedHistory
from server.engine.loading import LoadPlan
from server.engine.marks import PositionEvent
from server.engine.status import EngineStatus
from server.engine.store import PositionStore, PositionWriter
from server.engine.turns import Turns
from server.exchange.access import ExchangeAccess, Target
from server.exchange.model import Ticker
from server.listeners import Listeners


class PriceRound(Protocol):
    """One round of a market feed."""

    @property
    def prices(self) -> Mapping[str, Ticker]: ...

    @property
    def ok(self) -> bool: ...

    @property
    def round(self) -> int:
        """The feed's number of the round (the same for every subscriber of one round)."""
        ...

    @property
    def time(self) -> float:
        """When the round's prices were asked for (seconds since the epoch)."""
        ...


class PriceSubscription(Protocol):
    async def next(self, timeout: float | None = None) -> PriceRound:
        """The next round; ``TimeoutError`` when none arrives within ``timeout`` seconds."""
        ...

    def close(self) -> None: ...


#: Subscribes to the shared market feed of a target's market, for some symbols.
Subscribe = Callable[[Target, tuple[str, ...]], PriceSubscription]


@dataclass(frozen=True)
class EngineParts:
    """What every engine of a coordinator shares."""

    access: ExchangeAccess
    plan: LoadPlan
    subscribe: Subscribe
    store: PositionStore
    publish_status: Callable[[EngineStatus], None]
    #: A position changed by a fill, or an engine's re-marks (:mod:`server.engine.marks`).
    publish_position: Callable[[PositionEvent], None]
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 60.0
    mark_seconds: float = 5.0
    live_retry_seconds: float = 0.5
    stale_seconds: float = 3.0  # no fresh prices for this long: the engine is stale
    stop_seconds: float = 5.0  # how long a stop waits for live orders in flight
    #: Running figures only (no fill, no signal change) are published every this many cycles.
    status_cycles: int = 1
    #: Told the seconds of every realtime cycle of every engine (metrics).
    on_cycle: Listeners[[float]] = field(default_factory=lambda: Listeners("an engine's cycle"))
    boards: Boards = field(default_factory=Boards)
    turns: Turns = field(default_factory=Turns)
    history: SharedHistory = field(default_factory=SharedHistory)
    #: Every engine's position writes go through this one writer (batched across engines).
    writer: PositionWriter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "writer", PositionWriter(self.store, self.publish_position))


__all__ = ["EngineParts", "PriceRound", "PriceSubscription", "Subscribe"]
