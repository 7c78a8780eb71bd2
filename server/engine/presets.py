"""Parameters of every indication and strategy, and the three presets a connection chooses from.

Indication parameters are plain floats and ints: they feed float64 signal math. Strategy
parameters are Decimal: they size orders and set exit prices, which is money.

Fractions are plain fractions, never percent: ``Decimal("0.02")`` is 2 %. Order sizes
(``base_value``) are in the quote currency (e.g. 10 USDT) before the connection's volume factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.connections.vocabulary import PresetType
from server.errors import InvalidArgument


def _require(condition: bool, field: str, description: str) -> None:
    if not condition:
        raise InvalidArgument.field(field, description)


# Indications.


@dataclass(frozen=True, slots=True)
class DirectionParams:
    """Trend from a fast and a slow simple moving average of closes (bars)."""

    fast: int
    slow: int
    threshold: float  # |fast SMA - slow SMA| / last close must exceed this

    def __post_init__(self) -> None:
        _require(self.fast >= 1, "direction.fast", "must be at least 1")
        _require(self.slow > self.fast, "direction.slow", "must be greater than fast")
        _require(self.threshold >= 0, "direction.threshold", "must not be negative")


@dataclass(frozen=True, slots=True)
class MoveParams:
    """A move of more than ``threshold`` (fraction) from the close ``window`` bars ago."""

    window: int
    threshold: float

    def __post_init__(self) -> None:
        _require(self.window >= 1, "move.window", "must be at least 1")
        _require(self.threshold >= 0, "move.threshold", "must not be negative")


@dataclass(frozen=True, slots=True)
class ActiveParams:
    """Sample standard deviation of the last ``window`` simple returns above ``threshold``."""

    window: int
    threshold: float

    def __post_init__(self) -> None:
        _require(self.window >= 2, "active.window", "must be at least 2 returns")
        _require(self.threshold >= 0, "active.threshold", "must not be negative")


@dataclass(frozen=True, slots=True)
class ActiveAdvancedParams:
    """Active on the bars, Active on bars aggregated by ``factor``, and a volume surge."""

    active: ActiveParams  # on the base timeframe
    factor: int  # base bars per higher-timeframe bar (5 turns 1m bars into 5m)
    higher: ActiveParams  # on the higher timeframe
    volume_lookback: int  # bars before the last whose mean volume is the reference
    volume_multiplier: float  # last volume must be at least this times the reference

    def __post_init__(self) -> None:
        _require(self.factor >= 2, "active_advanced.factor", "must be at least 2")
        _require(self.volume_lookback >= 1, "active_advanced.volume_lookback", "must be >= 1")
        _require(self.volume_multiplier > 0, "active_advanced.volume_multiplier", "must be > 0")


@dataclass(frozen=True, slots=True)
class OptimalParams:
    """Which parameter sets count as optimal, judged on their recent closed pseudo positions."""

    lookback: int  # the most recent closed positions per set that are judged
    min_positions: int  # fewer closed positions than this in the lookback: never optimal
    min_profit_factor: Decimal  # a set's profit factor must be at least this
    top_k: int  # at most this many sets are optimal

    def __post_init__(self) -> None:
        _require(self.lookback >= 1, "optimal.lookback", "must be at least 1")
        _require(
            1 <= self.min_positions <= self.lookback,
            "optimal.min_positions",
            "must be between 1 and lookback",
        )
        _require(self.min_profit_factor >= 0, "optimal.min_profit_factor", "must be >= 0")
        _require(self.top_k >= 1, "optimal.top_k", "must be at least 1")


# Strategies.


def _require_exits(
    prefix: str, base_value: Decimal, take_profit: Decimal, stop_loss: Decimal
) -> None:
    _require(base_value > 0, f"{prefix}.base_value", "must be positive")
    _require(take_profit > 0, f"{prefix}.take_profit", "must be positive")
    _require(0 < stop_loss < 1, f"{prefix}.stop_loss", "must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class TrailingParams:
    """One order; a trailing stop arms at ``arm_at`` profit and trails the best price."""

    base_value: Decimal
    take_profit: Decimal
    stop_loss: Decimal
    arm_at: Decimal  # profit fraction from the entry at which the trailing stop arms
    distance: Decimal  # retrace from the best price, as a fraction of it, that closes

    def __post_init__(self) -> None:
        _require_exits("trailing", self.base_value, self.take_profit, self.stop_loss)
        _require(self.arm_at >= 0, "trailing.arm_at", "must not be negative")
        _require(0 < self.distance < 1, "trailing.distance", "must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class BlockParams:
    """Equal blocks, one more each time the signal confirms again, up to ``max_blocks``."""

    base_value: Decimal
    max_blocks: int
    take_profit: Decimal
    stop_loss: Decimal

    def __post_init__(self) -> None:
        _require_exits("block", self.base_value, self.take_profit, self.stop_loss)
        _require(self.max_blocks >= 1, "block.max_blocks", "must be at least 1")


@dataclass(frozen=True, slots=True)
class DcaParams:
    """Safety orders on adverse moves, each larger than the last, up to ``max_safety_orders``."""

    base_value: Decimal
    step: Decimal  # adverse move from the entry that places the first safety order
    step_scale: Decimal  # each next step is the previous one times this
    multiplier: Decimal  # safety order n is worth base_value * multiplier**n
    max_safety_orders: int
    take_profit: Decimal
    stop_loss: Decimal  # from the average entry, only once every safety order is used

    def __post_init__(self) -> None:
        _require_exits("dca", self.base_value, self.take_profit, self.stop_loss)
        _require(0 < self.step < 1, "dca.step", "must be between 0 and 1")
        _require(self.step_scale > 0, "dca.step_scale", "must be positive")
        _require(self.multiplier > 0, "dca.multiplier", "must be positive")
        _require(self.max_safety_orders >= 0, "dca.max_safety_orders", "must not be negative")


StrategyParams = TrailingParams | BlockParams | DcaParams


@dataclass(frozen=True, slots=True)
class Preset:
    """Everything one preset type sets: one parameter set per indication and strategy."""

    preset_type: PresetType
    direction: DirectionParams
    move: MoveParams
    active: ActiveParams
    active_advanced: ActiveAdvancedParams
    optimal: OptimalParams
    trailing: TrailingParams
    block: BlockParams
    dca: DcaParams


D = Decimal

DEFAULT = Preset(
    preset_type=PresetType.DEFAULT,
    direction=DirectionParams(fast=5, slow=20, threshold=0.002),
    move=MoveParams(window=10, threshold=0.01),
    active=ActiveParams(window=20, threshold=0.001),
    active_advanced=ActiveAdvancedParams(
        active=ActiveParams(window=20, threshold=0.001),
        factor=5,
        higher=ActiveParams(window=12, threshold=0.0022),
        volume_lookback=20,
        volume_multiplier=1.5,
    ),
    optimal=OptimalParams(lookback=20, min_positions=5, min_profit_factor=D("1.2"), top_k=3),
    trailing=TrailingParams(
        base_value=D(10),
        take_profit=D("0.03"),
        stop_loss=D("0.015"),
        arm_at=D("0.01"),
        distance=D("0.005"),
    ),
    block=BlockParams(base_value=D(10), max_blocks=3, take_profit=D("0.02"), stop_loss=D("0.015")),
    dca=DcaParams(
        base_value=D(10),
        step=D("0.01"),
        step_scale=D("1.2"),
        multiplier=D("1.5"),
        max_safety_orders=4,
        take_profit=D("0.015"),
        stop_loss=D("0.03"),
    ),
)

CONSERVATIVE = Preset(
    preset_type=PresetType.CONSERVATIVE,
    direction=DirectionParams(fast=10, slow=40, threshold=0.004),
    move=MoveParams(window=20, threshold=0.02),
    active=ActiveParams(window=30, threshold=0.0015),
    active_advanced=ActiveAdvancedParams(
        active=ActiveParams(window=30, threshold=0.0015),
        factor=5,
        higher=ActiveParams(window=12, threshold=0.0033),
        volume_lookback=30,
        volume_multiplier=2.0,
    ),
    optimal=OptimalParams(lookback=30, min_positions=10, min_profit_factor=D("1.5"), top_k=1),
    trailing=TrailingParams(
        base_value=D(5),
        take_profit=D("0.02"),
        stop_loss=D("0.01"),
        arm_at=D("0.008"),
        distance=D("0.004"),
    ),
    block=BlockParams(base_value=D(5), max_blocks=2, take_profit=D("0.015"), stop_loss=D("0.01")),
    dca=DcaParams(
        base_value=D(5),
        step=D("0.015"),
        step_scale=D("1.0"),
        multiplier=D("1.2"),
        max_safety_orders=3,
        take_profit=D("0.01"),
        stop_loss=D("0.02"),
    ),
)

AGGRESSIVE = Preset(
    preset_type=PresetType.AGGRESSIVE,
    direction=DirectionParams(fast=3, slow=12, threshold=0.001),
    move=MoveParams(window=5, threshold=0.006),
    active=ActiveParams(window=12, threshold=0.0006),
    active_advanced=ActiveAdvancedParams(
        active=ActiveParams(window=12, threshold=0.0006),
        factor=3,
        higher=ActiveParams(window=10, threshold=0.001),
        volume_lookback=12,
        volume_multiplier=1.2,
    ),
    optimal=OptimalParams(lookback=15, min_positions=3, min_profit_factor=D("1.0"), top_k=5),
    trailing=TrailingParams(
        base_value=D(20),
        take_profit=D("0.05"),
        stop_loss=D("0.025"),
        arm_at=D("0.015"),
        distance=D("0.008"),
    ),
    block=BlockParams(base_value=D(20), max_blocks=5, take_profit=D("0.03"), stop_loss=D("0.02")),
    dca=DcaParams(
        base_value=D(20),
        step=D("0.008"),
        step_scale=D("1.5"),
        multiplier=D("2"),
        max_safety_orders=5,
        take_profit=D("0.02"),
        stop_loss=D("0.05"),
    ),
)

PRESETS: dict[PresetType, Preset] = {p.preset_type: p for p in (DEFAULT, CONSERVATIVE, AGGRESSIVE)}


def preset_for(preset_type: PresetType | str) -> Preset:
    """The preset a connection's ``preset_type`` names; InvalidArgument for any other name."""
    try:
        return PRESETS[PresetType(preset_type)]
    except ValueError:
        raise InvalidArgument.field(
            "preset_type", f"must be one of {', '.join(PresetType)}"
        ) from None
