"""Binance's signed requests: the timestamp and ``recvWindow`` checks, and the signed payload."""

from __future__ import annotations

from server.simulator.dialects.binance.errors import BinanceError, missing
from server.simulator.dialects.binance.wire import DEFAULT_RECV_WINDOW, MAX_RECV_WINDOW, Call


def check_timestamp(call: Call, now: int) -> None:
    """Refuses a timestamp 1000 ms or more ahead of ``now`` or older than ``recvWindow``."""
    timestamp = call.integer("timestamp")
    if timestamp is None:
        raise missing("timestamp")
    window = call.decimal("recvWindow")
    window = DEFAULT_RECV_WINDOW if window is None else window
    if window > MAX_RECV_WINDOW:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp >= now + 1000:
        raise BinanceError(
            -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if now - timestamp > window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def without_signature(raw: str) -> str:
    """A query string or form body as sent, minus its ``signature`` parameter."""
    if "signature=" not in raw:
        return raw
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))
