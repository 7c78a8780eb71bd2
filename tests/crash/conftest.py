"""A CTS server process trading live against the exchange simulator, to be stopped and killed.

Every simulated asset is held flat at 100 before the engines load (flat history); trend/trailing
is made optimal by five stored winning positions before a connection's engine starts, so moving
a symbol to 102 makes the engine open a pseudo position and follow it with a real order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.store import PositionStore
from server.simulator.instruments import ASSETS
from server.simulator.ledger import Account
from server.storage.database import Database
from tests.conftest import TEST_TOKEN, auth
from tests.support.invariants import Link, check
from tests.support.rpc import engine_until
from tests.support.server_process import ServerProcess
from tests.support.simulator_thread import SimulatorThread
from tests.support.stepping import optimal_history

API_TYPES = {"binance": "spot", "bybit": "perpetual_futures", "okx": "perpetual_futures"}
BALANCES: dict[str, Decimal | str | int] = {"USDT": Decimal(100000)}
BALANCES_DECIMAL = {"USDT": Decimal(100000)}


def engine_settings(database_url: str, simulator_url: str, **extra: str) -> dict[str, str]:
    return {
        "CTS_DATABASE_URL": database_url,
        "CTS_ADMIN_TOKEN": TEST_TOKEN,
        "CTS_SIMULATOR_URL": simulator_url,
        "CTS_ENGINES": "true",
        "CTS_ENGINE_CYCLE_SECONDS": "0.2",
        "CTS_ENGINE_SYMBOLS": "1",
        "CTS_ENGINE_TIMEFRAME": "1h",
        "CTS_ENGINE_HISTORY_BARS": "40",
        "CTS_ENGINE_SETS": "trend/trailing",
        "CTS_ENGINE_MARK_SECONDS": "0.5",
        **extra,
    }


class LiveStack:
    """The simulator (in this process) and a CTS server process trading live on it."""

    def __init__(self, sim: SimulatorThread, server: ServerProcess, database_url: str) -> None:
        self.sim = sim
        self.server = server
        self.database_url = database_url
        self.accounts: dict[str, Account] = {}  # connection id → its simulator account

    def hold_prices(self, price: str) -> None:
        """Every asset held flat at ``price``; BTC traded the most whatever the hour, so an
        engine of one symbol trades BTC, whose amount step fits every order the tests make
        (MATIC's step of 1, top by volume at some hours, refused a 0.49 buy)."""

        def hold() -> None:
            for asset in ASSETS:
                self.sim.simulator.prices.set_price(asset.code, price)
            self.sim.simulator.prices.scale_volume("BTC", 1000)

        self.sim.call(hold)

    def set_price(self, symbol: str, price: str) -> None:
        base = symbol.split("/")[0]
        self.sim.call(lambda: self.sim.simulator.prices.set_price(base, price))

    def faults(self, api_key: str, **values: Any) -> None:
        self.sim.call(lambda: self.sim.simulator.faults.set(values, api_key=api_key))

    def clear_faults(self) -> None:
        self.sim.call(self.sim.simulator.faults.clear)

    async def connect(self, exchange: str, *, volume_factor: str = "5") -> str:
        """A live connection whose engine starts with trend/trailing optimal; its id."""
        account = self.sim.call(
            lambda: self.sim.simulator.open_account(exchange, balances=BALANCES)
        )
        async with grpc.aio.insecure_channel(self.server.target) as channel:
            stub = connection_pb2_grpc.ConnectionServiceStub(channel)
            values: dict[str, Any] = {
                "name": f"{exchange} live {account.api_key[-6:]}",
                "exchange": exchange,
                "api_type": API_TYPES[exchange],
                "is_simulated": True,
                "is_enabled": True,
                "is_active": False,  # no engine before its history is stored
                "api_key": account.api_key,
                "api_secret": account.secret,
                "volume_factor": volume_factor,
            }
            if account.passphrase is not None:
                values["api_passphrase"] = account.passphrase
            created = await stub.CreateConnection(
                cpb.CreateConnectionRequest(connection=cpb.Connection(**values)), metadata=auth()
            )
            await stub.SetLiveTrade(
                cpb.SetLiveTradeRequest(id=created.id, is_live_trade=True, confirm=True),
                metadata=auth(),
            )
            db = Database(self.database_url, threads=1)
            try:
                await optimal_history(PositionStore(db), created.id, "BTC/USDT")
            finally:
                db.close()
            await stub.ActivateConnection(
                cpb.ActivateConnectionRequest(id=created.id), metadata=auth()
            )
        self.accounts[created.id] = account
        return str(created.id)

    async def engine_until(
        self, connection_id: str, wanted: Callable[[epb.EngineStatus], bool], timeout: float = 60
    ) -> epb.EngineStatus:
        """The first status of the engine (snapshot or change) that ``wanted`` accepts."""
        async with grpc.aio.insecure_channel(self.server.target) as channel:
            stub = engine_pb2_grpc.EngineServiceStub(channel)
            return await engine_until(stub, connection_id, wanted, timeout)

    def violations(self) -> list[str]:
        """Every trading invariant that does not hold (tests/support/invariants.py)."""
        links = [
            Link(cid, a.exchange, a.api_key, API_TYPES[a.exchange], initial=BALANCES_DECIMAL)
            for cid, a in self.accounts.items()
        ]
        return check(self.sim, self.database_url, links)

    async def stop_engine(self, connection_id: str) -> epb.EngineStatus:
        async with grpc.aio.insecure_channel(self.server.target) as channel:
            stub = engine_pb2_grpc.EngineServiceStub(channel)
            response = await stub.StopEngine(
                epb.EngineCommand(connection_id=connection_id), metadata=auth(), timeout=60
            )
            return response  # type: ignore[no-any-return]


@pytest.fixture
def live_stack(
    tmp_path: Path, sim: SimulatorThread, database_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveStack]]:
    """Makes the stack with extra server settings (``CTS_...`` names) once the test knows them."""
    made: list[LiveStack] = []

    def make(**settings: str) -> LiveStack:
        server = ServerProcess(
            tmp_path / "data", engine_settings(database_url, sim.base_url, **settings)
        )
        stack = LiveStack(sim, server, database_url)
        stack.hold_prices("100")
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.server.stop()
