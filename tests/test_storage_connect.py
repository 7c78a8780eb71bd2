"""PostgreSQL connections give up after CTS_DATABASE_CONNECT_TIMEOUT_SECONDS: a database that
refuses or never answers stops the server at once with a clear error, never a hang."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from server.storage.database import Database
from tests.support.cli import run_cts
from tests.support.ports import free_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener takes connections (the kernel completes them) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def select_one(url: str, *, connect_timeout: int) -> tuple[OperationalError, float]:
    """The error of a first query at ``url``, and the seconds it took to come."""
    db = Database(url, threads=1, connect_timeout=connect_timeout)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError) as failed:
            db.read_now(lambda s: s.execute(text("select 1")))
        return failed.value, time.monotonic() - started
    finally:
        db.close()


def serve(tmp_path: Path, url: str, **env: str) -> tuple[int, str, float]:
    started = time.monotonic()
    done = run_cts(
        tmp_path / "data",
        "serve",
        CTS_DATABASE_URL=url,
        CTS_GRPC_PORT=str(free_port()),
        CTS_METRICS_PORT="0",
        **env,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def test_a_closed_port_fails_at_once_with_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql+psycopg://cts@127.0.0.1:{port}/cts"
    error, seconds = select_one(url, connect_timeout=5)
    assert seconds < 2
    assert "Connection refused" in str(error.orig)

    status, stderr, _ = serve(tmp_path, url)
    assert status == 1
    assert stderr.strip() == (
        f"error: the server does not start: PostgreSQL at 127.0.0.1:{port}, database cts does "
        f'not answer: connection failed: connection to server at "127.0.0.1", port {port} '
        "failed: Connection refused"
    )


def test_a_database_that_never_answers_times_out(tmp_path: Path, silent_port: int) -> None:
    url = f"postgresql+psycopg://cts@127.0.0.1:{silent_port}/cts"
    error, seconds = select_one(url, connect_timeout=2)
    assert 1.5 < seconds < 10
    assert "timeout expired" in str(error.orig)

    # The server's own setting; without it the start would wait forever (here: run_cts's 60 s).
    status, stderr, _ = serve(tmp_path, url, CTS_DATABASE_CONNECT_TIMEOUT_SECONDS="2")
    assert status == 1
    assert stderr.strip() == (
        f"error: the server does not start: PostgreSQL at 127.0.0.1:{silent_port}, database cts "
        "does not answer: connection timeout expired"
    )
    assert "Traceback" not in stderr


def test_a_connect_timeout_in_the_url_wins(silent_port: int) -> None:
    url = f"postgresql+psycopg://cts@127.0.0.1:{silent_port}/cts?connect_timeout=2"
    error, seconds = select_one(url, connect_timeout=60)
    assert seconds < 10
    assert "timeout expired" in str(error.orig)
