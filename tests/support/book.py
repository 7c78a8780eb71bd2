"""The connection domain over real storage, without any transport in between."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.connections.service import Connections
from server.connections.view import ConnectionView
from server.storage.database import Database
from server.storage.migrate import upgrade
from server.streams.topic import Topic
from server.vault.cipher import CredentialCipher


@dataclass
class Book:
    connections: Connections
    db: Database
    topic: Topic[ConnectionView]
    cipher: CredentialCipher

    def close(self) -> None:
        self.db.close()


async def open_book(database_url: str, *, heartbeat_seconds: float = 15.0) -> Book:
    """Migrated storage at ``database_url`` and a loaded connection book over it."""
    db = Database(database_url, threads=2)
    upgrade(db.engine)
    topic: Topic[ConnectionView] = Topic("connections")
    cipher = CredentialCipher(secrets.token_bytes(32))
    connections = Connections(db, cipher, topic, heartbeat_seconds=heartbeat_seconds)
    await connections.load()
    return Book(connections, db, topic, cipher)
