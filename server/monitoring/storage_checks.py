"""Start-up checks of storage: does the database answer, and is its schema the newest?"""

from __future__ import annotations

import time
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.monitoring.check import Finding
from server.settings import Settings
from server.storage.database import Database
from server.storage.migrate import alembic_config


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def database_for_checks(settings: Settings) -> Database | None:
    """The configured database, opened without creating anything: None when its SQLite file
    does not exist (opening it would create an empty one, and its folder)."""
    path = sqlite_file(settings.resolved_database_url)
    if path is not None and not path.exists():
        return None
    return Database(
        settings.resolved_database_url,
        threads=2,
        connect_timeout=settings.database_connect_timeout_seconds,
    )


def describe(database_url: str) -> str:
    """Where the database is, in words (never its password)."""
    path = sqlite_file(database_url)
    if path is not None:
        return f"SQLite at {path}"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return "SQLite in memory"
    where = f"{url.host or 'localhost'}:{url.port or 5432}" if url.host else "its socket"
    return f"PostgreSQL at {where}, database {url.database or '(default)'}"


def reason(error: SQLAlchemyError) -> str:
    """The driver's own words for a storage error (first line, without Python type names)."""
    words = str(getattr(error, "orig", None) or error).strip().splitlines()
    return words[0][:200] if words else "no reason given"


async def storage_reachable(database: Database | None, database_url: str) -> Finding:
    """A trivial query, and how long it took."""
    where = describe(database_url)
    if database is None:
        return Finding.failed(
            f"no database at {sqlite_file(database_url)}: the server creates it at its first "
            "start (`cts serve`, `cts up`), or run `cts db upgrade`"
        )

    def ask(session: Session) -> float:
        started = time.perf_counter()
        session.execute(text("select 1")).scalar_one()
        return (time.perf_counter() - started) * 1000

    try:
        latency_ms = await database.read(ask)
    except SQLAlchemyError as error:
        return Finding.failed(f"{where} does not answer: {reason(error)}")
    return Finding.passed(f"{where} answers (select 1 in {latency_ms:.1f} ms)")


async def schema_current(database: Database) -> Finding:
    """The database's Alembic revision against the newest migration CTS ships."""

    def revisions(session: Session) -> tuple[tuple[str, ...], str | None, set[str]]:
        script = ScriptDirectory.from_config(alembic_config())
        current = MigrationContext.configure(session.connection()).get_current_heads()
        known = {revision.revision for revision in script.walk_revisions()}
        return tuple(current), script.get_current_head(), known

    try:
        current, head, known = await database.read(revisions)
    except SQLAlchemyError as error:
        return Finding.failed(f"the schema's revision could not be read: {reason(error)}")
    upgrade = "run `cts db upgrade` (the server also migrates at its start)"
    if not current:
        return Finding.failed(f"no schema: no migration has run; {upgrade}")
    if current == (head,):
        return Finding.passed(f"at revision {head}, the newest")
    unknown = sorted(set(current) - known)
    if unknown:
        return Finding.failed(
            f"at revision {', '.join(unknown)}, which this version of CTS does not know "
            f"(its newest is {head}): the database was migrated by a newer CTS"
        )
    return Finding.failed(f"at revision {', '.join(current)}; the newest is {head}: {upgrade}")
