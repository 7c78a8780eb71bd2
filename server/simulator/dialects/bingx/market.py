"""BingX's public market data: symbols and contracts, server time, tickers, klines, depth."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from server.simulator.dialects.bingx.wire import (
    Json,
    Params,
    Venue,
    bad_parameter,
    fmt,
    market_id,
)
from server.simulator.instruments import ASSET_BY_CODE, Instrument, Kind

ZERO = Decimal(0)
MAX_ORDER_VALUE = Decimal(2_000_000)  # USDT
INTERVAL_SECONDS = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
    "1w": 604800,
}
DEPTH_LEVELS = (5, 10, 20, 50, 100, 500, 1000)


def server_time(venue: Venue, _params: Params) -> Json:
    """GET /openApi/swap/v2/server/time"""
    return {"serverTime": venue.now_ms}


def spot_symbols(venue: Venue, params: Params) -> Json:
    """GET /openApi/spot/v1/common/symbols"""
    return {
        "symbols": [
            {
                "symbol": market_id(i),
                "minQty": float(i.min_amount),
                "maxQty": float(_max_qty(i)),
                "minNotional": float(i.min_notional),
                "maxNotional": float(MAX_ORDER_VALUE),
                "status": 1,
                "tickSize": float(i.price_tick),
                "stepSize": float(i.amount_step),
                "apiStateSell": True,
                "apiStateBuy": True,
                "timeOnline": 0,
                "offTime": 0,
                "maintainTime": 0,
            }
            for i in venue.listed(Kind.SPOT, params.text("symbol"))
        ]
    }


def swap_contracts(venue: Venue, params: Params) -> list[Json]:
    """GET /openApi/swap/v2/quote/contracts"""
    return [
        {
            "contractId": str(100 + n),
            "symbol": market_id(i),
            "size": fmt(i.amount_step),
            "quantityPrecision": i.decimals(i.amount_step),
            "pricePrecision": i.decimals(i.price_tick),
            "feeRate": fmt(i.taker_fee),
            "makerFeeRate": fmt(i.maker_fee),
            "takerFeeRate": fmt(i.taker_fee),
            "tradeMinLimit": 0,
            "tradeMinQuantity": float(i.min_amount),
            "tradeMinUSDT": float(i.min_notional),
            "maxLongLeverage": i.max_leverage,
            "maxShortLeverage": i.max_leverage,
            "currency": i.quote,
            "asset": i.base,
            "status": 1,
            "apiStateOpen": "true",
            "apiStateClose": "true",
            "ensureTrigger": False,
            "triggerFeeRate": "0.00000000",
            "brokerState": True,
            "launchTime": 0,
            "maintainTime": 0,
            "offTime": 0,
        }
        for n, i in enumerate(venue.listed(Kind.LINEAR, params.text("symbol")))
    ]


def coin_contracts(_venue: Venue, _params: Params) -> list[Json]:
    """GET /openApi/cswap/v1/market/contracts: the simulator lists no coin-margined contracts."""
    return []


def _max_qty(instrument: Instrument) -> Decimal:
    start = ASSET_BY_CODE[instrument.base].start_price
    steps = (MAX_ORDER_VALUE / start / instrument.amount_step).to_integral_value("ROUND_FLOOR")
    return steps * instrument.amount_step


def tickers(venue: Venue, params: Params) -> Any:
    """GET /openApi/spot/v1/ticker/24hr and /openApi/swap/v2/quote/ticker (one symbol: the swap
    answer is the ticker itself, the spot answer a list of one)."""
    symbol = params.text("symbol")
    listed = [_ticker(venue, i) for i in venue.listed(params.kind, symbol)]
    if symbol and params.kind is Kind.LINEAR:
        return listed[0]
    return listed


def _ticker(venue: Venue, instrument: Instrument) -> Json:
    prices = venue.prices
    now = venue.now_ms / 1000
    bid, ask = venue.ledger.bid_ask(instrument)
    last = venue.ledger.last_price(instrument)
    day = prices.candles(instrument.base, 3600, since=now - 86400 + 3600, limit=24)
    open_ = prices.price(instrument.base, at=now - 86400)
    volume = sum((c.volume for c in day), ZERO)
    turnover = sum((c.volume * c.close for c in day), ZERO)
    depth = max(instrument.floor_amount(Decimal(10_000) / last), instrument.min_amount)
    change = last - open_
    ticker: Json = {
        "symbol": market_id(instrument),
        "openPrice": fmt(open_),
        "highPrice": fmt(max([c.high for c in day] + [last, open_])),
        "lowPrice": fmt(min([c.low for c in day] + [last, open_])),
        "lastPrice": fmt(last),
        "priceChange": fmt(change),
        "priceChangePercent": f"{(change / open_ * 100).quantize(Decimal('0.0001'))}%",
        "volume": fmt(volume),
        "quoteVolume": fmt(turnover.quantize(Decimal("0.0001"))),
        "openTime": venue.now_ms - 86_400_000,
        "closeTime": venue.now_ms,
        "bidPrice": fmt(bid),
        "bidQty": fmt(depth),
        "askPrice": fmt(ask),
        "askQty": fmt(depth),
    }
    if instrument.kind is Kind.LINEAR:
        ticker["lastQty"] = fmt(instrument.min_amount)
    return ticker


def klines(venue: Venue, params: Params) -> list[Any]:
    """GET /openApi/spot/v1/market/kline (rows) and /openApi/swap/v3/quote/klines (objects):
    candles from ``startTime`` on, else the latest ``limit`` up to ``endTime`` (default now)."""
    instrument = venue.instrument(params.kind, params.required("symbol"))
    interval = params.required("interval")
    if interval not in INTERVAL_SECONDS:
        raise bad_parameter(params.kind, f"interval {interval} is not supported")
    seconds = INTERVAL_SECONDS[interval]
    limit = params.limit("limit", 500, 1440)
    start, end = params.integer("startTime"), params.integer("endTime")
    since: float | None = None
    if start is not None:
        since = math.ceil(start / 1000 / seconds) * seconds
    elif end is not None:
        since = (end // 1000 // seconds - (limit - 1)) * seconds
    candles = venue.prices.candles(instrument.base, seconds, since=since, limit=limit)
    if end is not None:
        candles = [c for c in candles if c.open_time <= end]
    if params.kind is Kind.SPOT:
        return [
            [
                c.open_time,
                float(c.open),
                float(c.high),
                float(c.low),
                float(c.close),
                float(c.volume),
                c.open_time + seconds * 1000 - 1,
                float((c.volume * c.close).quantize(Decimal("0.0001"))),
            ]
            for c in candles
        ]
    return [
        {
            "open": fmt(c.open),
            "close": fmt(c.close),
            "high": fmt(c.high),
            "low": fmt(c.low),
            "volume": fmt(c.volume),
            "time": c.open_time,
        }
        for c in reversed(candles)
    ]


def depth(venue: Venue, params: Params) -> Json:
    """GET /openApi/spot/v1/market/depth and /openApi/swap/v2/quote/depth: a book of levels one
    tick apart around the simulated price."""
    instrument = venue.instrument(params.kind, params.required("symbol"))
    if params.kind is Kind.SPOT:
        levels = params.limit("limit", 20, 1000)
    else:
        levels = params.integer("limit", 20) or 20
        if levels not in DEPTH_LEVELS:
            raise bad_parameter(params.kind, f"limit must be one of {DEPTH_LEVELS}")
    bid, ask = venue.ledger.bid_ask(instrument)
    step = instrument.price_tick
    base_size = max(instrument.floor_amount(Decimal(2_000) / ask), instrument.min_amount)
    bids = [(bid - step * n, base_size * (n + 1)) for n in range(levels) if bid - step * n > 0]
    asks = [(ask + step * n, base_size * (n + 1)) for n in range(levels)]
    book: Json = {
        "bids": [[fmt(p), fmt(q)] for p, q in bids],
        "asks": [[fmt(p), fmt(q)] for p, q in asks],
    }
    if params.kind is Kind.SPOT:
        return book | {"ts": venue.now_ms, "lastUpdateId": venue.now_ms}
    return book | {
        "T": venue.now_ms,
        "bidsCoin": book["bids"],
        "asksCoin": book["asks"],
    }
