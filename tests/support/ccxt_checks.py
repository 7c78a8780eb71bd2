"""What ccxt parsed, checked against what the simulator holds: balances and tickers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.simulator.instruments import ASSETS
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


def assert_ticker_matches(ticker: dict[str, Any], base: str, around: set[Any]) -> None:
    """last is the simulator's price (read just before or after), bid/ask one tick away."""
    tick = next(a.price_tick for a in ASSETS if a.code == base)
    last = Decimal(str(ticker["last"]))
    assert last in around
    assert Decimal(str(ticker["bid"])) == last - tick
    assert Decimal(str(ticker["ask"])) == last + tick
