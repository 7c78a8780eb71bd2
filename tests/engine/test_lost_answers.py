"""A live order whose answer is lost leaves exactly one order on the exchange, on every exchange
and API type an engine runs on: the engine stores the order with its client order id before
sending it, and after the lost answer finds it by that id (each exchange has its own field and
lookup) instead of sending it again.

The engine's feed is stepped by the test (tests/support/stepping.py): prices held at 100 while
it loads, then 102, where trend/trailing (made optimal by stored history) opens a long and the
engine buys 50 USDT of it on the exchange.
"""

from __future__ import annotations

import pytest

from server.engine.store import PositionStore
from tests.engine.test_every_exchange import VENUES
from tests.support.stepping import Bench
from tests.support.venues import SIMULATED_AS


@pytest.mark.parametrize(("exchange", "api_type"), VENUES, ids=lambda v: str(v))
async def test_a_live_order_whose_answer_is_lost_is_on_the_exchange_once(
    bench: Bench, exchange: str, api_type: str
) -> None:
    simulated_as = SIMULATED_AS.get((exchange, api_type), exchange)
    account, engine, symbol = await bench.live_engine(
        ["trend/trailing"],
        ["trend/trailing"],
        exchange=exchange,
        api_type=api_type,
        simulated_as=simulated_as,
        volume_factor="5",  # 50 USDT per order
    )
    assert engine.desk is not None and engine.book is not None
    # The exchange carries out the next order but its answer is lost on the way back.
    bench.sim.faults.set({"lose_answers": 1}, api_key=account.api_key)

    await bench.prices(symbol, ["102"])
    await engine.desk.drain()

    orders = list(bench.sim.ledgers[simulated_as].accounts[account.api_key].orders.values())
    assert len(orders) == 1, [(o.side.value, o.amount) for o in orders]
    (bought,) = orders
    assert (bought.side.value, bought.type.value, bought.status.value) == (
        "buy",
        "market",
        "filled",
    )
    (live,) = engine.desk.positions.values()
    (pseudo,) = engine.book.open.values()
    assert live.follows == pseudo.id and live.state.quantity > 0
    # Stored before it was sent; one attempt whose answer was lost, then found by its id.
    (stored,) = await PositionStore(bench.book.db).orders(live.id)
    assert (stored.status, stored.attempts, stored.filled) == ("filled", 1, live.state.quantity)
    # The exchange knows that order by the stored client order id (in its own field).
    target = await bench.book.connections.target(engine.connection_id)
    found = await bench.access.call(
        target, lambda a: a.find_order(stored.client_order_id, stored.symbol)
    )
    assert found is not None and found.id == stored.exchange_order_id, found
    assert engine.status.trading.live_orders == 1
    await engine.stop()
