"""The database: one SQLAlchemy engine, units of work on worker threads.

Every unit of work is a plain function ``work(session) -> result`` that runs on one of the
database threads with its own session; :meth:`Database.write` commits it, :meth:`Database.read`
rolls it back. Sessions are never shared between tasks, and the event loop never blocks on I/O.

SQLite (the default) runs in WAL mode; write units start with ``BEGIN IMMEDIATE`` so that two
writers queue on SQLite's lock instead of failing half-way through a transaction. PostgreSQL
connections give up after ``connect_timeout`` seconds (unless the URL sets its own).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from server.storage.aggregates import DecimalSum
from server.storage.writes import WriteThread

T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT_SECONDS = 5

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, so that writes can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()
        # SQLite's SUM of money (stored as exact text) would add binary floats: see aggregates.
        dbapi_connection.create_aggregate("decimal_sum", 1, DecimalSum)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("cts_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_database_engine(
    url: str | URL, *, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_SECONDS
) -> Engine:
    """An engine for ``url`` with the project's defaults (no parameters in error messages)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            hide_parameters=True,
            connect_args={"check_same_thread": False},
            pool_size=8,
            max_overflow=8,
        )
        _prepare_sqlite(engine)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": connect_timeout}
    return create_engine(
        parsed, hide_parameters=True, pool_pre_ping=True, pool_size=8, connect_args=connect_args
    )


class Database:
    """Owns the engine and the worker threads that run units of work."""

    def __init__(
        self,
        url: str | URL,
        *,
        threads: int = 4,
        connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.engine = create_database_engine(url, connect_timeout=connect_timeout)
        self._write_engine = self.engine.execution_options(cts_write=True)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cts-db")
        # SQLite: our own writes queue on one thread (see server.storage.writes).
        self._writes = WriteThread() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def write_now(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a new session on the calling thread and commit it."""
        with Session(self._write_engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result

    def read_now(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a new session on the calling thread; nothing is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            return work(session)

    async def write(self, work: Callable[[Session], T], *, bulk: bool = False) -> T:
        """Run ``work`` as one committed unit of work on a database thread. SQLite: on the one
        write thread, in the order asked; ``bulk`` (the engines' positions) after every other
        write waiting."""
        if self._writes is None:
            return await self._off_loop(self.write_now, work)
        context = contextvars.copy_context()
        done = self._writes.submit(lambda: context.run(self.write_now, work), bulk=bulk)
        result: T = await asyncio.wrap_future(done)
        return result

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` as a read-only unit of work on a database thread."""
        return await self._off_loop(self.read_now, work)

    async def _off_loop(
        self, runner: Callable[[Callable[[Session], T]], T], work: Callable[[Session], T]
    ) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, runner, work)

    def close(self) -> None:
        if self._writes is not None:
            self._writes.shutdown()
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def storage_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says storage is busy (SQLite's write lock held past its busy timeout) or
    unreachable (a connection lost or refused): worth another try, unlike a broken schema or a
    bad statement."""
    if not isinstance(exc, OperationalError):
        return False
    said = str(exc.orig).lower()
    return bool(exc.connection_invalidated) or "database is locked" in said or "is busy" in said
