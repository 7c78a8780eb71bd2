"""The live-exposure rule of one connection, in one place.

What a connection may hold live, counting every order in flight as if it had filled:
- **at most one live position per symbol** — a symbol is taken from the moment an open is
  admitted (before its order is even queued) until that position is closed or its opening order
  is known not to have happened; an order whose outcome is unknown keeps it taken;
- each position's notional within ``max_position_notional`` and all of them together within
  ``max_total_notional``, where a position counts its filled notional plus the notional of its
  orders in flight (admitted, not yet known to have filled or failed);
- nothing at all unless live trading is on; no shorts on spot (spot cannot sell what it does
  not hold).

Opens and adds are *admitted* here before their order is queued and get a ticket; the order's
outcome *settles* the ticket (an unknown outcome leaves it reserved, which is the safe side:
the exchange may have filled it). So the rule holds under any interleaving of signals, fills,
retries and restarts (a restart restores the held positions, the quantity-0 ones whose opening
order is pending counted at that order's value).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the connection allows live trading right now."""

    on: bool
    max_position: Decimal
    max_total: Decimal
    spot: bool


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted open or add: its notional is reserved until its order's outcome is known."""

    id: uuid.UUID
    followed: uuid.UUID  # the pseudo position the live position follows
    notional: Decimal


class Exposure:
    """One connection's live positions and orders in flight, as the rule counts them."""

    def __init__(self) -> None:
        self._symbol_of: dict[uuid.UUID, str] = {}  # followed → symbol, held or opening
        self._held: dict[uuid.UUID, Decimal] = {}  # followed → filled notional
        self._in_flight: dict[uuid.UUID, Ticket] = {}
        self.refused = 0  # opens and adds refused by a notional limit

    # -- asking -------------------------------------------------------------------------------

    def admit_open(
        self,
        followed: uuid.UUID,
        symbol: str,
        *,
        short: bool,
        notional: Decimal,
        allowance: Allowance,
    ) -> Ticket | None:
        """May a live position on ``symbol`` open (following ``followed``)? The ticket of its
        opening order, or None."""
        if not allowance.on or (allowance.spot and short) or symbol in self._symbol_of.values():
            return None
        if not self._within(notional, notional, allowance):
            return None
        self._symbol_of[followed] = symbol
        return self._ticket(followed, notional)

    def admit_add(
        self, followed: uuid.UUID, *, notional: Decimal, allowance: Allowance
    ) -> Ticket | None:
        """May the live position following ``followed`` add ``notional``? The ticket, or None."""
        if not allowance.on or followed not in self._symbol_of:
            return None
        if not self._within(self.position_notional(followed) + notional, notional, allowance):
            return None
        return self._ticket(followed, notional)

    def holds(self, followed: uuid.UUID) -> bool:
        """A live position follows ``followed`` (held, or its opening order in flight)."""
        return followed in self._symbol_of

    def position_notional(self, followed: uuid.UUID) -> Decimal:
        """Filled notional of one live position plus its orders in flight."""
        flying = (t.notional for t in self._in_flight.values() if t.followed == followed)
        return self._held.get(followed, Decimal(0)) + sum(flying, Decimal(0))

    @property
    def total(self) -> Decimal:
        """Every live position's filled notional plus every order in flight."""
        held = sum(self._held.values(), Decimal(0))
        return held + sum((t.notional for t in self._in_flight.values()), Decimal(0))

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self._symbol_of.values())

    # -- telling ------------------------------------------------------------------------------

    def hold(self, followed: uuid.UUID, symbol: str, notional: Decimal) -> None:
        """The live position following ``followed`` holds ``notional`` (filled) now."""
        self._symbol_of[followed] = symbol
        self._held[followed] = notional

    def settle(self, ticket: Ticket) -> None:
        """The ticket's order outcome is known (filled or not): its reservation ends."""
        self._in_flight.pop(ticket.id, None)

    def release(self, followed: uuid.UUID) -> None:
        """The live position following ``followed`` is closed, or never opened."""
        self._symbol_of.pop(followed, None)
        self._held.pop(followed, None)
        for ticket in [t for t in self._in_flight.values() if t.followed == followed]:
            del self._in_flight[ticket.id]

    # -- internals ----------------------------------------------------------------------------

    def _ticket(self, followed: uuid.UUID, notional: Decimal) -> Ticket:
        ticket = Ticket(uuid.uuid4(), followed, notional)
        self._in_flight[ticket.id] = ticket
        return ticket

    def _within(self, position_notional: Decimal, added: Decimal, allowance: Allowance) -> bool:
        if (
            position_notional <= allowance.max_position
            and self.total + added <= allowance.max_total
        ):
            return True
        self.refused += 1
        return False


__all__ = ["Allowance", "Exposure", "Ticket"]
