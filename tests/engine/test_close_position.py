"""ClosePosition in the engine, against the exchange simulator round by round: a pseudo close
at the last price booked exactly as a strategy close (fees, PnL, streamed); a live close as one
reduce-only market order through the live desk's exactly-once path, refused without
confirmation with nothing sent; the pseudo position a live one follows stays open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.engine.positions import Mode, Status
from server.engine.store import PositionStore
from server.errors import FailedPrecondition
from tests.engine.test_trading import Trade
from tests.support.stepping import SLIPPAGE, Bench

D = Decimal


async def test_a_pseudo_position_closes_at_the_last_price_like_a_strategy_close(
    bench: Bench,
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102", "102.7"])  # opens at 102.051; 102.7 triggers nothing
    assert engine.book is not None
    (held,) = engine.book.open.values()

    closed = await engine.close_position(held.id, confirm_live=False)

    expected = Trade(D("102.051"), D("102.7") * (1 - SLIPPAGE), "manual")
    assert closed is not None
    assert (closed.status, closed.close_reason, closed.exit_price) == (
        Status.CLOSED,
        "manual",
        expected.exit,
    )
    assert (closed.fees, closed.realized_pnl) == (expected.fees, expected.pnl)
    (stored,) = await PositionStore(bench.book.db).find(
        connection_id=engine.connection_id, status=None, mode=None, limit=9
    )
    assert (stored.status, stored.realized_pnl, stored.close_reason) == (
        Status.CLOSED,
        expected.pnl,
        "manual",
    )
    assert bench.published[-1] == closed  # streamed like any close
    trading = engine.status.trading
    assert (trading.open_pseudo, trading.closed_pseudo, trading.realized_pnl) == (
        0,
        1,
        expected.pnl,
    )
    # Closed already: nothing held any more; nothing reached the exchange.
    assert await engine.close_position(held.id, confirm_live=False) is None
    assert account.orders == {}
    await engine.stop()


async def test_a_live_position_closes_by_one_reduce_only_order_after_confirmation(
    bench: Bench,
) -> None:
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",),
        ["trend/trailing"],
        api_type="perpetual_futures",
        volume_factor="5",
    )
    await bench.prices(symbol, ["102"])  # the pseudo and the live position open
    assert engine.desk is not None and engine.book is not None
    await engine.desk.drain()
    (live,) = engine.desk.positions.values()
    (pseudo,) = engine.book.open.values()
    (bought,) = account.orders.values()

    with pytest.raises(FailedPrecondition) as refused:
        await engine.close_position(live.id, confirm_live=False)
    assert "confirm_live" in refused.value.message
    # Closing the pseudo position would close the live one by the engine's rules: confirmed too.
    with pytest.raises(FailedPrecondition, match="confirm_live"):
        await engine.close_position(pseudo.id, confirm_live=False)
    assert list(account.orders.values()) == [bought]  # nothing sent

    closed = await engine.close_position(live.id, confirm_live=True)

    orders = list(account.orders.values())
    assert len(orders) == 2
    sold = orders[1]
    assert (sold.side.value, sold.type.value, sold.reduce_only, sold.amount) == (
        "sell",
        "market",
        True,
        bought.filled,
    )
    assert closed is not None
    assert (closed.mode, closed.status, closed.close_reason, closed.exit_price) == (
        Mode.LIVE,
        Status.CLOSED,
        "manual",
        sold.average,
    )
    stored_orders = await PositionStore(bench.book.db).orders(live.id)
    # Fees as the exchange's order answers told them (Binance futures' answers carry none).
    assert closed.fees == sum((o.fee or D(0) for o in stored_orders), D(0))
    assert closed.realized_pnl == (sold.average - bought.average) * bought.filled - closed.fees
    assert [(o.intent, o.status, o.client_order_id) for o in stored_orders] == [
        ("open", "filled", bought.client_order_id),
        ("close", "filled", sold.client_order_id),
    ]
    # The pseudo position it followed stays open; when it closes, no second order goes out.
    assert [p.id for p in engine.book.open.values()] == [pseudo.id]
    await bench.prices(symbol, ["104", "100"])  # an exit closes the pseudo position; at 100
    # the entry does not fire again
    await engine.desk.drain()
    assert engine.book.open == {} and len(account.orders) == 2
    await engine.stop()


async def test_close_is_refused_when_the_engine_is_not_running(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102"])
    assert engine.book is not None
    (held,) = engine.book.open.values()
    await engine.stop()

    with pytest.raises(FailedPrecondition, match="not running"):
        await engine.close_position(held.id, confirm_live=False)
    (stored,) = await PositionStore(bench.book.db).find(
        connection_id=engine.connection_id, status=None, mode=None, limit=9
    )
    assert stored.status is Status.OPEN  # untouched
