"""Binance's public market data: time, markets, tickers, order book and klines."""

from __future__ import annotations

import math
from decimal import Decimal
from functools import partial
from typing import Any

from server.simulator.dialects.binance.core import BinanceCore
from server.simulator.dialects.binance.errors import BinanceError, invalid_symbol
from server.simulator.dialects.binance.filters import book_qty, futures_market, spot_market
from server.simulator.dialects.binance.wire import (
    KLINE_INTERVALS,
    Call,
    DayStats,
    Family,
    Json,
    fmt,
)
from server.simulator.instruments import QUOTE, Instrument
from server.simulator.ledger import ZERO
from server.simulator.prices import Candle


class BinanceMarket(BinanceCore):
    # -- public endpoints ---------------------------------------------------------------------

    def ping(self, _call: Call) -> Json:
        """GET /api/v3/ping, /fapi/v1/ping."""
        return {}

    def time(self, _call: Call) -> Json:
        """GET /api/v3/time, /fapi/v1/time: the exchange's clock (with any skew fault)."""
        return {"serverTime": self.now_ms()}

    def system_status(self, _call: Call) -> Json:
        """GET /sapi/v1/system/status."""
        return {"status": 0, "msg": "normal"}

    def exchange_info(self, call: Call) -> Json:
        """GET /api/v3/exchangeInfo, /fapi/v1/exchangeInfo: markets with their filters;
        /dapi/v1/exchangeInfo (COIN-M): no markets, so that clients loading every market type
        (ccxt's default) start."""
        limits = self.simulator.limits[self.name]
        info: Json = {
            "timezone": "UTC",
            "serverTime": self.now_ms(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": limits.per_minute,
                },
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "SECOND",
                    "intervalNum": 1,
                    "limit": limits.per_second,
                },
            ],
            "exchangeFilters": [],
        }
        if call.family is Family.COIN:
            if call.text("symbol") or call.text("symbols"):
                raise invalid_symbol()
            info["symbols"] = []
        elif call.family is Family.SPOT:
            info["symbols"] = [spot_market(i) for i in self._instruments(call)]
        else:
            info["futuresType"] = "U_MARGINED"
            info["assets"] = [
                {"asset": QUOTE, "marginAvailable": True, "autoAssetExchange": "-10000"}
            ]
            info["symbols"] = [futures_market(i) for i in self._instruments(call)]
        return info

    def ticker_24hr(self, call: Call) -> Json | list[Json]:
        """GET /api/v3/ticker/24hr, /fapi/v1/ticker/24hr (one symbol: an object)."""
        tickers = [self._ticker(call.family, i) for i in self._instruments(call)]
        return tickers[0] if call.text("symbol") else tickers

    def ticker_price(self, call: Call) -> Json | list[Json]:
        """GET /api/v3/ticker/price, /fapi/v1|v2/ticker/price."""
        tickers = []
        for instrument in self._instruments(call):
            ticker: Json = {
                "symbol": instrument.plain_id,
                "price": self._price(call.family, instrument, self.ledger.last_price(instrument)),
            }
            if call.family is Family.FUTURES:
                ticker["time"] = self.ledger.now_ms()
            tickers.append(ticker)
        return tickers[0] if call.text("symbol") else tickers

    def book_ticker(self, call: Call) -> Json | list[Json]:
        """GET /api/v3/ticker/bookTicker, /fapi/v1/ticker/bookTicker."""
        tickers = []
        for instrument in self._instruments(call):
            bid, ask = self.ledger.bid_ask(instrument)
            ticker: Json = {
                "symbol": instrument.plain_id,
                "bidPrice": self._price(call.family, instrument, bid),
                "bidQty": self._qty(call.family, instrument, book_qty(instrument, bid, 0)),
                "askPrice": self._price(call.family, instrument, ask),
                "askQty": self._qty(call.family, instrument, book_qty(instrument, ask, 0)),
            }
            if call.family is Family.FUTURES:
                ticker["time"] = ticker["lastUpdateId"] = self.ledger.now_ms()
            tickers.append(ticker)
        return tickers[0] if call.text("symbol") else tickers

    def depth(self, call: Call) -> Json:
        """GET /api/v3/depth, /fapi/v1/depth: a synthetic book around the current price."""
        instrument = self._instrument(call)
        levels = min(call.integer("limit") or 100, 1000)
        bid, ask = self.ledger.bid_ask(instrument)
        tick = instrument.price_tick
        now = self.ledger.now_ms()
        book: Json = {"lastUpdateId": now}
        if call.family is Family.FUTURES:
            book["E"] = book["T"] = now
        book["bids"] = [
            self._level(call.family, instrument, bid - tick * n, n)
            for n in range(levels)
            if bid - tick * n > 0
        ]
        book["asks"] = [
            self._level(call.family, instrument, ask + tick * n, n) for n in range(levels)
        ]
        return book

    def klines(self, call: Call) -> list[list[Any]]:
        """GET /api/v3/klines, /fapi/v1/klines: ``interval``, ``startTime``, ``endTime``,
        ``limit`` (default 500)."""
        instrument = self._instrument(call)
        interval = call.required("interval")
        seconds = KLINE_INTERVALS.get(interval)
        if seconds is None or (seconds == 1 and call.family is Family.FUTURES):
            raise BinanceError(-1120, "Invalid interval.")
        limit = min(call.integer("limit") or 500, 1000 if call.family is Family.SPOT else 1500)
        candles = self._candles(
            instrument.base, seconds, call.integer("startTime"), call.integer("endTime"), limit
        )
        return [self._kline(call.family, instrument, c, seconds) for c in candles]

    def premium_index(self, call: Call) -> Json | list[Json]:
        """GET /fapi/v1/premiumIndex: mark and index price (both the last price) and funding."""
        now = self.ledger.now_ms()
        eight_hours = 8 * 3600 * 1000
        entries = []
        for instrument in self._instruments(call):
            price = self._price(call.family, instrument, self.ledger.last_price(instrument))
            entries.append(
                {
                    "symbol": instrument.plain_id,
                    "markPrice": price,
                    "indexPrice": price,
                    "estimatedSettlePrice": price,
                    "lastFundingRate": "0.00010000",
                    "interestRate": "0.00010000",
                    "nextFundingTime": (now // eight_hours + 1) * eight_hours,
                    "time": now,
                }
            )
        return entries[0] if call.text("symbol") else entries

    # -- market data helpers ------------------------------------------------------------------

    def _price(self, family: Family, instrument: Instrument, value: Decimal) -> str:
        if family is Family.SPOT:
            return fmt(value)
        return fmt(value, instrument.decimals(instrument.price_tick))

    def _qty(self, family: Family, instrument: Instrument, value: Decimal) -> str:
        if family is Family.SPOT:
            return fmt(value)
        return fmt(value, instrument.decimals(instrument.amount_step))

    def _level(self, family: Family, instrument: Instrument, price: Decimal, n: int) -> list[str]:
        qty = book_qty(instrument, price, n)
        return [self._price(family, instrument, price), self._qty(family, instrument, qty)]

    def _candles(
        self, base: str, seconds: int, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[Candle]:
        """Klines as Binance selects them: open times from ``startTime`` on, up to ``endTime``,
        else the latest ``limit``."""
        prices = self.ledger.prices
        if start_ms is not None:
            since = math.ceil(start_ms / 1000 / seconds) * seconds
            candles = prices.candles(base, seconds, since=since, limit=limit)
        elif end_ms is not None:
            last_open = math.floor(end_ms / 1000 / seconds) * seconds
            since = last_open - (limit - 1) * seconds
            candles = prices.candles(base, seconds, since=since, limit=limit)
        else:
            candles = prices.candles(base, seconds, limit=limit)
        if end_ms is not None:
            candles = [c for c in candles if c.open_time <= end_ms]
        return candles

    def _kline(
        self, family: Family, instrument: Instrument, candle: Candle, seconds: int
    ) -> list[Any]:
        price = partial(self._price, family, instrument)
        qty = partial(self._qty, family, instrument)
        typical = (candle.high + candle.low + candle.close) / 3
        return [
            candle.open_time,
            price(candle.open),
            price(candle.high),
            price(candle.low),
            price(candle.close),
            qty(candle.volume),
            candle.open_time + seconds * 1000 - 1,
            fmt(candle.volume * typical),
            max(1, int(candle.volume)),
            qty(candle.volume / 2),
            fmt(candle.volume * typical / 2),
            "0",
        ]

    def _day_stats(self, instrument: Instrument) -> DayStats:
        prices = self.ledger.prices
        now = self.ledger.clock()
        start = now - 86400
        candles = prices.candles(instrument.base, 3600, since=start, limit=25)
        first = prices.price(instrument.base, at=start)
        last = self.ledger.last_price(instrument)
        return DayStats(
            open=first,
            high=max([c.high for c in candles] + [first, last]),
            low=min([c.low for c in candles] + [first, last]),
            last=last,
            volume=sum((c.volume for c in candles), ZERO),
            quote_volume=sum((c.volume * (c.high + c.low + c.close) / 3 for c in candles), ZERO),
            open_ms=int(start * 1000),
            close_ms=int(now * 1000),
        )

    def _ticker(self, family: Family, instrument: Instrument) -> Json:
        stats = self._day_stats(instrument)
        price = partial(self._price, family, instrument)
        change = stats.last - stats.open
        average = stats.quote_volume / stats.volume if stats.volume else stats.last
        ticker: Json = {
            "symbol": instrument.plain_id,
            "priceChange": price(change),
            "priceChangePercent": fmt(change / stats.open * 100, 3),
            "weightedAvgPrice": price(average),
        }
        if family is Family.SPOT:
            bid, ask = self.ledger.bid_ask(instrument)
            ticker |= {
                "prevClosePrice": price(stats.open),
                "lastPrice": price(stats.last),
                "lastQty": self._qty(family, instrument, instrument.min_amount),
                "bidPrice": price(bid),
                "bidQty": self._qty(family, instrument, book_qty(instrument, bid, 0)),
                "askPrice": price(ask),
                "askQty": self._qty(family, instrument, book_qty(instrument, ask, 0)),
            }
        else:
            ticker |= {
                "lastPrice": price(stats.last),
                "lastQty": self._qty(family, instrument, instrument.min_amount),
            }
        count = max(1, int(stats.volume))
        return ticker | {
            "openPrice": price(stats.open),
            "highPrice": price(stats.high),
            "lowPrice": price(stats.low),
            "volume": self._qty(family, instrument, stats.volume),
            "quoteVolume": fmt(stats.quote_volume),
            "openTime": stats.open_ms,
            "closeTime": stats.close_ms,
            "firstId": stats.close_ms - count,
            "lastId": stats.close_ms - 1,
            "count": count,
        }
