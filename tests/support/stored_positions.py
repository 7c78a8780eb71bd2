"""Open pseudo positions written straight to a server's storage, for tests that need more of
them than an engine opens in a test's time (the server reads them as it would after a restart)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from server.engine.positions import Mode, PositionView
from server.engine.store import PositionStore
from server.engine.strategies import Position, Side
from server.storage.database import Database


async def store_open_positions(
    database_url: str, connection_id: str, count: int
) -> list[PositionView]:
    """``count`` open pseudo positions of the account, stored (see :func:`open_positions`)."""
    views = open_positions(connection_id, count)
    db = Database(database_url, threads=1)
    try:
        await PositionStore(db).save(views)
    finally:
        db.close()
    return views


def open_positions(connection_id: str, count: int) -> list[PositionView]:
    """``count`` open pseudo positions of the account, one a minute apart (50 symbols in turn:
    ``C00/USDT`` …)."""
    start = datetime.now(UTC) - timedelta(days=1)
    return [
        PositionView(
            id=uuid.uuid4(),
            connection_id=connection_id,
            mode=Mode.PSEUDO,
            set_id="trend/trailing",
            symbol=f"C{number % 50:02d}/USDT",
            state=Position(Side.LONG, D("0.5"), D(100), D(100), D(50), D(100)),
            fees=D(0),
            opened_at=start + timedelta(minutes=number),
        )
        for number in range(count)
    ]
