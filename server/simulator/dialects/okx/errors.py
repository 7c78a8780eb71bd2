"""OKX's refusals: of a whole request (code, msg, HTTP status) and of one order (sCode, sMsg)."""

from __future__ import annotations

ALL_FAILED = "All operations failed"
NO_PERMISSION = "API key doesn't have permission"


class OkxError(Exception):
    """A refusal of the whole request: OKX's code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


class OrderRefusal(Exception):
    """A refusal of one order of a trade request: its ``sCode`` and ``sMsg``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def param_error(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error")


def param_empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty")


def no_instrument() -> OkxError:
    return OkxError("51001", "Instrument ID or Spread ID doesn't exist.")
