"""The blotter: every engine's positions as clients see them — pages, the stream, a close.

Open positions are shown as their engines hold them now (with the last mark, newer than
storage); closed ones as stored. A manual close goes through the position's engine
(:meth:`~server.engine.engine.Engine.close_position`), like any close.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import TypeVar

from server.connections.ids import parse_connection_id
from server.connections.service import Connections
from server.engine.engine import Engine
from server.engine.marks import PositionEvent
from server.engine.positions import Mode, PositionView, Status
from server.engine.refusals import confirmation_required, engine_not_running
from server.engine.store import MAX_PAGE, PositionStore
from server.errors import FailedPrecondition, InvalidArgument, NotFound
from server.streams.topic import Topic
from server.streams.watch import StreamItem, watch

E = TypeVar("E", bound=Enum)
DEFAULT_PAGE = 100
MAX_BATCH = 1000  # changes in one message of a watch stream (max_batch is lowered to it)
SNAPSHOT_CLOSED = 200  # closed positions in a WatchPositions snapshot (newest first)


class Blotter:
    def __init__(
        self,
        connections: Connections,
        store: PositionStore,
        engines: Mapping[uuid.UUID, Engine],
        topic: Topic[PositionEvent],
        *,
        heartbeat_seconds: float,
        batch_interval_seconds: float,
    ) -> None:
        self._connections = connections
        self._store = store
        self._engines = engines  # the coordinator's, as they come and go
        self._topic = topic
        self._heartbeat_seconds = heartbeat_seconds
        self._batch_interval_seconds = batch_interval_seconds

    async def page(
        self,
        *,
        connection_id: str | None,
        status: str | None,
        mode: str | None,
        page_size: int,
        page_token: str,
    ) -> tuple[list[PositionView], str]:
        """Positions newest first, one page, and the token of the next ("" on the last page).

        Open positions carry their engine's last mark (unrealised PnL)."""
        cid = await self._known(connection_id)
        wanted_status = _choice(Status, status, "status")
        wanted_mode = _choice(Mode, mode, "mode")
        if page_size < 0:
            raise InvalidArgument.field("page_size", "must not be negative")
        size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
        found = await self._store.find(
            connection_id=cid,
            status=wanted_status,
            mode=wanted_mode,
            limit=size + 1,
            before=_cursor(page_token),
        )
        page = self._marked(found[:size])
        token = _token(page[-1]) if len(found) > size else ""
        return page, token

    def watch(
        self, *, connection_id: str | None, resume_revision: int = 0, max_batch: int = 1
    ) -> AsyncIterator[StreamItem[PositionEvent]]:
        """Every open position (with marks) and the 200 most recently opened closed ones (pseudo
        and live together), then every change."""
        batch = batch_size(max_batch)
        wanted = wanted_connection(connection_id)

        async def load() -> Sequence[PositionEvent]:
            if wanted is not None:
                await self._connections.get(wanted)
            recent = await self._store.find(
                connection_id=wanted, status=Status.CLOSED, mode=None, limit=SNAPSHOT_CLOSED
            )
            # An engine that took back its connection's open positions holds every one, newer
            # than storage: only the others are read (a thousand engines hold ~60,000).
            holders = {
                cid: engine
                for cid, engine in self._engines.items()
                if engine.holds_all and wanted in (None, str(cid))
            }
            stored = []
            if wanted is None or not holders:
                stored = await self._store.all_open(
                    connection_id=wanted, excluding=[str(cid) for cid in holders]
                )
            held = [p for engine in holders.values() for p in engine.holdings()]
            return held + stored + recent

        return watch(
            self._topic,
            load=load,
            matches=lambda p: wanted is None or p.connection_id == wanted,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
            batch=batch,
            batch_interval_seconds=self._batch_interval_seconds,
        )

    async def close(self, position_id: str, *, confirm_live: bool) -> PositionView:
        """Close one open position now through its engine (:meth:`Engine.close_position`).

        INVALID_ARGUMENT: no or a malformed id; NOT_FOUND: no such position;
        FAILED_PRECONDITION: already closed, a live position (or a pseudo one a live position
        follows) without ``confirm_live``, or its engine not running."""
        if not position_id:
            raise InvalidArgument.field("position_id", "required")
        try:
            pid = uuid.UUID(position_id)
        except ValueError:
            raise InvalidArgument.field("position_id", "is not a position id (a UUID)") from None
        stored = await self._store.get(pid)
        if stored is None:
            raise NotFound(
                f"position '{pid}' not found",
                reason="POSITION_NOT_FOUND",
                metadata={"position_id": str(pid)},
            )
        if stored.status is Status.CLOSED:
            raise position_closed(pid)
        if stored.mode is Mode.LIVE and not confirm_live:
            raise confirmation_required("it is a live position")
        engine = self._engines.get(uuid.UUID(stored.connection_id))
        if engine is None:
            raise engine_not_running(stored.connection_id)
        closed = await engine.close_position(pid, confirm_live=confirm_live)
        if closed is None:  # closed meanwhile, or a live one whose opening order is pending
            raise position_closed(pid)
        return closed

    async def _known(self, connection_id: str | None) -> str | None:
        cid = wanted_connection(connection_id)
        if cid is not None:
            await self._connections.get(cid)
        return cid

    def _marked(self, positions: Sequence[PositionView]) -> list[PositionView]:
        """Open positions as their engines hold them now (with the last mark); the others as
        stored. Each engine's holdings are taken once for the page."""
        connections = {p.connection_id for p in positions if p.status is Status.OPEN}
        held = {
            p.id: p
            for cid in connections
            if (engine := self._engines.get(uuid.UUID(cid))) is not None
            for p in engine.holdings()
        }
        return [held.get(p.id, p) if p.status is Status.OPEN else p for p in positions]


def batch_size(max_batch: int) -> int:
    """A watcher's ``max_batch``: 0 or 1 is one change per message; at most ``MAX_BATCH``."""
    if max_batch < 0:
        raise InvalidArgument.field("max_batch", "must not be negative")
    return min(max(max_batch, 1), MAX_BATCH)


def wanted_connection(connection_id: str | None) -> str | None:
    """A request's optional ``connection_id`` filter: None for all, else the id in canonical
    form (a malformed one is the request's error)."""
    if not connection_id:
        return None
    return str(parse_connection_id(connection_id, field="connection_id"))


def position_closed(position_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(f"position '{position_id}' is not open", reason="POSITION_NOT_OPEN")


def _choice(kind: type[E], value: str | None, field: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidArgument.field(
            field, f"must be one of {', '.join(m.value for m in kind)}"
        ) from None


def _token(position: PositionView) -> str:
    return f"{position.opened_at.isoformat()}|{position.id}"


def _cursor(token: str) -> tuple[datetime, uuid.UUID] | None:
    if not token:
        return None
    try:
        at, _, last = token.partition("|")
        opened, position = datetime.fromisoformat(at), uuid.UUID(last)
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this server issued") from None
    if opened.tzinfo is None:  # this server's tokens carry their zone
        raise InvalidArgument.field("page_token", "is not a token this server issued")
    return opened, position


__all__ = ["Blotter", "batch_size", "position_closed"]
