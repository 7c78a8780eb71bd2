"""OKX's public market data: time, instruments, tickers and candles."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from server.simulator.dialects.common import book, day_window, max_amount, plain
from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.errors import param_error
from server.simulator.dialects.okx.wire import (
    BARS,
    DAY_MS,
    HONG_KONG_MS,
    INST_TYPE_OF,
    LOT_SIZE,
    MAX_MARKET_VALUE,
    MAX_ORDER_VALUE,
    Json,
    Params,
)
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import ZERO
from server.simulator.prices import Candle


class OkxMarket(OkxCore):
    def public_time(self, _params: Params) -> list[Any]:
        """GET /api/v5/public/time"""
        return [{"ts": str(self.now_ms())}]

    def public_instruments(self, params: Params) -> list[Any]:
        """GET /api/v5/public/instruments (instType SPOT | SWAP; others list nothing)."""
        kind = params.inst_type(required=True)
        if kind is None:
            return []
        return [self._describe(i) for i in self._listed(kind, params)]

    def _describe(self, instrument: Instrument) -> Json:
        spot = instrument.kind is Kind.SPOT
        family = f"{instrument.base}-{instrument.quote}"
        max_size = plain(self.size(instrument, max_amount(instrument, MAX_ORDER_VALUE)))
        described: Json = {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": instrument.base if spot else "",
            "category": "1",
            "contTdSwTime": "",
            "ctMult": "" if spot else "1",
            "ctType": "" if spot else "linear",
            "ctVal": "" if spot else plain(self.contract_value(instrument)),
            "ctValCcy": "" if spot else instrument.base,
            "expTime": "",
            "futureSettlement": False,
            "instFamily": "" if spot else family,
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "lever": "" if spot else str(instrument.max_leverage),
            "listTime": str(self._started_ms),
            "lotSz": plain(instrument.amount_step) if spot else plain(LOT_SIZE),
            "maxIcebergSz": max_size,
            "maxLmtAmt": plain(MAX_ORDER_VALUE),
            "maxLmtSz": max_size,
            "maxMktAmt": plain(MAX_MARKET_VALUE),
            "maxMktSz": plain(MAX_MARKET_VALUE) if spot else max_size,
            "maxStopSz": plain(MAX_MARKET_VALUE) if spot else max_size,
            "maxTriggerSz": max_size,
            "maxTwapSz": max_size,
            "minSz": plain(self.size(instrument, instrument.min_amount)),
            "openType": "",
            "optType": "",
            "quoteCcy": instrument.quote if spot else "",
            "ruleType": "normal",
            "settleCcy": "" if spot else instrument.quote,
            "state": "live",
            "stk": "",
            "tickSz": plain(instrument.price_tick),
            "tradeQuoteCcyList": [instrument.quote] if spot else [],
            "uly": "" if spot else family,
        }
        return described

    def market_tickers(self, params: Params) -> list[Any]:
        """GET /api/v5/market/tickers (instType SPOT | SWAP, optional instFamily)."""
        kind = params.inst_type(required=True)
        if kind is None:
            return []
        return [self._ticker(i) for i in self._listed(kind, params)]

    def market_ticker(self, params: Params) -> list[Any]:
        """GET /api/v5/market/ticker (one instId)."""
        return [self._ticker(self._instrument(params.required("instId")))]

    def market_books(self, params: Params) -> list[Any]:
        """GET /api/v5/market/books: ``sz`` levels a side (1-400, default 1)."""
        return [self._book(params, 400)]

    def market_books_full(self, params: Params) -> list[Any]:
        """GET /api/v5/market/books-full: ``sz`` levels a side (1-5000, default 1)."""
        return [self._book(params, 5000)]

    def _book(self, params: Params, maximum: int) -> Json:
        """A synthetic book around the touch, best levels first; sizes as ``sz`` counts them
        (contracts for swaps), each level one order."""
        instrument = self._instrument(params.required("instId"))
        levels = params.integer("sz", 1)
        if levels is None or not 1 <= levels <= maximum:
            raise param_error("sz")
        bids, asks = book(instrument, *self.ledger.bid_ask(instrument), levels)

        def rows(side: list[tuple[Decimal, Decimal]]) -> list[list[str]]:
            return [[plain(p), plain(self.size(instrument, a)), "0", "1"] for p, a in side]

        return {"asks": rows(asks), "bids": rows(bids), "ts": str(self.now_ms())}

    def _ticker(self, instrument: Instrument) -> Json:
        prices = self.simulator.prices
        base = instrument.base
        bid, ask = self.ledger.bid_ask(instrument)
        last = self.ledger.last_price(instrument)
        now = self.simulator.clock()
        now_ms = int(now * 1000)
        day = day_window(prices, base, now, last)
        turnover = day.turnover.quantize(Decimal("0.0001"))
        depth = max(instrument.floor_amount(Decimal(10_000) / last), instrument.min_amount)
        utc_midnight = now_ms // DAY_MS * DAY_MS
        hk_midnight = (now_ms + HONG_KONG_MS) // DAY_MS * DAY_MS - HONG_KONG_MS
        spot = instrument.kind is Kind.SPOT
        return {
            "instType": INST_TYPE_OF[instrument.kind],
            "instId": self.inst_id(instrument),
            "last": plain(last),
            "lastSz": plain(self.size(instrument, instrument.min_amount)),
            "askPx": plain(ask),
            "askSz": plain(self.size(instrument, depth)),
            "bidPx": plain(bid),
            "bidSz": plain(self.size(instrument, depth)),
            "open24h": plain(day.open),
            "high24h": plain(day.high),
            "low24h": plain(day.low),
            # spot: vol24h in base, volCcy24h in quote; swaps: contracts and base
            "volCcy24h": plain(turnover if spot else day.volume),
            "vol24h": plain(self.size(instrument, day.volume)),
            "ts": str(now_ms),
            "sodUtc0": plain(prices.price(base, at=utc_midnight / 1000)),
            "sodUtc8": plain(prices.price(base, at=hk_midnight / 1000)),
        }

    def market_candles(self, params: Params) -> list[Any]:
        """GET /api/v5/market/candles and history-candles: newest first, at most ``limit``,
        opened after ``before`` and before ``after`` (both exclusive, ms)."""
        instrument = self._instrument(params.required("instId"))
        bar = params.text("bar") or "1m"
        if bar not in BARS:
            raise param_error("bar")
        length, offset = BARS[bar]
        limit = params.limit(100, 300)
        after, before = params.integer("after"), params.integer("before")
        now_ms = int(self.simulator.clock() * 1000)
        last_start = (now_ms + offset) // length * length - offset
        if after is not None:
            last_start = min(last_start, (after - 1 + offset) // length * length - offset)
        first_start = last_start - (limit - 1) * length
        if before is not None:
            first_start = max(first_start, (before + offset) // length * length - offset + length)
        if first_start > last_start:
            return []
        count = (last_start - first_start) // length + 1
        candles = self._candles(instrument.base, length, offset, first_start, count)
        rows = []
        for candle in reversed(candles):
            quote_volume = (candle.volume * candle.close).quantize(Decimal("0.0001"))
            rows.append(
                [
                    str(candle.open_time),
                    plain(candle.open),
                    plain(candle.high),
                    plain(candle.low),
                    plain(candle.close),
                    plain(self.size(instrument, candle.volume)),
                    plain(quote_volume if instrument.kind is Kind.SPOT else candle.volume),
                    plain(quote_volume),
                    "0" if candle.open_time + length > now_ms else "1",
                ]
            )
        return rows

    def _candles(self, base: str, length: int, offset: int, first: int, count: int) -> list[Candle]:
        """``count`` candles of ``length`` ms from ``first``; bars that the price book's
        epoch-aligned grid does not start on are built from finer candles that it does."""
        prices = self.simulator.prices
        if offset % length == 0:
            return prices.candles(base, length // 1000, since=first / 1000, limit=count)
        step = math.gcd(length, offset)
        per_bar = length // step
        fine = prices.candles(base, step // 1000, since=first / 1000, limit=count * per_bar)
        bars: list[Candle] = []
        for index in range(0, len(fine), per_bar):
            group = fine[index : index + per_bar]
            bars.append(
                Candle(
                    group[0].open_time,
                    group[0].open,
                    max(c.high for c in group),
                    min(c.low for c in group),
                    group[-1].close,
                    sum((c.volume for c in group), ZERO),
                )
            )
        return bars
