"""Page sizes, opaque page tokens and time filters, for every list that pages (connections,
logs, the audit trail).

A token is the position of the page's last item plus a fingerprint of the list's filters,
base64-encoded JSON: opaque to clients, and refused when it was edited or issued for other
filters.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from server.errors import InvalidArgument

T = TypeVar("T")
NOT_OURS = "not a token returned by this list"


def page_size_of(requested: int, *, default: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    return min(requested or default, maximum)


def encode_page_token(position: Mapping[str, object], fingerprint: str) -> str:
    payload = {**position, "f": fingerprint}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_page_token(
    token: str, fingerprint: str, read: Callable[[dict[str, Any]], T]
) -> T | None:
    """The position in ``token`` as ``read`` makes it from the payload (None for the first
    page). ``read`` raises ValueError, KeyError or TypeError for a position this list never
    issues."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = read(payload)
        issued_for = payload["f"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument.field("page_token", NOT_OURS) from None
    if issued_for != fingerprint:
        raise InvalidArgument.field("page_token", "was issued for different filters")
    return position


def before_id(payload: Mapping[str, Any]) -> int:
    """The position of a list paged newest first by entry id: the id the next page starts
    before."""
    before = payload["b"]
    if not isinstance(before, int) or isinstance(before, bool) or before <= 0:
        raise ValueError("not an entry id")
    return before


def time_bound(text: str, field: str) -> datetime | None:
    """A list filter's RFC 3339 time (None when empty); a time without a zone is refused."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument.field(
            field, "must be an RFC 3339 time such as 2026-12-06T10:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise InvalidArgument.field(field, "must include a time zone (for example Z or +00:00)")
    return value
