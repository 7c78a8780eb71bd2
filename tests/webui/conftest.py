"""Dashboard tests: NiceGUI's simulated `user` against a real CTS gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import monitoring_pb2 as mpb
from cts.monitoring.v1 import monitoring_pb2_grpc
from nicegui.testing.general_fixtures import get_path_to_main_file
from nicegui.testing.user import User
from nicegui.testing.user_simulation import user_simulation

from server.simulator.ledger import Account
from tests.conftest import auth, make_settings
from tests.support.chromium import browser, stack  # noqa: F401  (fixtures of the browser tests)
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

Stub = connection_pb2_grpc.ConnectionServiceStub
MonitoringStub = monitoring_pb2_grpc.MonitoringServiceStub
EngineStub = engine_pb2_grpc.EngineServiceStub


@pytest.fixture
def dashboard_settings() -> dict[str, Any]:
    """Overrides of the server's settings (a test module overrides this fixture)."""
    return {}


@pytest.fixture
def dashboard_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dashboard_settings: dict[str, Any]
) -> Iterator[ServerThread]:
    """The server the dashboard under test talks to; its address reaches the app through CTS_*."""
    thread = ServerThread(make_settings(tmp_path / "data", **dashboard_settings)).start()
    monkeypatch.setenv("CTS_HOST", "127.0.0.1")
    monkeypatch.setenv("CTS_GRPC_PORT", str(thread.port))
    monkeypatch.setenv("CTS_DATA_DIR", str(tmp_path / "webui-data"))
    yield thread
    thread.stop()


@pytest.fixture
async def user(
    dashboard_server: ServerThread, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[User]:
    """NiceGUI's `user`, started only once the server it needs is up.

    Like NiceGUI's own fixture, it fails a test that logged an error — but for what the server
    logs at ERROR by design without a traceback (a failed connection test, an engine in error:
    the log tells the operator).
    """
    async with user_simulation(main_file=get_path_to_main_file(request)) as simulated:
        yield simulated
    errors = [
        r
        for r in caplog.get_records("call")
        if r.levelname == "ERROR" and (r.exc_text or not r.name.startswith("cts."))
    ]
    if errors:
        pytest.fail(f"unexpected ERROR logs: {[r.getMessage() for r in errors]}", pytrace=False)


@pytest.fixture
async def stub(dashboard_server: ServerThread) -> AsyncIterator[Stub]:
    """ConnectionService of the dashboard's server, for a test to change things behind it."""
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        yield Stub(channel)


@pytest.fixture
async def engines(dashboard_server: ServerThread) -> AsyncIterator[EngineStub]:
    """EngineService of the dashboard's server, to check what the page shows."""
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        yield EngineStub(channel)


@pytest.fixture
async def monitoring(dashboard_server: ServerThread) -> AsyncIterator[MonitoringStub]:
    """MonitoringService of the dashboard's server, to write log entries behind the pages."""
    async with grpc.aio.insecure_channel(dashboard_server.target) as channel:
        yield MonitoringStub(channel)


async def write_log(
    monitoring: MonitoringStub,
    message: str,
    *,
    level: str = "info",
    category: str = "system",
    connection_id: str = "",
) -> mpb.LogEntry:
    """A log entry, stored and streamed before this returns."""
    entry: mpb.LogEntry = await monitoring.WriteLog(
        mpb.WriteLogRequest(
            level=level, category=category, message=message, connection_id=connection_id
        ),
        metadata=auth(),
    )
    return entry


async def engine_status(engines: EngineStub, connection_id: str) -> epb.EngineStatus:
    """The engine's status as the server has it now."""
    status: epb.EngineStatus = await engines.GetEngineStatus(
        epb.GetEngineStatusRequest(connection_id=connection_id), metadata=auth()
    )
    return status


async def simulated(
    stub: Stub,
    sim: SimulatorThread,
    name: str,
    *,
    api_type: str = "spot",
    account: Account | None = None,
    secret: str | None = None,
    **fields: Any,
) -> pb.Connection:
    """A simulated Bybit connection with the keys of ``account`` or of a fresh one (the
    simulator's default balances: 10000 USDT, 0.25 BTC, 2 ETH); ``secret`` replaces the right
    one."""
    if account is None:
        account = sim.call(lambda: sim.simulator.open_account("bybit"))
    connection = pb.Connection(
        name=name,
        exchange="bybit",
        api_type=api_type,
        is_simulated=True,
        api_key=account.api_key,
        api_secret=secret or account.secret,
        **fields,
    )
    made: pb.Connection = await stub.CreateConnection(
        pb.CreateConnectionRequest(connection=connection), metadata=auth()
    )
    return made
