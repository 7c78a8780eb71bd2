"""Bybit's public market data: time, instruments, tickers and klines."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.bybit.core import BybitCore
from server.simulator.dialects.bybit.errors import not_supported_symbol, params_error
from server.simulator.dialects.bybit.wire import (
    FUNDING_INTERVAL_MS,
    FUNDING_RATE,
    KLINE_SECONDS,
    MAX_ORDER_VALUE,
    Json,
    Params,
)
from server.simulator.dialects.common import book, day_window, max_amount, plain
from server.simulator.instruments import ASSET_BY_CODE, Instrument, Kind
from server.simulator.ledger import ZERO


class BybitMarket(BybitCore):
    def market_time(self, _params: Params) -> Json:
        """GET /v5/market/time"""
        now = self.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def instruments_info(self, params: Params) -> Json:
        """GET /v5/market/instruments-info (category spot | linear; PreLaunch lists nothing)."""
        kind = params.kind()
        status = params.text("status")
        listed = [] if status not in (None, "Trading") else self._listed(kind, params)
        describe = self._spot_instrument if kind is Kind.SPOT else self._linear_instrument
        result: Json = {"category": params.text("category"), "list": [describe(i) for i in listed]}
        if kind is not Kind.SPOT:
            result["nextPageCursor"] = ""
        return result

    def _spot_instrument(self, instrument: Instrument) -> Json:
        return {
            "symbol": instrument.plain_id,
            "baseCoin": instrument.base,
            "quoteCoin": instrument.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "none",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": plain(instrument.amount_step),
                "quotePrecision": "0.00000001",
                "minOrderQty": plain(instrument.min_amount),
                "maxOrderQty": plain(max_amount(instrument, MAX_ORDER_VALUE)),
                "minOrderAmt": plain(instrument.min_notional),
                "maxOrderAmt": plain(MAX_ORDER_VALUE),
            },
            "priceFilter": {"tickSize": plain(instrument.price_tick)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }

    def _linear_instrument(self, instrument: Instrument) -> Json:
        max_qty = plain(max_amount(instrument, MAX_ORDER_VALUE))
        start = ASSET_BY_CODE[instrument.base].start_price
        return {
            "symbol": instrument.plain_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": instrument.base,
            "quoteCoin": instrument.quote,
            "settleCoin": instrument.quote,
            "launchTime": str(self._started_ms),
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(instrument.decimals(instrument.price_tick)),
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": f"{instrument.max_leverage}.00",
                "leverageStep": "0.01",
            },
            "priceFilter": {
                "minPrice": plain(instrument.price_tick),
                "maxPrice": plain(instrument.round_price(start * 100)),
                "tickSize": plain(instrument.price_tick),
            },
            "lotSizeFilter": {
                "maxOrderQty": max_qty,
                "maxMktOrderQty": max_qty,
                "minOrderQty": plain(instrument.min_amount),
                "qtyStep": plain(instrument.amount_step),
                "postOnlyMaxOrderQty": max_qty,
                "minNotionalValue": plain(instrument.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": FUNDING_INTERVAL_MS // 60_000,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
            "displayName": "",
        }

    def orderbook(self, params: Params) -> Json:
        """GET /v5/market/orderbook: a synthetic book around the touch, best levels first
        (``limit``: spot 1-200, default 1; linear 1-500, default 25)."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        spot = kind is Kind.SPOT
        limit = params.limit(1 if spot else 25, 200 if spot else 500)
        bids, asks = book(instrument, *self.ledger.bid_ask(instrument), limit)
        now = self.now_ms()
        return {
            "s": instrument.plain_id,
            "b": [[plain(price), plain(amount)] for price, amount in bids],
            "a": [[plain(price), plain(amount)] for price, amount in asks],
            "ts": now,
            "u": now,
            "seq": now,
            "cts": now,
        }

    def tickers(self, params: Params) -> Json:
        """GET /v5/market/tickers (one symbol, or the whole category)."""
        kind = params.kind()
        listed = self._listed(kind, params)
        if params.text("symbol") is not None and not listed:
            raise not_supported_symbol()
        return {"category": params.text("category"), "list": [self._ticker(i) for i in listed]}

    def _ticker(self, instrument: Instrument) -> Json:
        bid, ask = self.ledger.bid_ask(instrument)
        last = self.ledger.last_price(instrument)
        day = day_window(self.simulator.prices, instrument.base, self.simulator.clock(), last)
        depth = max(instrument.floor_amount(Decimal(10_000) / last), instrument.min_amount)
        ticker: Json = {
            "symbol": instrument.plain_id,
            "bid1Price": plain(bid),
            "bid1Size": plain(depth),
            "ask1Price": plain(ask),
            "ask1Size": plain(depth),
            "lastPrice": plain(last),
            "prevPrice24h": plain(day.open),
            "price24hPcnt": plain((last / day.open - 1).quantize(Decimal("0.0001"))),
            "highPrice24h": plain(day.high),
            "lowPrice24h": plain(day.low),
            "turnover24h": plain(day.turnover.quantize(Decimal("0.0001"))),
            "volume24h": plain(day.volume),
        }
        if instrument.kind is Kind.SPOT:
            ticker["usdIndexPrice"] = plain(last)
            return ticker
        return ticker | self._derivative_fields(instrument, last)

    def _derivative_fields(self, instrument: Instrument, last: Decimal) -> Json:
        """The ticker fields only derivatives have (ccxt tells spot from perps by them)."""
        open_interest = sum(
            (
                abs(p.size)
                for a in self.ledger.accounts.values()
                for p in a.positions.values()
                if p.instrument == instrument
            ),
            ZERO,
        )
        now_ms = int(self.simulator.clock() * 1000)
        next_funding = (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
        return {
            "indexPrice": plain(last),
            "markPrice": plain(last),
            "prevPrice1h": plain(
                self.simulator.prices.price(instrument.base, at=now_ms / 1000 - 3600)
            ),
            "openInterest": plain(open_interest),
            "openInterestValue": plain(open_interest * last),
            "fundingRate": FUNDING_RATE,
            "fundingIntervalHour": str(FUNDING_INTERVAL_MS // 3_600_000),
            "fundingCap": "0.005",
            "nextFundingTime": str(next_funding),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "basis": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "curPreListingPhase": "",
        }

    def kline(self, params: Params) -> Json:
        """GET /v5/market/kline: candles newest first; ``start`` counts forward, else the latest
        ``limit`` candles up to ``end`` (default now)."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        interval = params.required("interval")
        if interval not in KLINE_SECONDS:
            raise params_error("Invalid period!")
        seconds = KLINE_SECONDS[interval]
        limit = params.limit(200, 1000)
        start, end = params.integer("start"), params.integer("end")
        since: float | None = None
        if start is not None:
            since = start / 1000
        elif end is not None:
            since = (end // 1000 // seconds - (limit - 1)) * seconds
        candles = self.simulator.prices.candles(instrument.base, seconds, since=since, limit=limit)
        if end is not None:
            candles = [c for c in candles if c.open_time <= end]
        rows = [
            [
                str(c.open_time),
                plain(c.open),
                plain(c.high),
                plain(c.low),
                plain(c.close),
                plain(c.volume),
                plain((c.volume * c.close).quantize(Decimal("0.0001"))),
            ]
            for c in reversed(candles)
        ]
        return {"category": params.text("category"), "symbol": instrument.plain_id, "list": rows}
