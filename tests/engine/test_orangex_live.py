"""An engine trading live on OrangeX perpetual futures against the simulator: an order whose
answer is lost is found by its client order id (OrangeX's ``custom_order_id``, looked up among
the market's open and finished orders) and never placed twice."""

from __future__ import annotations

from server.engine.store import PositionStore
from tests.support.stepping import Bench


async def test_an_orangex_order_whose_answer_was_lost_is_placed_exactly_once(
    bench: Bench,
) -> None:
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",),
        ["trend/trailing"],
        exchange="orangex",
        api_type="perpetual_futures",
        volume_factor="5",
    )  # 50 USDT per order
    assert symbol.endswith(":USDT") and engine.desk is not None
    bench.sim.faults.set({"lose_answers": 1}, api_key=account.api_key)

    await bench.prices(symbol, ["102"])  # trend/trailing opens a long
    await engine.desk.drain()

    (bought,) = account.orders.values()
    assert (bought.side.value, bought.type.value, bought.status.value) == (
        "buy",
        "market",
        "filled",
    )
    buys = [r.status for r in bench.sim.requests if r.path == "/api/v1/private/buy"]
    assert buys == [503]  # carried out, its answer lost; found, not sent again
    (live,) = engine.desk.positions.values()
    assert (live.state.quantity, live.state.average_price) == (bought.filled, bought.average)
    stored = await PositionStore(bench.book.db).orders(live.id)
    assert [(o.client_order_id, o.status, o.attempts) for o in stored] == [
        (bought.client_order_id, "filled", 1)
    ]
    await engine.stop()
