"""Queries over the ``connections`` table. Repositories add and flush; callers commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlmodel import Session, col, select

from server.connections.draft import name_key
from server.connections.model import ConnectionRecord

S = TypeVar("S")


class ConnectionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, connection_id: uuid.UUID, *, for_update: bool = False) -> ConnectionRecord | None:
        if not for_update:
            return self.session.get(ConnectionRecord, connection_id)
        statement = (
            select(ConnectionRecord).where(ConnectionRecord.id == connection_id).with_for_update()
        )
        return self.session.exec(statement).first()

    def id_with_name(self, name: str) -> uuid.UUID | None:
        statement = select(ConnectionRecord.id).where(ConnectionRecord.name_key == name_key(name))
        return self.session.exec(statement).first()

    def add(self, record: ConnectionRecord) -> None:
        self.session.add(record)
        self.session.flush()

    def delete(self, record: ConnectionRecord) -> None:
        self.session.delete(record)
        self.session.flush()

    def all(self) -> Sequence[ConnectionRecord]:
        statement = select(ConnectionRecord).order_by(
            col(ConnectionRecord.created_at), col(ConnectionRecord.id)
        )
        return self.session.exec(statement).all()
