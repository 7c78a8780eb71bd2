"""Balances as the simulator's ledger keeps them and as ccxt parsed them, side by side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.simulator.ledger import Account


def ledger_balances(account: Account) -> dict[str, tuple[Decimal, Decimal]]:
    """(free, total) of every non-empty balance, as the ledger keeps it."""
    return {a: (b.free, b.total) for a, b in account.balances.items() if b.total != 0}


def ccxt_balances(balance: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """(free, total) of every non-empty balance in a ccxt ``fetch_balance`` answer."""
    return {
        code: (Decimal(str(balance[code]["free"])), Decimal(str(balance[code]["total"])))
        for code in balance["total"]
        if balance[code]["total"]
    }
