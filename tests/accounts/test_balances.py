"""Balances read through exchange access from the exchange simulator: periodically, spread
over the interval; soon after live fills (a burst: one read); a failed read keeps the figures
and says why. Spot equity values the held assets at the market feeds' last prices."""

from __future__ import annotations

import itertools
from decimal import Decimal

from server.engine.feed import MarketFeeds, MarketSource
from server.engine.status import Desired
from tests.accounts.conftest import OpenAccounts, summary_where
from tests.support.stepping import Bench

D = Decimal
ACCOUNT_PATH = "/api/v3/account"  # Binance spot's balance (ccxt fetch_balance)


def balance_reads(bench: Bench, api_key: str) -> list[float]:
    return [r.time for r in bench.sim.requests if r.api_key == api_key and r.path == ACCOUNT_PATH]


async def test_balances_are_read_periodically_and_spread_over_the_interval(
    bench: Bench, open_accounts: OpenAccounts, feeds: MarketFeeds
) -> None:
    holdings = {"USDT": D("1000.5"), "BTC": D("0.5"), "ETH": D("2")}
    accounts_held = [bench.sim.open_account("binance", balances=holdings) for _ in range(3)]
    ids = [await bench.connect(a, is_enabled=True) for a in accounts_held]
    target = await bench.book.connections.target(ids[0])
    # The spot feed prices BTC (held at 100 by the bench), not ETH.
    prices = feeds.subscribe(MarketSource.of(target), ["BTC/USDT"])
    await prices.next(timeout=20)

    accounts = await open_accounts(interval_seconds=1.5, feeds=feeds)
    for connection_id in ids:
        summary = await summary_where(accounts, connection_id, lambda s: s.balance.read_at)
        assert summary.quote_currency == "USDT"
        assert (summary.balance.equity, summary.balance.free, summary.balance.used) == (
            D("1000.5") + D("0.5") * 100,
            D("1000.5"),
            D(0),
        )
        assert summary.balance.unvalued_assets == ("ETH",)
        assert summary.balance.error == ""
    # A second period reads every account again.
    for connection_id in ids:
        first = accounts.summaries([connection_id])[0].balance.read_at
        assert first is not None
        await summary_where(
            accounts,
            connection_id,
            lambda s, t=first: bool(s.balance.read_at and s.balance.read_at > t),
        )
    prices.close()

    # Each period's reads are 1.5 s / 3 apart (less what the calls themselves vary), never all
    # at once.
    times = sorted(t for a in accounts_held for t in balance_reads(bench, a.api_key)[:1])
    assert len(times) == 3
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(times))


async def test_a_failed_read_keeps_the_last_figures_and_says_why(
    bench: Bench, open_accounts: OpenAccounts
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": "250"})
    connection_id = await bench.connect(account, is_enabled=True)
    accounts = await open_accounts()  # the first period reads it at once
    read = await summary_where(accounts, connection_id, lambda s: s.balance.read_at is not None)
    assert read.balance.equity == D(250)

    bench.sim.faults.set({"down": True}, api_key=account.api_key)
    await accounts.schedule.read_now(connection_id)
    (failed,) = accounts.summaries([connection_id])
    assert failed.balance.error == "unavailable"
    assert (failed.balance.equity, failed.balance.free, failed.balance.read_at) == (
        D(250),
        D(250),
        read.balance.read_at,
    )

    bench.sim.faults.clear()
    account.revoked = True
    await accounts.schedule.read_now(connection_id)
    assert accounts.summaries([connection_id])[0].balance.error == "authentication"

    account.revoked = False
    await accounts.schedule.read_now(connection_id)
    (again,) = accounts.summaries([connection_id])
    assert again.balance.error == "" and again.balance.equity == D(250)


async def test_a_connection_without_credentials_or_disabled_is_never_read(
    bench: Bench, open_accounts: OpenAccounts
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": "5"})
    keyless = await bench.book.connections.create(
        {
            "name": "no keys",
            "exchange": "binance",
            "api_type": "spot",
            "is_simulated": True,
            "is_enabled": True,
        }
    )
    disabled = await bench.connect(account, is_enabled=False)
    accounts = await open_accounts()
    for connection_id in (str(keyless.id), disabled):
        await accounts.schedule.read_now(connection_id)
        (summary,) = accounts.summaries([connection_id])
        assert summary.balance.read_at is None
    assert balance_reads(bench, account.api_key) == []


async def test_live_fills_read_the_balance_soon_and_a_burst_reads_once(
    bench: Bench, open_accounts: OpenAccounts
) -> None:
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",), ["trend/trailing"], volume_factor="5", is_enabled=True
    )
    connection_id = engine.connection_id
    accounts = await open_accounts(fill_delay_seconds=0.2)
    first = await summary_where(accounts, connection_id, lambda s: s.balance.read_at is not None)
    assert first.balance.equity == D(10000)
    reads = len(balance_reads(bench, account.api_key))

    await bench.prices(symbol, ["102"])  # the live position opens: a buy of about 50 USDT
    assert engine.desk is not None
    await engine.desk.drain()
    after = await summary_where(
        accounts, connection_id, lambda s: s.live.open_positions == 1 and s.balance.free < 10000
    )
    usdt = bench.sim.ledgers["binance"].accounts[account.api_key].balance("USDT")
    # What the exchange answered: the ledger's USDT to its 8 decimals.
    assert abs(after.balance.free - usdt.free) <= D("0.00000001")
    # No running feed prices BTC here: it is listed, and the equity is the USDT alone.
    assert after.balance.unvalued_assets == ("BTC",)
    assert after.balance.equity == after.balance.free
    assert len(balance_reads(bench, account.api_key)) == reads + 1

    # Fills in a burst: one read.
    reads = len(balance_reads(bench, account.api_key))
    read_at = after.balance.read_at
    assert read_at is not None
    for _ in range(3):
        accounts.schedule.after_fill(connection_id)
    await summary_where(
        accounts, connection_id, lambda s: bool(s.balance.read_at and s.balance.read_at > read_at)
    )
    await accounts.schedule.read_now(connection_id)  # after the coalesced read, if any other
    assert len(balance_reads(bench, account.api_key)) == reads + 2
    engine.run(Desired.RUNNING)
    await engine.stop()


async def test_a_derivatives_account_is_worth_the_exchanges_total_of_its_settle_currency(
    bench: Bench, open_accounts: OpenAccounts, feeds: MarketFeeds
) -> None:
    account = bench.sim.open_account("bybit", balances={"USDT": "500.25", "BTC": "1"})
    connection_id = await bench.connect(account, api_type="perpetual_futures", is_enabled=True)
    accounts = await open_accounts(feeds=feeds)
    read = await summary_where(accounts, connection_id, lambda s: s.balance.read_at is not None)
    assert read.quote_currency == "USDT"
    # The exchange's own equity of the settle currency: other assets are not CTS's to value.
    assert (read.balance.equity, read.balance.free, read.balance.unvalued_assets) == (
        D("500.25"),
        D("500.25"),
        (),
    )
