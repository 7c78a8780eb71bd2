"""What an account summary is made of: the balance read from the exchange and the figures of
CTS's own positions, pseudo and live apart (see ``proto/cts/connection/v1/account.proto``).

Money is Decimal, in the account's quote currency (:mod:`server.accounts.quote`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    """What the exchange said the account holds, as of ``read_at`` (None before the first read).

    ``error`` is the failure kind of the last read ("" when it succeeded); the figures stay
    those of the last successful read."""

    equity: Decimal = ZERO
    free: Decimal = ZERO
    used: Decimal = ZERO
    read_at: datetime | None = None
    error: str = ""
    unvalued_assets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Figures:
    """What CTS's positions of one mode say about one account. ``unrealized_pnl`` is None when
    an open position has no mark yet."""

    open_positions: int = 0
    realized_pnl_today: Decimal = ZERO
    realized_pnl_total: Decimal = ZERO
    unrealized_pnl: Decimal | None = ZERO
    open_notional: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class AccountSummary:
    connection_id: str
    quote_currency: str
    balance: Balance = field(default_factory=Balance)
    pseudo: Figures = field(default_factory=Figures)
    live: Figures = field(default_factory=Figures)
    updated_at: datetime | None = None

    def same_figures(self, other: AccountSummary | None) -> bool:
        """Whether ``other`` says the same (its ``updated_at`` aside)."""
        return other is not None and (
            self.connection_id,
            self.quote_currency,
            self.balance,
            self.pseudo,
            self.live,
        ) == (other.connection_id, other.quote_currency, other.balance, other.pseudo, other.live)
