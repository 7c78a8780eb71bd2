"""The chaos suite's world: a real CTS server (in this process, its own thread) with engines and
live trading on, in front of the exchange simulator (its own thread), for one exchange dialect
(see conftest.py for how scenarios share worlds)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from server.engine.store import PositionStore
from server.simulator.instruments import ASSETS
from server.simulator.ledger import Account
from server.simulator.server import Simulator
from server.storage.database import Database
from tests.conftest import auth, make_settings
from tests.support.invariants import (
    Link,
)
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread
from tests.support.stepping import optimal_history

EXCHANGES = ("binance", "bybit", "okx")
API_TYPES = {"binance": "spot", "bybit": "perpetual_futures", "okx": "perpetual_futures"}
SET_ID = "trend/trailing"
CYCLE_SECONDS = 0.2
STALE_CYCLES = 3
COOLDOWN_SECONDS = 1.0
TIMEOUT_SECONDS = 1.0
FAILURE_THRESHOLD = 3
SETTINGS: dict[str, Any] = {
    "engines": True,
    "engine_cycle_seconds": CYCLE_SECONDS,
    "engine_stale_cycles": STALE_CYCLES,
    "engine_symbols": 2,
    "engine_timeframe": "1h",
    "engine_history_bars": 40,
    "engine_sets": SET_ID,
    "engine_mark_seconds": 1.0,
    "engine_retry_seconds": 0.5,
    "circuit_cooldown_seconds": COOLDOWN_SECONDS,
    "circuit_failure_threshold": FAILURE_THRESHOLD,
    "exchange_timeout_seconds": TIMEOUT_SECONDS,
    "health_checks": True,  # the connection is checked when it is switched on
    "shutdown_grace_seconds": 2.0,
    # The cycle is five times the default's pace: so are the per-minute limits (Bybit's 120
    # would otherwise hold the market feed alone to 2 rounds a second).
    "exchange_limits": {
        "binance": {"per_second": 10, "per_minute": 6000, "concurrent": 10},
        "bybit": {"per_second": 10, "per_minute": 600, "concurrent": 5},
        "okx": {"per_second": 20, "per_minute": 3000, "concurrent": 10},
    },
    "demo": False,
}
FIRST_PRICE = Decimal("102")
STEP = Decimal("1.032")  # beyond the +3 % take-profit of a position opened at the last price
BALANCES: dict[str, Decimal | str | int] = {"USDT": Decimal(100_000)}
CONNECTION: dict[str, Any] = {
    "volume_factor": "20",  # 200 USDT per position: at least one amount step of every asset
    "max_position_notional": "1000",
    "max_total_notional": "5000",
}


def seconds(stamp: Timestamp) -> float:
    return float(stamp.seconds + stamp.nanos / 1e9)


def hold_prices(sim: SimulatorThread, price: Decimal) -> None:
    def hold() -> None:
        for asset in ASSETS:
            sim.simulator.prices.set_price(asset.code, price)

    sim.call(hold)


# -- the world of one dialect ---------------------------------------------------------------------


@dataclass
class World:
    """One dialect's simulator, server and connection, shared by its scenarios."""

    exchange: str
    api_type: str
    sim: SimulatorThread
    server: ServerThread
    database_url: str
    account: Account
    connection_id: str
    link: Link
    price: Decimal = Decimal(100)  # every asset is held here
    moves: int = 0
    recoveries: dict[str, float] = field(default_factory=dict)
    lifts: dict[str, float] = field(default_factory=dict)

    def next_price(self) -> Decimal:
        return FIRST_PRICE if self.moves == 0 else (self.price * STEP).quantize(Decimal("0.01"))


def _store_optimal_history(database_url: str, connection_id: str) -> None:
    async def store() -> None:
        db = Database(database_url, threads=1)
        try:
            await optimal_history(PositionStore(db), connection_id, "BTC/USDT", [SET_ID])
        finally:
            db.close()

    asyncio.run(store())


def _open_world(exchange: str, data: Path) -> World:
    sim = SimulatorThread(Simulator(seed=17)).start()
    try:
        hold_prices(sim, Decimal(100))
        settings = make_settings(data, simulator_url=sim.base_url, **SETTINGS)
        server = ServerThread(settings).start()
    except BaseException:
        sim.stop()
        raise
    try:
        account = sim.call(lambda: sim.simulator.open_account(exchange, balances=BALANCES))
        api_type = API_TYPES[exchange]
        with grpc.insecure_channel(server.target) as channel:
            connections = connection_pb2_grpc.ConnectionServiceStub(channel)
            values: dict[str, Any] = {
                "name": f"chaos {exchange}",
                "exchange": exchange,
                "api_type": api_type,
                "api_key": account.api_key,
                "api_secret": account.secret,
                "is_simulated": True,
                "is_enabled": False,
                "is_active": False,
                **CONNECTION,
            }
            if account.passphrase is not None:
                values["api_passphrase"] = account.passphrase
            made = connections.CreateConnection(
                cpb.CreateConnectionRequest(connection=cpb.Connection(**values)), metadata=auth()
            )
            cid = made.id
            # Optimal before the engine starts, live trading on, then the engine starts.
            _store_optimal_history(settings.resolved_database_url, cid)
            connections.SetLiveTrade(
                cpb.SetLiveTradeRequest(id=cid, is_live_trade=True, confirm=True),
                metadata=auth(),
            )
            # Enabled first: its check runs alone and leaves the health healthy; then active,
            # and the engine starts.
            health = connections.WatchConnections(
                cpb.WatchConnectionsRequest(exchange=exchange), metadata=auth(), timeout=60
            )
            connections.ToggleConnection(
                cpb.ToggleConnectionRequest(id=cid, is_enabled=True), metadata=auth()
            )
            for message in health:
                changed = message.change.connection if message.HasField("change") else None
                if changed is not None and changed.id == cid and changed.health.check_count:
                    assert changed.health.status == "healthy", changed.health
                    break
            else:
                raise AssertionError("the connection stream ended before the first check")
            health.cancel()
            connections.ActivateConnection(cpb.ActivateConnectionRequest(id=cid), metadata=auth())
            engines = engine_pb2_grpc.EngineServiceStub(channel)
            stream = engines.WatchEngines(
                epb.WatchEnginesRequest(connection_id=cid), metadata=auth(), timeout=60
            )
            for message in stream:
                status = (
                    message.change.engine
                    if message.WhichOneof("event") == "change"
                    else message.snapshot.engines[0]
                    if message.WhichOneof("event") == "snapshot" and message.snapshot.engines
                    else None
                )
                if status is not None and status.state == "running" and status.metrics.cycles:
                    assert list(status.trading.optimal_sets) == [SET_ID], status.trading
                    assert status.trading.live_trading, status.trading
                    break
            else:
                raise AssertionError("the engine stream ended before the engine ran")
            stream.cancel()
        initial = {asset: Decimal(amount) for asset, amount in BALANCES.items()}
        link = Link(cid, exchange, account.api_key, api_type, initial=initial)
        return World(
            exchange,
            api_type,
            sim,
            server,
            settings.resolved_database_url,
            account,
            cid,
            link,
        )
    except BaseException:
        server.stop()
        sim.stop()
        raise


class Worlds:
    """The world of one dialect, shared by its scenarios one after the other. A scenario that
    fails leaves its world to nobody: the next one gets a fresh world, so that one defect fails
    one scenario, not every scenario after it."""

    def __init__(self, exchange: str, folders: pytest.TempPathFactory) -> None:
        self.exchange = exchange
        self._folders = folders
        self.current: World | None = None

    def get(self) -> World:
        if self.current is None:
            data = self._folders.mktemp(f"chaos-{self.exchange}") / "data"
            self.current = _open_world(self.exchange, data)
        return self.current

    def discard(self) -> None:
        world, self.current = self.current, None
        if world is None:
            return
        world.server.stop()
        world.sim.stop()
        if world.recoveries:
            summary = ", ".join(f"{name} {value:.2f} s" for name, value in world.recoveries.items())
            print(f"\n[chaos] {self.exchange} recovery times (lift → back to normal): {summary}")
