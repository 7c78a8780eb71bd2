"""Kraken's names for the simulated assets and markets.

Kraken keeps its old four-letter ids for the first assets it listed (``XXBT`` for bitcoin, whose
altname is ``XBT``; ``XXDG`` for dogecoin, altname ``XDG``); newer assets keep their code. A
pair's id is its base altname and quote (``XBTUSDT``), its wsname ``XBT/USDT``. The simulator
quotes every market in USDT (its ledger's quote), so the pairs are Kraken's USDT pairs
(``XBTUSDT``), not the USD ones (``XXBTZUSD``).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.simulator.instruments import Instrument, Kind

# asset code (ccxt's) → (Kraken asset id, altname)
LEGACY = {
    "BTC": ("XXBT", "XBT"),
    "ETH": ("XETH", "ETH"),
    "XRP": ("XXRP", "XRP"),
    "LTC": ("XLTC", "LTC"),
    "XLM": ("XXLM", "XLM"),
    "ETC": ("XETC", "ETC"),
    "DOGE": ("XXDG", "XDG"),
}
# decimals Kraken keeps for an asset (its /Assets ``decimals``)
LEGACY_DECIMALS = 10
DECIMALS = 8


def asset_id(code: str) -> str:
    return LEGACY.get(code, (code, code))[0]


def altname(code: str) -> str:
    return LEGACY.get(code, (code, code))[1]


def asset_decimals(code: str) -> int:
    return LEGACY_DECIMALS if code in LEGACY else DECIMALS


@dataclass(frozen=True, slots=True)
class Pair:
    """One spot market under Kraken's names."""

    instrument: Instrument

    @property
    def id(self) -> str:
        return altname(self.instrument.base) + altname(self.instrument.quote)

    @property
    def wsname(self) -> str:
        return f"{altname(self.instrument.base)}/{altname(self.instrument.quote)}"

    @property
    def price_decimals(self) -> int:
        return self.instrument.decimals(self.instrument.price_tick)

    @property
    def lot_decimals(self) -> int:
        return self.instrument.decimals(self.instrument.amount_step)


class Pairs:
    """The spot pairs of a ledger, found by id, altname or wsname."""

    def __init__(self, instruments: tuple[Instrument, ...]) -> None:
        self.all = [Pair(i) for i in instruments if i.kind is Kind.SPOT]
        self._by_name = {name: p for p in self.all for name in (p.id, p.wsname)}
        self._by_instrument = {p.instrument: p for p in self.all}

    def find(self, name: str) -> Pair | None:
        return self._by_name.get(name)

    def of(self, instrument: Instrument) -> Pair:
        return self._by_instrument[instrument]
