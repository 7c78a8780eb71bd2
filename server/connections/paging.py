"""Opaque page tokens for listing connections (keyset pagination on created_at, id)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime

from server.connections.view import ConnectionFilter
from server.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000


def page_size_of(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def _fingerprint(where: ConnectionFilter) -> str:
    text = repr((where.exchange, where.api_type, where.enabled, where.active))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page_token(where: ConnectionFilter, created_at: datetime, last_id: uuid.UUID) -> str:
    payload = {"c": created_at.isoformat(), "i": str(last_id), "f": _fingerprint(where)}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_page_token(token: str, where: ConnectionFilter) -> tuple[datetime, uuid.UUID] | None:
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = (datetime.fromisoformat(payload["c"]), uuid.UUID(payload["i"]))
        fingerprint = payload["f"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument.field("page_token", "not a token returned by this list") from None
    if position[0].tzinfo is None:  # edited by the client: this list never issues such a token
        raise InvalidArgument.field("page_token", "not a token returned by this list")
    if fingerprint != _fingerprint(where):
        raise InvalidArgument.field("page_token", "was issued for different filters")
    return position
