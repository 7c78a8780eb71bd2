"""One engine's slow stop holds up no other engine: an engine switched off while its live order
waits on a hung exchange takes up to the shutdown grace to stop, and meanwhile another
connection switched off stops at once (each connection is reconciled on its own)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc

from tests.conftest import auth
from tests.crash.conftest import LiveStack
from tests.support.rpc import engine_until

GRACE = 8.0  # how long a stop waits for a live order in flight


async def test_an_engine_stopping_on_a_hung_exchange_holds_up_no_other_engine(
    live_stack: Callable[..., LiveStack],
) -> None:
    stack = live_stack(CTS_SHUTDOWN_GRACE_SECONDS=str(GRACE), CTS_EXCHANGE_TIMEOUT_SECONDS="30")
    stack.server.start()
    slow, quick = await stack.connect("binance"), await stack.connect("binance")
    running = await stack.engine_until(slow, lambda s: s.state == "running")
    await stack.engine_until(quick, lambda s: s.state == "running")
    (symbol,) = running.symbols
    stack.faults(stack.accounts[slow].api_key, hang=True)  # its orders are never answered
    stack.set_price(symbol, "102")  # the trend entry fires: a live buy on each
    await stack.engine_until(slow, lambda s: s.trading.live_orders >= 1)

    async with grpc.aio.insecure_channel(stack.server.target) as channel:
        connections = connection_pb2_grpc.ConnectionServiceStub(channel)
        engines = engine_pb2_grpc.EngineServiceStub(channel)

        async def switch_off(connection_id: str) -> None:
            await connections.ToggleConnection(
                cpb.ToggleConnectionRequest(id=connection_id, is_enabled=False), metadata=auth()
            )

        await switch_off(slow)
        await engine_until(engines, slow, lambda s: s.state == "stopping")
        await switch_off(quick)
        await engine_until(engines, quick, lambda s: s.state == "stopped", timeout=GRACE / 2)
        # The slow one still waits for its order: it was not what held the quick one up.
        still = await engines.GetEngineStatus(
            epb.GetEngineStatusRequest(connection_id=slow), metadata=auth()
        )
        assert still.state == "stopping"
        stopped = await engine_until(engines, slow, lambda s: s.state == "stopped", timeout=30)
        assert stopped.trading.live_orders >= 1  # the order in flight stays pending
