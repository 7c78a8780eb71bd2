"""GetPnlHistory's domain: SQL sums of closed positions in buckets, cumulative from ``since``,
pseudo and live apart, one series per quote currency; bad input refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.engine.positions import Mode
from server.engine.store import PositionStore
from server.errors import InvalidArgument, NotFound
from tests.accounts.conftest import Clock, OpenAccounts
from tests.accounts.test_figures import position
from tests.support.stepping import Bench

D = Decimal
SINCE = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


async def test_buckets_are_cumulative_per_mode_and_quote_currency(
    bench: Bench, open_accounts: OpenAccounts, clock: Clock
) -> None:
    clock.now = SINCE + timedelta(hours=3, minutes=30)  # 4 buckets of an hour
    usdt_a = await bench.connect(bench.sim.open_account("binance", balances={"USDT": 1}))
    usdt_b = await bench.connect(bench.sim.open_account("bybit", balances={"USDT": 1}))
    usd = await bench.connect(bench.sim.open_account("binance", balances={"USD": 1}))
    at = SINCE.__add__
    await PositionStore(bench.book.db).save(
        [
            position(usdt_a, pnl="5", closed_at=SINCE - timedelta(seconds=1)),  # before: out
            position(usdt_a, pnl="1.25", closed_at=SINCE),  # bucket 0 (its start)
            position(usdt_b, pnl="0.75", closed_at=at(timedelta(minutes=59, seconds=59))),
            position(usdt_a, pnl="-0.5", closed_at=at(timedelta(hours=1))),  # bucket 1
            position(
                usdt_a,
                mode=Mode.LIVE,
                pnl="2.000000000001",
                closed_at=at(timedelta(hours=2, minutes=1)),
            ),
            position(
                usdt_b, mode=Mode.LIVE, pnl="0.1", closed_at=at(timedelta(hours=3, minutes=29))
            ),
            position(
                usd, symbol="BTC/USD:USD", pnl="9", closed_at=at(timedelta(hours=1, minutes=30))
            ),
            position(usdt_a),  # open: no part of the history
        ]
    )
    accounts = await open_accounts()

    history = await accounts.pnl_history(connection_id="", since=SINCE, bucket_seconds=3600)

    assert (history.bucket_seconds, history.since) == (3600, SINCE)
    by_quote = {s.quote_currency: s.points for s in history.series}
    assert list(by_quote) == ["USD", "USDT"]
    assert [(p.time, p.pseudo, p.live) for p in by_quote["USDT"]] == [
        (at(timedelta(hours=1)), D("2"), D(0)),
        (at(timedelta(hours=2)), D("1.5"), D(0)),
        (at(timedelta(hours=3)), D("1.5"), D("2.000000000001")),
        (at(timedelta(hours=4)), D("1.5"), D("2.100000000001")),
    ]
    assert [(p.pseudo, p.live) for p in by_quote["USD"]] == [(D(0), D(0))] + [(D(9), D(0))] * 3

    # One connection; and a bucket size chosen for the range (at most 200, at least 60 s).
    one = await accounts.pnl_history(connection_id=usdt_b, since=SINCE, bucket_seconds=0)
    (series,) = one.series
    assert one.bucket_seconds == 63  # ceil(12600 s / 200)
    assert len(series.points) == 200
    # Closed 3599 s after since: in bucket 3599 // 63 = 57.
    assert (series.points[56].pseudo, series.points[57].pseudo) == (D(0), D("0.75"))
    assert series.points[-1].live == D("0.1") and series.points[-1].pseudo == D("0.75")


async def test_bad_history_requests_are_refused_naming_the_field(
    bench: Bench, open_accounts: OpenAccounts, clock: Clock
) -> None:
    clock.now = SINCE
    accounts = await open_accounts()
    for query, field in (
        ({"bucket_seconds": 59}, "bucket_seconds"),
        ({"bucket_seconds": 86401}, "bucket_seconds"),
        ({"bucket_seconds": -5}, "bucket_seconds"),
        ({"bucket_seconds": 60, "since": SINCE - timedelta(days=30)}, "bucket_seconds"),
        ({"since": SINCE + timedelta(seconds=5)}, "since"),
        ({"connection_id": "not-a-uuid"}, "connection_id"),
    ):
        request = {"connection_id": "", "since": None, "bucket_seconds": 0} | query
        with pytest.raises(InvalidArgument) as refused:
            await accounts.pnl_history(**request)  # type: ignore[arg-type]
        assert [v.field for v in refused.value.violations] == [field], query
    with pytest.raises(NotFound):
        await accounts.pnl_history(
            connection_id="5b0c6a43-0000-4000-8000-000000000009", since=None, bucket_seconds=0
        )
