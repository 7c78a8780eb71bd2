"""ccxt's own validators of unified structures (ccxt/test/exchange/base), called directly.

Each check raises AssertionError naming the property that breaks ccxt's rules. ``skip`` names
properties left out, each with the reason beside it at the call site.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

# Renamed, so that no test module importing them has pytest collect ccxt's checks as tests.
from ccxt.test.exchange.base import test_balance as balance_check
from ccxt.test.exchange.base import test_market as market_check
from ccxt.test.exchange.base import test_ohlcv as ohlcv_check
from ccxt.test.exchange.base import test_order as order_check
from ccxt.test.exchange.base import test_order_book as order_book_check
from ccxt.test.exchange.base import test_position as position_check
from ccxt.test.exchange.base import test_ticker as ticker_check
from ccxt.test.exchange.base import test_trade as trade_check

Skip = Mapping[str, str]  # property → why it is skipped


def _skipped(skip: Skip | None) -> dict[str, bool]:
    return {name: True for name in skip or {}}


def _now() -> int:
    return int(time.time() * 1000)


def check_market(exchange: Any, market: dict[str, Any], skip: Skip | None = None) -> None:
    market_check(exchange, _skipped(skip), "loadMarkets", market)


def check_ticker(
    exchange: Any, ticker: dict[str, Any], symbol: str | None, skip: Skip | None = None
) -> None:
    ticker_check(exchange, _skipped(skip), "fetchTicker", ticker, symbol)


def check_ohlcv(exchange: Any, candle: list[Any], symbol: str, skip: Skip | None = None) -> None:
    ohlcv_check(exchange, _skipped(skip), "fetchOHLCV", candle, symbol, _now())


def check_order_book(
    exchange: Any, book: dict[str, Any], symbol: str, skip: Skip | None = None
) -> None:
    order_book_check(exchange, _skipped(skip), "fetchOrderBook", book, symbol)


def check_balance(exchange: Any, balance: dict[str, Any], skip: Skip | None = None) -> None:
    balance_check(exchange, _skipped(skip), "fetchBalance", balance)


def check_order(
    exchange: Any, order: dict[str, Any], symbol: str | None, skip: Skip | None = None
) -> None:
    order_check(exchange, _skipped(skip), "fetchOrder", order, symbol, _now())


def check_trade(
    exchange: Any, trade: dict[str, Any], symbol: str | None, skip: Skip | None = None
) -> None:
    trade_check(exchange, _skipped(skip), "fetchMyTrades", trade, symbol, _now(), False)


def check_position(
    exchange: Any, position: dict[str, Any], symbol: str | None, skip: Skip | None = None
) -> None:
    position_check(exchange, _skipped(skip), "fetchPositions", position, symbol, _now())
