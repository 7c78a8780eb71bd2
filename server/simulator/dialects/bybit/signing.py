"""Bybit's timestamp window of signed requests."""

from __future__ import annotations

from server.simulator.dialects.bybit.errors import BybitError, params_error
from server.simulator.dialects.bybit.wire import DEFAULT_RECV_WINDOW, FUTURE_TOLERANCE_MS


def check_timestamp(timestamp: str, recv_window_text: str, now: int) -> None:
    """Refuses a timestamp outside ``[now - recvWindow, now + 1000)``."""
    try:
        sent = int(timestamp)
        recv_window = int(recv_window_text) if recv_window_text else DEFAULT_RECV_WINDOW
    except ValueError:
        raise params_error("params error: timestamp or recv_window invalid") from None
    if not now - recv_window <= sent < now + FUTURE_TOLERANCE_MS:
        raise BybitError(
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{recv_window}]",
        )
