"""Where each connection's exchange calls go, with its credentials opened: read from storage
once, then kept until the connection's next commit.

A thousand accounts' balance reads and health checks each read their connection's row and
opened its sealed credentials, a storage round trip each (7.2 % of the samples of a server
running 1,000 engines on PostgreSQL, py-spy). The opened credentials then stay in memory, as
they do in the account's exchange client anyway.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from server.connections.ids import not_found
from server.connections.model import ConnectionRecord
from server.connections.repository import ConnectionRepository
from server.exchange.access import Credentials, Target
from server.storage.database import Database
from server.vault.cipher import CredentialCipher


class Targets:
    def __init__(self, db: Database, cipher: CredentialCipher) -> None:
        self._db = db
        self._cipher = cipher
        self._kept: dict[uuid.UUID, Target] = {}
        self._commits: dict[uuid.UUID, int] = {}  # per connection, the commits told

    def committed(self, cid: uuid.UUID, *, deleted: bool = False) -> None:
        """The connection's row changed (or is gone): its target is read again next time."""
        self._kept.pop(cid, None)
        if deleted:
            self._commits.pop(cid, None)
        else:
            self._commits[cid] = self._commits.get(cid, 0) + 1

    async def get(self, cid: uuid.UUID, *, known: bool) -> Target:
        """The connection's target (NOT_FOUND when it is not stored); ``known``: the read model
        holds it (a target read for a connection being deleted is not kept). A read that a
        commit overtook is returned but not kept."""
        kept = self._kept.get(cid)
        if kept is not None:
            return kept
        commits = self._commits.get(cid, 0)
        target = await self._db.read(lambda session: self._read(session, cid))
        if known and self._commits.get(cid, 0) == commits:
            self._kept[cid] = target
        return target

    def _read(self, session: Session, cid: uuid.UUID) -> Target:
        record = ConnectionRepository(session).get(cid)
        if record is None:
            raise not_found(cid)
        return Target(
            connection_id=str(record.id),
            exchange=record.exchange,
            api_type=record.api_type,
            testnet=record.is_testnet,
            simulated=record.is_simulated,
            credentials=self._credentials(record),
        )

    def _credentials(self, record: ConnectionRecord) -> Credentials | None:
        if record.api_key_sealed is None or record.api_secret_sealed is None:
            return None
        owner = f"connection:{record.id}"
        passphrase = record.api_passphrase_sealed
        return Credentials(
            api_key=self._cipher.open(record.api_key_sealed, owner=f"{owner}:api_key"),
            secret=self._cipher.open(record.api_secret_sealed, owner=f"{owner}:api_secret"),
            passphrase=(
                self._cipher.open(passphrase, owner=f"{owner}:api_passphrase")
                if passphrase is not None
                else None
            ),
        )
