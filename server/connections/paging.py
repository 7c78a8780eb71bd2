"""Opaque page tokens for listing connections (keyset pagination on created_at, id)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from server import paging
from server.connections.view import ConnectionFilter

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000


def page_size_of(requested: int) -> int:
    return paging.page_size_of(requested, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def _fingerprint(where: ConnectionFilter) -> str:
    text = repr((where.exchange, where.api_type, where.enabled, where.active))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page_token(where: ConnectionFilter, created_at: datetime, last_id: uuid.UUID) -> str:
    position = {"c": created_at.isoformat(), "i": str(last_id)}
    return paging.encode_page_token(position, _fingerprint(where))


def _position(payload: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
    created_at = datetime.fromisoformat(payload["c"])
    if created_at.tzinfo is None:  # edited by the client: this list never issues such a token
        raise ValueError("a time without zone")
    return created_at, uuid.UUID(payload["i"])


def decode_page_token(token: str, where: ConnectionFilter) -> tuple[datetime, uuid.UUID] | None:
    return paging.decode_page_token(token, _fingerprint(where), _position)
