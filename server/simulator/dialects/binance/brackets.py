"""Binance's notional brackets of USDⓈ-M futures: leverage caps and maintenance margin."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.binance.wire import BRACKETS, Json
from server.simulator.instruments import Instrument
from server.simulator.ledger import ZERO


def bracket_table(max_leverage: int) -> list[tuple[Decimal, Decimal, int, Decimal, Decimal]]:
    """(floor, cap, leverage, maintenance ratio, maintenance amount) per bracket."""
    table = []
    cum, previous_ratio = ZERO, ZERO
    for floor, cap, leverage, ratio in BRACKETS:
        cum += floor * (ratio - previous_ratio)
        previous_ratio = ratio
        table.append((floor, cap, leverage or max_leverage, ratio, cum))
    return table


def bracket_list(instrument: Instrument) -> list[Json]:
    return [
        {
            "bracket": n,
            "initialLeverage": leverage,
            "notionalCap": int(cap),
            "notionalFloor": int(floor),
            "maintMarginRatio": float(ratio),
            "cum": float(cum),
        }
        for n, (floor, cap, leverage, ratio, cum) in enumerate(
            bracket_table(instrument.max_leverage), start=1
        )
    ]


def bracket_for(notional: Decimal) -> tuple[int, Decimal, Decimal]:
    """(bracket number, maintenance margin ratio, maintenance amount) for a notional."""
    table = bracket_table(0)
    for n, (floor, cap, _, ratio, cum) in enumerate(table, start=1):
        if floor <= notional < cap:
            return n, ratio, cum
    _, _, _, ratio, cum = table[-1]
    return len(table), ratio, cum


def max_notional(instrument: Instrument, leverage: int) -> Decimal:
    """The largest position notional allowed at ``leverage``."""
    allowed = [
        cap
        for _, cap, bracket_leverage, _, _ in bracket_table(instrument.max_leverage)
        if bracket_leverage >= leverage
    ]
    return max(allowed) if allowed else BRACKETS[0][1]
