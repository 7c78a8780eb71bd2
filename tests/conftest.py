"""Fixtures shared by every test: storage on SQLite and PostgreSQL, a real server, stubs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2_grpc
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.settings import Settings
from server.simulator.server import Simulator
from tests.support.ports import free_port
from tests.support.schemas import fresh_schema
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

TEST_TOKEN = "cts_test_token_for_the_suite_only_0123456789"
POSTGRES_URL = os.environ.get(
    "CTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# CI sets this so that an unreachable PostgreSQL fails the run instead of skipping its tests.
REQUIRE_POSTGRES = os.environ.get("CTS_TEST_REQUIRE_POSTGRES") == "1"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: its own data folder, free ports, a known admin token."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": f"sqlite:///{data_dir / 'cts.db'}",
        "grpc_port": 0,
        "http_port": free_port(),
        "webui_port": free_port(),
        "envoy_admin_port": free_port(),
        "metrics_port": 0,
        "admin_token": TEST_TOKEN,
        "stream_heartbeat_seconds": 15.0,
        "token_cache_seconds": 0.0,
        "master_key": None,
        # No test may reach a real exchange: health checks run only where a test turns them on
        # (with connections on the simulator).
        "health_checks": False,
        "engines": False,
    }
    values.update(overrides)
    return Settings(**values)


def auth(token: str = TEST_TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server the storage tests run against (skipped, clearly, when absent)."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        message = (
            "PostgreSQL is not reachable at "
            f"{make_url(POSTGRES_URL).render_as_string(hide_password=True)} "
            f"({type(exc).__name__}); set CTS_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, private schema (dropped afterwards)."""
    with fresh_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on SQLite and on the machine's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cts.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """The exchange simulator (Binance, Bybit, OKX) on a free port, in its own thread."""
    thread = SimulatorThread(Simulator(seed=5)).start()
    yield thread
    thread.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """A real CTS gRPC server on a free port, on SQLite in a fresh data folder."""
    thread = ServerThread(make_settings(tmp_path / "data")).start()
    yield thread
    thread.stop()


@pytest.fixture
async def channel(server: ServerThread) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


@pytest.fixture
def connections_stub(channel: grpc.aio.Channel) -> connection_pb2_grpc.ConnectionServiceStub:
    return connection_pb2_grpc.ConnectionServiceStub(channel)
