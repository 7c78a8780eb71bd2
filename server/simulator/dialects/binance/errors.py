"""Binance's error answers: ``{"code": <negative int>, "msg": ...}`` and the codes the
simulator uses."""

from __future__ import annotations

from aiohttp import web

INSUFFICIENT = "Account has insufficient balance for requested action."


class BinanceError(Exception):
    """An error answer in Binance's shape."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "msg": self.msg}, status=self.status)


def invalid_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def missing(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal(name: str, pattern: str) -> BinanceError:
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{pattern}'."
    )


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def order_missing() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def invalid_order(reason: str, futures: bool) -> BinanceError:
    """A ledger refusal of an order (the dialect's own filters catch most before it)."""
    if "reduce-only" in reason:
        return BinanceError(-2022, "ReduceOnly Order is rejected.")
    if "order value" in reason:
        if futures:
            return BinanceError(
                -4164, "Order's notional must be no smaller than 5 (unless you choose reduce only)."
            )
        return BinanceError(-1013, "Filter failure: NOTIONAL")
    if "price" in reason:
        if futures:
            return BinanceError(-4014, "Price not increased by tick size.")
        return BinanceError(-1013, "Filter failure: PRICE_FILTER")
    if futures:
        return BinanceError(-4004, "Quantity less than min quantity.")
    return BinanceError(-1013, "Filter failure: LOT_SIZE")
