"""Money and durations as the Overview shows them: every amount with its currency, rounded in
Decimal to the currency's places (2 for US-dollar-like currencies, 8 for the others), prices
exactly as the server sends them (the market's precision), how long a position has been open.
Amounts of different currencies are never added. (Times: :func:`webui.components.status.moment`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from google.protobuf import timestamp_pb2

# Quote currencies worth about one US dollar (or one euro): cents are the useful precision.
CENT_CURRENCIES = frozenset(
    {"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USDE", "PYUSD", "EUR", "EURC"}
)
CENT_PLACES = 2
OTHER_PLACES = 8  # BTC, ETH, ... as quote currencies
UNKNOWN = "—"


def decimal_or_none(text: str) -> Decimal | None:
    """A decimal string of the server; None when empty (unknown) or not a number."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def places(currency: str) -> int:
    return CENT_PLACES if currency.upper() in CENT_CURRENCIES else OTHER_PLACES


def rounded(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_EVEN)


def amount(value: Decimal | str | None, currency: str, *, signed: bool = False) -> str:
    """``Decimal("10000")``, ``"USDT"`` → ``10,000.00 USDT``; ``signed``: ``+1.50 USDT`` (zero
    has no sign); unknown → ``—``."""
    number = decimal_or_none(value) if isinstance(value, str) else value
    if number is None:
        return UNKNOWN
    shown = rounded(number, currency)
    if not shown:
        shown = abs(shown)  # no "-0.00"
    text = f"{shown:+,f}" if signed and shown else f"{shown:,f}"
    return f"{text} {currency}".strip()


def total(values: Iterable[str]) -> Decimal | None:
    """The Decimal sum of the known values; None when none is known."""
    known = [v for v in (decimal_or_none(t) for t in values) if v is not None]
    return sum(known, Decimal(0)) if known else None


def quote_of(symbol: str) -> str:
    """A market's quote currency: ``BTC/USDT`` and ``BTC/USDT:USDT`` → ``USDT``."""
    return symbol.split(":", 1)[0].partition("/")[2]


def held_for(opened: timestamp_pb2.Timestamp, now: datetime) -> str:
    """How long a position has been open: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 04 h``."""
    seconds = max(0, int((now - opened.ToDatetime(tzinfo=UTC)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24:02d} h"


def percent(part: Decimal | None, whole: Decimal | None) -> str:
    """``part`` as a signed share of ``whole``: ``+1.25 %``; unknown when either is."""
    if part is None or not whole:
        return UNKNOWN
    value = (part / whole * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{value:+f} %" if value else "0.00 %"
