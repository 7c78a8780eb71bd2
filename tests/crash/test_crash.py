"""A crash mid-run: the server process is killed with SIGKILL while its engines trade live and
orders are in flight (slow answers, lost answers), then started again on the same data. Nothing
may be doubled, lost or left pending, and the exchange must hold exactly what CTS says it holds.
On SQLite and on PostgreSQL, on each exchange dialect."""

from __future__ import annotations

from collections.abc import Callable

from tests.crash.conftest import LiveStack

EXCHANGES = ("binance", "bybit", "okx")


async def test_sigkill_with_live_orders_in_flight_loses_and_doubles_nothing(
    live_stack: Callable[..., LiveStack],
) -> None:
    stack = live_stack(CTS_ENGINE_SYMBOLS="2")
    stack.server.start()
    connections = {exchange: await stack.connect(exchange) for exchange in EXCHANGES}
    symbols: set[str] = set()
    for connection_id in connections.values():
        running = await stack.engine_until(connection_id, lambda s: s.state == "running")
        symbols.update(running.symbols)
    for account in stack.accounts.values():
        # Every order takes a while; the next two lose their answers on the way back.
        stack.faults(account.api_key, latency_ms=1500, lose_answers=2)
    for symbol in symbols:
        stack.set_price(symbol, "102")  # every engine's trend entry fires
    for connection_id in connections.values():
        await stack.engine_until(connection_id, lambda s: s.trading.live_orders >= 1)

    stack.server.kill()  # orders in flight, pseudo fills maybe not yet stored
    stack.clear_faults()
    stack.server.start()
    holding = []  # connections whose live buy went through (found by its client id at start)
    for connection_id in connections.values():
        running = await stack.engine_until(connection_id, lambda s: s.state == "running")
        if running.trading.open_live_positions:
            holding.append(connection_id)
    assert holding, "no live order reached the exchange before the kill: nothing was in flight"

    # Second crash, with the closes in flight: every symbol falls through its stop-loss.
    for account in stack.accounts.values():
        stack.faults(account.api_key, latency_ms=1500, lose_answers=1)
    for symbol in symbols:
        stack.set_price(symbol, "100")
    for connection_id in holding:
        await stack.engine_until(connection_id, lambda s: s.trading.live_orders >= 1)
    stack.server.kill()
    stack.clear_faults()
    stack.server.start()
    for connection_id in connections.values():
        await stack.engine_until(connection_id, lambda s: s.state == "running")
    for connection_id in connections.values():
        stopped = await stack.stop_engine(connection_id)  # nothing in flight after this
        assert stopped.state == "stopped"

    violations = stack.violations()
    assert violations == [], "\n".join(violations)
