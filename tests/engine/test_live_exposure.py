"""Live exposure through a real engine: several optimal sets firing on one symbol in one
round make one live position, never one per set (the defect: three buys within 13 ms)."""

from __future__ import annotations

from tests.support.stepping import Bench

SETS = ("trend/trailing", "trend/block", "trend/dca")


async def test_several_optimal_sets_on_one_entry_make_one_live_position(bench: Bench) -> None:
    account, engine, symbol = await bench.live_engine(SETS, SETS, volume_factor="5")
    assert engine.desk is not None and engine.book is not None
    # A slow exchange: the first order is still in flight while the next rounds run.
    bench.sim.faults.set({"latency_ms": 400}, api_key=account.api_key)

    await bench.prices(symbol, ["102", "102.3", "102.4"])  # all three sets open at once
    assert {p.set_id for p in engine.book.open.values()} == set(SETS)
    assert set(engine.status.trading.optimal_sets) == set(SETS)
    await engine.desk.drain()

    orders = list(bench.sim.ledgers["binance"].accounts[account.api_key].orders.values())
    assert [(o.side.value, o.status.value) for o in orders] == [("buy", "filled")]
    (live,) = engine.desk.positions.values()
    assert live.symbol == symbol and live.state.quantity == orders[0].filled
    assert engine.desk.exposure.symbols == {symbol}
    await engine.stop()
