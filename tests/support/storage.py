"""Direct looks at storage, for tests that prove a request changed nothing (or something)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, select

from server.storage.metadata import metadata

# The server's log and the audit trail record what happened, a refused request included (each
# refusal is noted): they are not state a request changes.
RECORDS_OF_EVENTS = frozenset({"log_entries", "audit_entries"})


def dump(engine: Engine, *, with_log: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every CTS table (but the log and the audit trail, unless asked), in a
    stable order (sealed credentials compared as bytes)."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in RECORDS_OF_EVENTS and not with_log:
                continue
            rows = connection.execute(select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def table_names(engine: Engine) -> set[str]:
    reflected = MetaData()
    reflected.reflect(engine)
    return set(reflected.tables)
