"""Storage: migrations, SQLite's WAL mode, exact decimals, aware timestamps, sealed secrets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import Session

from server.connections.model import ConnectionRecord
from server.storage.database import Database
from server.storage.metadata import metadata
from server.storage.migrate import downgrade, upgrade
from tests.support.book import Book, open_book
from tests.support.storage import table_names

KEY = "AKIA-KEY-0123456789-DISTINCT"
SECRET = "sEcReT-9f8e7d6c5b4a-DISTINCT"
PASSPHRASE = "pass-PHRASE-424242-DISTINCT"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, threads=2)
    yield database
    database.close()


@pytest.fixture
async def book(database_url: str) -> AsyncIterator[Book]:
    opened = await open_book(database_url)
    yield opened
    opened.close()


def test_migrations_build_exactly_the_models(db: Database) -> None:
    upgrade(db.engine)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_migrations_downgrade_to_nothing_and_back(db: Database) -> None:
    upgrade(db.engine)
    downgrade(db.engine, "base")
    assert table_names(db.engine) <= {"alembic_version"}
    upgrade(db.engine)
    assert {"connections", "api_tokens", "seed_marks"} <= table_names(db.engine)


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.close()


def _record(**overrides: object) -> ConnectionRecord:
    values: dict[str, object] = {
        "name": "decimal check",
        "name_key": f"decimal check {uuid.uuid4()}",
        "exchange": "okx",
        "api_type": "spot",
        "connection_method": "library",
        "authentication_type": "api_key_secret",
        "margin_type": "cross",
        "position_mode": "one-way",
        "volume_factor": Decimal("0.12345678"),
        "leverage": 1,
        "preset_type": "default",
    }
    values.update(overrides)
    return ConnectionRecord(**values)


def test_decimals_round_trip_exactly(db: Database) -> None:
    upgrade(db.engine)
    exact = Decimal("12345678901.12345678")
    record = _record(volume_factor=exact)
    db.write_now(lambda s: s.add(record))
    loaded = db.read_now(lambda s: s.get(ConnectionRecord, record.id))
    assert loaded is not None
    assert isinstance(loaded.volume_factor, Decimal)
    assert loaded.volume_factor == exact
    if db.dialect == "sqlite":  # stored as text, never as a binary float
        with db.engine.connect() as connection:
            kind = connection.execute(
                text("select typeof(volume_factor) from connections")
            ).scalar()
        assert kind == "text"


def test_timestamps_come_back_aware_in_utc(db: Database) -> None:
    upgrade(db.engine)
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    record = _record(created_at=moment, updated_at=moment)
    db.write_now(lambda s: s.add(record))
    loaded = db.read_now(lambda s: s.get(ConnectionRecord, record.id))
    assert loaded is not None
    assert loaded.created_at == moment
    assert (
        loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset().total_seconds() == 0
    )  # type: ignore[union-attr]


def test_naive_timestamps_are_refused(db: Database) -> None:
    upgrade(db.engine)
    record = _record(created_at=datetime(2026, 1, 1))

    def add(session: Session) -> None:
        session.add(record)
        session.flush()

    with pytest.raises(Exception, match="naive datetime"):
        db.write_now(add)


async def test_credentials_are_not_stored_in_clear(book: Book, database_url: str) -> None:
    view = await book.connections.create(
        {
            "name": "sealed",
            "exchange": "okx",
            "api_type": "spot",
            "api_key": KEY,
            "api_secret": SECRET,
            "api_passphrase": PASSPHRASE,
        }
    )
    assert view.has_credentials and view.has_passphrase
    if book.db.dialect == "sqlite":
        book.db.engine.dispose()  # let SQLite write everything out, WAL included
        path = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    else:
        with book.db.engine.connect() as connection:
            rows = connection.execute(text("select t::text from connections t")).scalars().all()
        raw = "\n".join(rows).encode()
    assert raw, "nothing was read back"
    for secret in (KEY, SECRET, PASSPHRASE):
        assert secret.encode() not in raw
    assert KEY[-4:].encode() in raw  # only the hint (last four characters) is in clear


async def test_sealed_credentials_open_only_for_their_own_row_and_field(book: Book) -> None:
    view = await book.connections.create(
        {
            "name": "owner",
            "exchange": "okx",
            "api_type": "spot",
            "api_key": KEY,
            "api_secret": SECRET,
        }
    )
    record = book.db.read_now(lambda s: s.get(ConnectionRecord, view.id))
    assert record is not None and record.api_secret_sealed is not None
    assert (
        book.cipher.open(record.api_secret_sealed, owner=f"connection:{view.id}:api_secret")
        == SECRET
    )
    from server.vault.cipher import SealedValueError

    with pytest.raises(SealedValueError):
        book.cipher.open(record.api_secret_sealed, owner=f"connection:{view.id}:api_key")
    with pytest.raises(SealedValueError):
        book.cipher.open(record.api_secret_sealed, owner=f"connection:{uuid.uuid4()}:api_secret")
