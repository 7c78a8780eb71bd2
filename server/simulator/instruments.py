"""What the simulated exchanges list: the same instruments on each, spot and USDT-linear perps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

QUOTE = "USDT"


class Kind(StrEnum):
    SPOT = "spot"
    LINEAR = "linear"  # USDT-margined perpetual swap


@dataclass(frozen=True, slots=True)
class Asset:
    """A base asset with its starting price and the grid its markets trade on."""

    code: str
    start_price: Decimal
    price_tick: Decimal
    amount_step: Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """One market. Identifiers in each exchange's own spelling are the dialects' business."""

    base: str
    quote: str
    kind: Kind
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    max_leverage: int = 1

    @property
    def symbol(self) -> str:
        """The ccxt unified symbol: ``BTC/USDT`` (spot) or ``BTC/USDT:USDT`` (linear perp)."""
        if self.kind is Kind.LINEAR:
            return f"{self.base}/{self.quote}:{self.quote}"
        return f"{self.base}/{self.quote}"

    @property
    def plain_id(self) -> str:
        """``BTCUSDT``: how Binance and Bybit name both the spot and the perp market."""
        return f"{self.base}{self.quote}"

    def round_price(self, price: Decimal) -> Decimal:
        return (price / self.price_tick).to_integral_value() * self.price_tick

    def floor_amount(self, amount: Decimal) -> Decimal:
        return (amount / self.amount_step).to_integral_value(
            rounding="ROUND_FLOOR"
        ) * self.amount_step

    def decimals(self, step: Decimal) -> int:
        return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


# 24 assets: enough for engines that follow 20 symbols each.
ASSETS: tuple[Asset, ...] = tuple(
    Asset(code, Decimal(price), Decimal(tick), Decimal(step))
    for code, price, tick, step in (
        ("BTC", "65000", "0.1", "0.00001"),
        ("ETH", "3200", "0.01", "0.0001"),
        ("SOL", "150", "0.01", "0.01"),
        ("XRP", "0.55", "0.0001", "1"),
        ("BNB", "580", "0.01", "0.001"),
        ("ADA", "0.45", "0.0001", "1"),
        ("DOGE", "0.12", "0.00001", "1"),
        ("AVAX", "35", "0.001", "0.01"),
        ("DOT", "7", "0.001", "0.1"),
        ("LINK", "15", "0.001", "0.01"),
        ("TRX", "0.12", "0.00001", "1"),
        ("MATIC", "0.7", "0.0001", "1"),
        ("LTC", "80", "0.01", "0.001"),
        ("BCH", "450", "0.1", "0.001"),
        ("ATOM", "9", "0.001", "0.01"),
        ("UNI", "8", "0.001", "0.01"),
        ("XLM", "0.11", "0.00001", "1"),
        ("ETC", "27", "0.001", "0.01"),
        ("FIL", "6", "0.001", "0.1"),
        ("APT", "9", "0.001", "0.01"),
        ("ARB", "1.1", "0.0001", "0.1"),
        ("OP", "2.5", "0.0001", "0.1"),
        ("NEAR", "5", "0.001", "0.1"),
        ("INJ", "25", "0.001", "0.01"),
    )
)
ASSET_BY_CODE = {asset.code: asset for asset in ASSETS}

SPOT_MAKER_FEE = Decimal("0.001")
SPOT_TAKER_FEE = Decimal("0.001")
LINEAR_MAKER_FEE = Decimal("0.0002")
LINEAR_TAKER_FEE = Decimal("0.0005")


def instruments() -> tuple[Instrument, ...]:
    """Every market of a simulated exchange: a spot and a linear perp market per asset."""
    listed = []
    for asset in ASSETS:
        for kind in (Kind.SPOT, Kind.LINEAR):
            spot = kind is Kind.SPOT
            listed.append(
                Instrument(
                    base=asset.code,
                    quote=QUOTE,
                    kind=kind,
                    price_tick=asset.price_tick,
                    amount_step=asset.amount_step,
                    min_amount=asset.amount_step,
                    min_notional=Decimal(5),
                    maker_fee=SPOT_MAKER_FEE if spot else LINEAR_MAKER_FEE,
                    taker_fee=SPOT_TAKER_FEE if spot else LINEAR_TAKER_FEE,
                    max_leverage=1 if spot else 100,
                )
            )
    return tuple(listed)
