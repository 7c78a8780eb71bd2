"""Bybit's refusals: retCode, retMsg and the HTTP status they travel with."""

from __future__ import annotations

PERMISSION_DENIED = "Permission denied, please check your API key permissions."


class BybitError(Exception):
    """A refusal in Bybit's terms: retCode, retMsg and the HTTP status it travels with."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


def params_error(message: str) -> BybitError:
    return BybitError(10001, message)


def not_supported_symbol() -> BybitError:
    return BybitError(10001, "Not supported symbols")
