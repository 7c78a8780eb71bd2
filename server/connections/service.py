"""Connections: the domain operations on exchange connections, independent of any transport.

Every mutation is one unit of work (validated first, so a rejected request changes nothing),
committed and then published on the connections topic while the topic's order lock is held
(a create takes the lock only to publish: see :meth:`Connections.create`).
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.connections.draft import (
    CREDENTIAL_FIELDS,
    DRAFT_FIELDS,
    SETTINGS_FIELDS,
    ConnectionDraft,
    CredentialsPatch,
    TradingSettingsDraft,
    key_hint,
    record_fields,
    stored_value,
    validate_model,
)
from server.connections.health import ConnectionHealth
from server.connections.ids import not_found, parse_connection_id
from server.connections.model import ConnectionRecord
from server.connections.paging import decode_page_token, encode_page_token, page_size_of
from server.connections.repository import ConnectionRepository
from server.connections.rules import (
    ensure_name_free,
    ensure_supported,
    name_taken,
    reject_unknown,
)
from server.connections.targets import Targets
from server.connections.view import ConnectionFilter, ConnectionView
from server.connections.vocabulary import PresetType
from server.errors import FailedPrecondition, InvalidArgument
from server.exchange.access import Target
from server.exchange.model import KeyPermissions
from server.storage.database import Database
from server.storage.types import utc_now
from server.streams.topic import Topic
from server.streams.watch import StreamItem, watch
from server.vault.cipher import CredentialCipher

# Fields a client may change on a connection (SetLiveTrade-only switching-on aside).
UPDATABLE_FIELDS = DRAFT_FIELDS | CREDENTIAL_FIELDS | {"is_live_trade"}
LIVE_TRADE_HINT = (
    "switch live trading on with SetLiveTrade "
    "(POST /api/settings/connections/{id}/live-trade) and confirm: true"
)


@dataclass(frozen=True, slots=True)
class ConnectionPage:
    connections: Sequence[ConnectionView]
    next_page_token: str
    total_size: int


def _draft_of(record: ConnectionRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in DRAFT_FIELDS}


def _column_state(record: ConnectionRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in ConnectionRecord.model_fields)


class Connections:
    """The connection book of one CTS server.

    Reads are served from an in-memory read model: every connection's current view, loaded from
    storage by :meth:`load` at start and kept current by the write path, which updates it after
    each commit while holding the topic's order lock. Storage stays the source of truth (a
    restart reloads it); the model assumes that this server is the only writer of its
    connections, as the change streams do.
    """

    def __init__(
        self,
        db: Database,
        cipher: CredentialCipher,
        topic: Topic[ConnectionView],
        *,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._topic = topic
        self._heartbeat_seconds = heartbeat_seconds
        self._views: dict[uuid.UUID, ConnectionView] = {}
        self._ordered: builtins.list[ConnectionView] | None = []
        # Health waiting to be attached, and what its recorders wait on (see record_health).
        self._health_due: dict[uuid.UUID, ConnectionHealth] = {}
        self._health_recorded: asyncio.Future[None] | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._targets = Targets(db, cipher)

    async def load(self) -> None:
        """(Re)load the read model from storage."""

        def work(session: Session) -> builtins.list[ConnectionView]:
            return [ConnectionView.of(r) for r in ConnectionRepository(session).all()]

        async with self._topic.ordered():
            self._views = {view.id: view for view in await self._db.read(work)}
            self._ordered = None

    # -- reads -----------------------------------------------------------------------------

    def cached(self, connection_id: uuid.UUID) -> ConnectionView | None:
        """The connection's current view from the read model, if it exists."""
        return self._views.get(connection_id)

    def view(self, connection_id: str, *, field: str = "connection_id") -> ConnectionView:
        """An existing connection's view now (INVALID_ARGUMENT / NOT_FOUND)."""
        cid = parse_connection_id(connection_id, field=field)
        view = self._views.get(cid)
        if view is None:
            raise not_found(cid)
        return view

    def known(self, connection_id: str, *, field: str = "connection_id") -> str:
        """The canonical id of an existing connection (INVALID_ARGUMENT / NOT_FOUND)."""
        return str(self.view(connection_id, field=field).id)

    async def get(self, connection_id: str) -> ConnectionView:
        cid = parse_connection_id(connection_id)
        view = self._views.get(cid)
        if view is None:
            raise not_found(cid)
        return view

    async def list(
        self, where: ConnectionFilter, *, page_size: int = 0, page_token: str = ""
    ) -> ConnectionPage:
        """Matching connections, oldest first, one page at a time (keyset on created_at, id)."""
        limit = page_size_of(page_size)
        after = decode_page_token(page_token, where)
        matching = [view for view in self._in_order() if where.matches(view)]
        start = 0 if after is None else bisect.bisect_right(matching, after, key=_order_key)
        page = matching[start : start + limit]
        token = ""
        if start + limit < len(matching):
            token = encode_page_token(where, page[-1].created_at, page[-1].id)
        return ConnectionPage(page, token, len(matching))

    async def all(self) -> builtins.list[ConnectionView]:
        return builtins.list(self._in_order())

    def views(self) -> Sequence[ConnectionView]:
        """Every connection now, in connection order (the read model; do not mutate)."""
        return self._in_order()

    def _in_order(self) -> builtins.list[ConnectionView]:
        if self._ordered is None:
            self._ordered = sorted(self._views.values(), key=_order_key)
        return self._ordered

    def _remember(self, view: ConnectionView, *, deleted: bool = False) -> ConnectionView:
        """Update the read model after a commit (the caller holds the order lock).

        Runtime state that storage does not hold (health) is carried over from the view being
        replaced. Returns the view as remembered.
        """
        self._targets.committed(view.id, deleted=deleted)
        previous = self._views.get(view.id)
        if previous is not None and view.health is None and previous.health is not None:
            view = dataclasses.replace(view, health=previous.health)
        if deleted:
            self._views.pop(view.id, None)
        else:
            self._views[view.id] = view
        self._ordered = None
        return view

    def watch(
        self, where: ConnectionFilter, *, resume_revision: int = 0
    ) -> AsyncIterator[StreamItem[ConnectionView]]:
        """Snapshot, then every committed change, as seen through ``where``."""
        if resume_revision < 0:
            raise InvalidArgument.field("resume_revision", "must not be negative")
        return watch(
            self._topic,
            load=self.all,
            matches=where.matches,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
        )

    async def trading_settings(self, connection_id: str) -> TradingSettingsDraft:
        view = await self.get(connection_id)
        return TradingSettingsDraft.model_validate(
            {name: getattr(view, name) for name in SETTINGS_FIELDS}
        )

    # -- writes ----------------------------------------------------------------------------

    async def create(self, fields: Mapping[str, Any]) -> ConnectionView:
        """Create a connection from client fields (wire names; absent fields take defaults)."""
        reject_unknown(fields, UPDATABLE_FIELDS)
        if fields.get("is_live_trade"):
            raise InvalidArgument.field(
                "is_live_trade",
                f"cannot be true on create; {LIVE_TRADE_HINT}",
                reason="LIVE_TRADE_NOT_CONFIRMED",
            )
        draft = validate_model(
            ConnectionDraft, {k: v for k, v in fields.items() if k in DRAFT_FIELDS}
        )
        ensure_supported(draft)
        credentials = validate_model(
            CredentialsPatch, {k: v for k, v in fields.items() if k in CREDENTIAL_FIELDS}
        )

        def work(session: Session) -> ConnectionView:
            repo = ConnectionRepository(session)
            ensure_name_free(repo, draft.name, None)
            record = ConnectionRecord(**record_fields(draft))
            self._apply_credentials(record, credentials)
            try:
                repo.add(record)
            except IntegrityError:
                raise name_taken(draft.name) from None
            return ConnectionView.of(record)

        # Committed outside the order lock: a new connection's id is nobody else's yet, so no
        # other change of it can come between its commit and its publication, and watchers'
        # snapshots come from the read model, which takes it only here. So creates (a desk
        # adding a thousand) overlap their writes instead of waiting one by one for each
        # other's commit and the loop's next turn.
        view = await self._db.write(work)
        async with self._topic.ordered():
            view = self._remember(view)
            self._topic.publish(view.id, view)
        return view

    async def update(
        self, connection_id: str, changes: Mapping[str, Any], *, replace_all: bool = False
    ) -> ConnectionView:
        """Change the fields in ``changes``; a value of None resets that field to its default.

        With ``replace_all``, every settable field not in ``changes`` is reset as well
        (credentials excepted: they change only when sent).
        """
        reject_unknown(changes, UPDATABLE_FIELDS)
        draft_changes = {k: v for k, v in changes.items() if k in DRAFT_FIELDS}
        credentials = validate_model(
            CredentialsPatch,
            {k: ("" if v is None else v) for k, v in changes.items() if k in CREDENTIAL_FIELDS},
        )
        live_trade = changes.get("is_live_trade")

        def mutate(record: ConnectionRecord, repo: ConnectionRepository) -> None:
            merged = {} if replace_all else _draft_of(record)
            merged.update(draft_changes)
            draft = validate_model(
                ConnectionDraft, {k: v for k, v in merged.items() if v is not None}
            )
            if (draft.exchange, draft.api_type) != (record.exchange, record.api_type):
                ensure_supported(draft)
            if live_trade and not record.is_live_trade:
                raise InvalidArgument.field(
                    "is_live_trade", LIVE_TRADE_HINT, reason="LIVE_TRADE_NOT_CONFIRMED"
                )
            if draft.name != record.name:
                ensure_name_free(repo, draft.name, record.id)
            for name, value in record_fields(draft).items():
                setattr(record, name, value)
            if live_trade is False:
                record.is_live_trade = False
            self._apply_credentials(record, credentials)
            if record.is_live_trade and (
                record.api_key_sealed is None or record.api_secret_sealed is None
            ):
                raise FailedPrecondition(
                    "live trading is on: switch it off before removing the API key or secret",
                    reason="LIVE_TRADE_ON",
                )

        return await self._change(connection_id, mutate)

    async def delete(self, connection_id: str) -> None:
        cid = parse_connection_id(connection_id)

        def work(session: Session) -> ConnectionView:
            repo = ConnectionRepository(session)
            record = repo.get(cid, for_update=True)
            if record is None:
                raise not_found(cid)
            view = ConnectionView.of(record)
            repo.delete(record)
            return view

        async with self._topic.ordered():
            view = await self._db.write(work)
            view = self._remember(view, deleted=True)
            self._topic.publish(view.id, view, previous=view, deleted=True)

    async def set_enabled(self, connection_id: str, enabled: bool | None) -> ConnectionView:
        """Enable or disable; ``None`` flips the current state."""

        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            record.is_enabled = (not record.is_enabled) if enabled is None else enabled

        return await self._change(connection_id, mutate)

    async def set_active(self, connection_id: str, active: bool) -> ConnectionView:
        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            record.is_active = active

        return await self._change(connection_id, mutate)

    async def set_live_trade(
        self, connection_id: str, live_trade: bool | None, *, confirmed: bool
    ) -> ConnectionView:
        """Switch live trading on (needs credentials and confirmation) or off (always allowed)."""
        if live_trade is None:
            raise InvalidArgument.field("is_live_trade", "required")
        if live_trade and not confirmed:
            raise InvalidArgument.field(
                "confirm",
                "must be true to switch live trading on: "
                "real orders with real money will be placed",
                reason="LIVE_TRADE_NOT_CONFIRMED",
            )

        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            if live_trade and (record.api_key_sealed is None or record.api_secret_sealed is None):
                raise FailedPrecondition(
                    "live trading needs a stored API key and secret",
                    reason="CREDENTIALS_MISSING",
                    metadata={"connection_id": str(record.id)},
                )
            record.is_live_trade = live_trade

        return await self._change(connection_id, mutate)

    async def update_trading_settings(
        self, connection_id: str, changes: Mapping[str, Any]
    ) -> TradingSettingsDraft:
        """Change the trading settings in ``changes`` (None resets a setting to its default)."""
        reject_unknown(changes, SETTINGS_FIELDS)
        result: list[TradingSettingsDraft] = []

        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            merged = {name: getattr(record, name) for name in SETTINGS_FIELDS}
            merged.update(changes)
            settings = validate_model(
                TradingSettingsDraft, {k: v for k, v in merged.items() if v is not None}
            )
            for name in SETTINGS_FIELDS:
                setattr(record, name, stored_value(getattr(settings, name)))
            result.append(settings)

        await self._change(connection_id, mutate)
        return result[0]

    async def set_preset_type(self, connection_id: str, preset_type: str) -> ConnectionView:
        if not preset_type:
            raise InvalidArgument.field("preset_type", "required")
        if preset_type not in PresetType._value2member_map_:
            raise InvalidArgument.field("preset_type", f"must be one of {', '.join(PresetType)}")

        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            record.preset_type = preset_type

        return await self._change(connection_id, mutate)

    # -- exchange access ---------------------------------------------------------------------

    async def target(self, connection_id: str) -> Target:
        """Where the connection's exchange calls go, with its credentials opened (kept until
        the connection's next commit: :mod:`server.connections.targets`)."""
        cid = parse_connection_id(connection_id)
        return await self._targets.get(cid, known=cid in self._views)

    async def record_test(
        self,
        connection_id: str,
        *,
        status: str,
        balance: Decimal | None,
        log: Sequence[str],
        at: datetime,
        duration_ms: int,
        capabilities: KeyPermissions | None,
    ) -> ConnectionView:
        """Store the result of a connection test on the connection."""

        def mutate(record: ConnectionRecord, _repo: ConnectionRepository) -> None:
            record.last_test_status = status
            record.last_test_balance = balance
            record.last_test_log = list(log)
            record.last_test_at = at
            record.last_test_duration_ms = duration_ms
            if capabilities is not None:
                record.api_capabilities = dataclasses.asdict(capabilities)

        return await self._change(connection_id, mutate)

    async def record_health(self, connection_id: uuid.UUID, health: ConnectionHealth) -> None:
        """Attach new health to a connection's view and publish it (health is not stored).

        Health recorded while the order lock is held (a create or an update waiting for
        storage) is attached together, under one turn of the lock, once it is free: with a
        thousand engines' calls moving their scores, hundreds of recorders queued one by one
        behind each create, and creating a connection took 20-30 s."""
        self._health_due[connection_id] = health
        recorded = self._health_recorded
        if recorded is None:
            recorded = self._health_recorded = asyncio.get_running_loop().create_future()
            self._health_task = asyncio.ensure_future(self._attach_health(recorded))
        await asyncio.shield(recorded)

    async def _attach_health(self, recorded: asyncio.Future[None]) -> None:
        try:
            async with self._topic.ordered():
                due, self._health_due = self._health_due, {}
                self._health_recorded = None  # health recorded from now on: the next turn
                for connection_id, health in due.items():
                    previous = self._views.get(connection_id)
                    if previous is None or previous.health == health:
                        continue
                    view = dataclasses.replace(previous, health=health)
                    self._views[connection_id] = view
                    self._ordered = None
                    self._topic.publish(view.id, view, previous=previous)
        except BaseException as error:
            if self._health_recorded is recorded:
                self._health_recorded = None
            recorded.set_exception(error)
            recorded.exception()  # its recorders, if any, get it
            if not isinstance(error, Exception):
                raise
        else:
            recorded.set_result(None)

    # -- helpers ---------------------------------------------------------------------------

    async def _change(
        self,
        connection_id: str,
        mutate: Callable[[ConnectionRecord, ConnectionRepository], None],
    ) -> ConnectionView:
        """Load, mutate and (only if something changed) commit and publish one connection."""
        cid = parse_connection_id(connection_id)

        def work(session: Session) -> tuple[ConnectionView, ConnectionView, bool]:
            repo = ConnectionRepository(session)
            record = repo.get(cid, for_update=True)
            if record is None:
                raise not_found(cid)
            before_state = _column_state(record)
            before = ConnectionView.of(record)
            mutate(record, repo)
            changed = _column_state(record) != before_state
            if changed:
                record.updated_at = utc_now()
                try:
                    session.flush()
                except IntegrityError:
                    raise name_taken(record.name) from None
            return before, ConnectionView.of(record), changed

        async with self._topic.ordered():
            before, after, changed = await self._db.write(work)
            previous = self._views.get(after.id, before)
            if not changed:
                return previous
            after = self._remember(after)
            self._topic.publish(after.id, after, previous=previous)
        return after

    def _apply_credentials(self, record: ConnectionRecord, credentials: CredentialsPatch) -> None:
        for field, value in credentials.sent.items():
            sealed = (
                self._cipher.seal(value, owner=f"connection:{record.id}:{field}") if value else None
            )
            setattr(record, f"{field}_sealed", sealed)
            if field == "api_key":
                record.api_key_hint = key_hint(value) if value else ""


def _order_key(view: ConnectionView) -> tuple[datetime, uuid.UUID]:
    return view.created_at, view.id
