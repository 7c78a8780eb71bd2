"""An engine trading live on Kraken: Kraken takes a client order id (``cl_ord_id``) again once
no open order carries it, so a resend with the same id is no guard there. After an uncertain
failure the order is only looked up, never sent again: a first request still on its way would
otherwise make a second order."""

from __future__ import annotations

import asyncio

from server.engine.store import PositionStore
from tests.support.stepping import Bench

ADD_ORDER = "/0/private/AddOrder"
CLOSED_ORDERS = "/0/private/ClosedOrders"


async def test_a_kraken_order_whose_outcome_is_uncertain_is_looked_up_never_sent_again(
    bench: Bench,
) -> None:
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",),
        ["trend/trailing"],
        exchange="kraken",
        api_type="spot",
        volume_factor="5",
    )  # 50 USDT per order
    assert engine.desk is not None
    bench.sim.faults.set({"down": True}, api_key=account.api_key)
    sent = asyncio.ensure_future(bench.sim.answered(lambda r: r.path == ADD_ORDER))
    await asyncio.sleep(0)  # the waiter counts requests from here

    await bench.prices(symbol, ["102"])  # trend/trailing opens a long
    async with asyncio.timeout(10):
        first = await sent
    assert first.status >= 500  # refused by an exchange that is down: not carried out
    bench.sim.faults.clear()

    # Looked up (open, then closed orders) again and again, where a resend would have ended it.
    for _ in range(2):
        async with asyncio.timeout(10):
            await bench.sim.answered(lambda r: r.path == CLOSED_ORDERS and r.status == 200)
    assert [r.status for r in bench.sim.requests if r.path == ADD_ORDER] == [first.status]
    assert account.orders == {}
    (live,) = engine.desk.positions.values()
    stored = await PositionStore(bench.book.db).orders(live.id)
    assert [o.status for o in stored] == ["pending"]  # settled once it can no longer arrive
    await engine.stop()
