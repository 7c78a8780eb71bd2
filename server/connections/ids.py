"""Parsing of connection ids from requests."""

from __future__ import annotations

import uuid

from server.errors import InvalidArgument, NotFound

ID_MAX = 64


def not_found(connection_id: object) -> NotFound:
    return NotFound(
        f"connection '{connection_id}' not found",
        reason="CONNECTION_NOT_FOUND",
        metadata={"connection_id": str(connection_id)},
    )


def parse_connection_id(text: str, *, field: str = "id") -> uuid.UUID:
    """The UUID in ``text``. Anything that is not a UUID cannot name a connection: NOT_FOUND."""
    if not text:
        raise InvalidArgument.field(field, "required")
    if len(text) > ID_MAX:
        raise InvalidArgument.field(field, f"at most {ID_MAX} characters")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found(text) from None
