"""Account summaries over real storage, a real exchange simulator and real exchange access:
the engine bench of ``tests/support/stepping.py`` (SQLite and PostgreSQL) and its topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from server.accounts.model import AccountSummary
from server.accounts.service import Accounts
from server.accounts.valuation import PriceOf, feed_prices
from server.engine.feed import MarketFeeds
from server.exchange.access import Target
from server.streams.topic import Change, Topic
from tests.engine.conftest import bench
from tests.support.stepping import Bench

__all__ = ["bench"]


@dataclass
class Clock:
    """The time the accounts see: the real time, unless a test sets ``now``."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


def no_prices(target: Target) -> PriceOf:
    def price_of(symbol: str) -> Decimal | None:
        return None

    return price_of


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def feeds(bench: Bench) -> AsyncIterator[MarketFeeds]:
    markets = MarketFeeds(bench.access, interval_seconds=0.2)
    yield markets
    await markets.close()


OpenAccounts = Callable[..., Awaitable[Accounts]]


@pytest.fixture
async def open_accounts(bench: Bench, clock: Clock) -> AsyncIterator[OpenAccounts]:
    """Starts the account summaries of the bench (stopped when the test ends)."""
    started: list[Accounts] = []

    async def start(
        *,
        interval_seconds: float = 3600.0,
        fill_delay_seconds: float = 0.05,
        feeds: MarketFeeds | None = None,
    ) -> Accounts:
        accounts = Accounts(
            bench.book.connections,
            bench.access,
            bench.book.db,
            Topic("accounts"),
            bench.positions,
            bench.book.topic,
            prices=feed_prices(feeds) if feeds is not None else no_prices,
            interval_seconds=interval_seconds,
            fill_delay_seconds=fill_delay_seconds,
            clock=clock,
        )
        await accounts.start()
        started.append(accounts)
        return accounts

    yield start
    for accounts in started:
        await accounts.stop()


async def summary_where(
    accounts: Accounts,
    connection_id: str,
    accept: Callable[[AccountSummary], bool],
    timeout: float = 20,
) -> AccountSummary:
    """The account's summary once ``accept`` accepts it (now, or at a later change)."""
    subscription, _ = accounts.topic.subscribe()
    try:
        (current,) = accounts.summaries([connection_id])
        if accept(current):
            return current
        async with asyncio.timeout(timeout):
            while True:
                item = await subscription.next()
                if (
                    isinstance(item, Change)
                    and item.key == connection_id
                    and not item.deleted
                    and accept(item.current)
                ):
                    return item.current
    finally:
        subscription.close()
