"""Shutdown keeps its promise whatever the exchange does: SIGTERM while a live order waits on a
hung exchange ends the server within its grace, streams end with OK, the order stays pending
and is resolved at the next start exactly as after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.positions import Mode, Status
from server.engine.store import PositionStore
from server.storage.database import Database
from tests.conftest import auth
from tests.crash.conftest import LiveStack

GRACE = 2.0


async def test_sigterm_with_a_live_order_on_a_hung_exchange_ends_within_the_grace(
    live_stack: Callable[..., LiveStack],
) -> None:
    # The exchange's timeout (30 s) is far beyond the grace: only abandoning the call can meet it.
    stack = live_stack(CTS_SHUTDOWN_GRACE_SECONDS=str(GRACE), CTS_EXCHANGE_TIMEOUT_SECONDS="30")
    stack.server.start()
    connection_id = await stack.connect("binance")
    running = await stack.engine_until(connection_id, lambda s: s.state == "running")
    (symbol,) = running.symbols
    account = stack.accounts[connection_id]
    stack.faults(account.api_key, hang=True)  # the exchange takes orders and never answers
    stack.set_price(symbol, "102")  # the trend entry fires: pseudo open, then a live buy
    await stack.engine_until(connection_id, lambda s: s.trading.live_orders >= 1)

    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        watching = engine_pb2_grpc.EngineServiceStub(channel).WatchEngines(
            epb.WatchEnginesRequest(), metadata=auth()
        )
        first = await watching.read()
        assert first.WhichOneof("event") == "snapshot"
        terminated = asyncio.ensure_future(asyncio.to_thread(stack.server.terminate))
        while await watching.read() is not grpc.aio.EOF:  # until the server ends the stream
            pass
        assert await watching.code() == grpc.StatusCode.OK  # a clean end, not UNAVAILABLE
        elapsed = await terminated
    assert stack.server.returncode == 0, stack.server.log()[-3000:]
    # Behaviour, not speed: waiting for the exchange would take 30 s or more.
    assert elapsed < GRACE + 5, f"shutdown took {elapsed:.1f} s (grace {GRACE} s)"

    db = Database(stack.database_url, threads=1)
    try:
        store = PositionStore(db)
        (pending,) = await store.pending_orders(connection_id)
        assert (pending.side, pending.intent) == ("buy", "open")
        (live,) = [
            p
            for p in await store.find(
                connection_id=connection_id, status=Status.OPEN, mode=Mode.LIVE, limit=10
            )
        ]
        assert live.state.quantity == 0  # its order's outcome unknown

        # The next start looks the order up before trading: the hung exchange never took it.
        stack.clear_faults()
        stack.server.start()
        await stack.engine_until(connection_id, lambda s: s.state == "running")
        assert await store.pending_orders(connection_id) == []
        (order,) = await store.orders(live.id)
        assert (order.status, order.error) == ("failed", "not found at the exchange")
        (closed,) = await store.find(
            connection_id=connection_id, status=Status.CLOSED, mode=Mode.LIVE, limit=10
        )
        assert (closed.id, closed.close_reason) == (live.id, "order_failed")
        ledger = stack.sim.call(
            lambda: list(stack.sim.simulator.ledgers["binance"].accounts[account.api_key].orders)
        )
        assert ledger == []  # nothing reached the exchange's books
        assert stack.violations() == []
    finally:
        db.close()
