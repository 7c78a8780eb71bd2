"""OKX's timestamps of signed requests: ISO-8601 with milliseconds, 30 s either way."""

from __future__ import annotations

import re
from datetime import datetime

from server.simulator.dialects.okx.errors import OkxError, param_error
from server.simulator.dialects.okx.wire import TIMESTAMP_TOLERANCE_MS


def parse_iso_ms(text: str) -> int | None:
    """An OK-ACCESS-TIMESTAMP (``2024-01-01T00:00:00.000Z``) in ms, or None if malformed."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def check_timestamp(timestamp: str, expires: str | None, now: int) -> None:
    """Refuses a timestamp more than 30 s from ``now``, or a request past its ``expTime``."""
    sent = parse_iso_ms(timestamp)
    if sent is None:
        raise OkxError("50112", 'Invalid "OK-ACCESS-TIMESTAMP"', 401)
    expired = abs(now - sent) > TIMESTAMP_TOLERANCE_MS
    if expires:
        try:
            expired = expired or now > int(expires)
        except ValueError:
            raise param_error("expTime") from None
    if expired:
        raise OkxError("50102", "Timestamp request expired", 401)
