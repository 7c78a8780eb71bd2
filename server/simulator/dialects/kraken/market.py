"""Kraken's public market data: server time, system status, assets, pairs, tickers, OHLC and
the order book, from the simulator's prices."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from server.simulator.dialects.kraken.errors import KrakenError, invalid_arguments
from server.simulator.dialects.kraken.naming import Pair, altname, asset_decimals, asset_id
from server.simulator.instruments import ASSETS, QUOTE
from server.simulator.ledger import ZERO
from server.simulator.prices import Candle

if TYPE_CHECKING:
    from server.simulator.dialects.kraken.dialect import KrakenDialect

Json = dict[str, Any]
OHLC_MINUTES = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
OHLC_POINTS = 720  # Kraken answers at most the 720 latest candles
DEPTH_DEFAULT, DEPTH_MAX = 100, 500
BOOK_VALUE = Decimal(10_000)  # USDT per book level


def fixed(value: Decimal, places: int) -> str:
    """A number with exactly ``places`` decimals, as Kraken writes them."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):f}"


class MarketData:
    def __init__(self, dialect: KrakenDialect) -> None:
        self.dialect = dialect

    # -- reference data -----------------------------------------------------------------------

    def time(self, _params: Mapping[str, str]) -> Json:
        """GET /0/public/Time"""
        seconds = self.dialect.now_ms() // 1000
        return {"unixtime": seconds, "rfc1123": formatdate(seconds, usegmt=True)}

    def system_status(self, _params: Mapping[str, str]) -> Json:
        """GET /0/public/SystemStatus (maintenance is answered before this runs)."""
        now = self.dialect.now_ms() // 1000
        return {"status": "online", "timestamp": formatdate(now, usegmt=True)}

    def assets(self, params: Mapping[str, str]) -> Json:
        """GET /0/public/Assets (optionally ``asset`` = a comma-separated list)."""
        codes = [QUOTE, *(a.code for a in ASSETS)]
        listed = {asset_id(code): self._asset(code) for code in codes}
        wanted = params.get("asset")
        if not wanted:
            return listed
        by_any = {
            name: (asset_id(c), self._asset(c)) for c in codes for name in (asset_id(c), altname(c))
        }
        chosen = {}
        for name in wanted.split(","):
            if name not in by_any:
                raise KrakenError("EQuery:Unknown asset")
            key, value = by_any[name]
            chosen[key] = value
        return chosen

    @staticmethod
    def _asset(code: str) -> Json:
        decimals = asset_decimals(code)
        return {
            "aclass": "currency",
            "altname": altname(code),
            "decimals": decimals,
            "display_decimals": min(decimals, 5) if code != QUOTE else 4,
            "collateral_value": 1.0,
            "status": "enabled",
        }

    def asset_pairs(self, params: Mapping[str, str]) -> Json:
        """GET /0/public/AssetPairs (optionally ``pair`` = a comma-separated list)."""
        return {p.id: self._pair_info(p) for p in self.dialect.pairs_of(params, required=False)}

    @staticmethod
    def _pair_info(pair: Pair) -> Json:
        instrument = pair.instrument
        taker = float(instrument.taker_fee * 100)
        maker = float(instrument.maker_fee * 100)
        return {
            "altname": pair.id,
            "wsname": pair.wsname,
            "aclass_base": "currency",
            "base": asset_id(instrument.base),
            "aclass_quote": "currency",
            "quote": asset_id(instrument.quote),
            "lot": "unit",
            "cost_decimals": 5,
            "pair_decimals": pair.price_decimals,
            "lot_decimals": pair.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, taker]],
            "fees_maker": [[0, maker]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": f"{instrument.min_amount:f}",
            "costmin": f"{instrument.min_notional:f}",
            "tick_size": f"{instrument.price_tick:f}",
            "status": "online",
        }

    # -- prices -------------------------------------------------------------------------------

    def ticker(self, params: Mapping[str, str]) -> Json:
        """GET /0/public/Ticker (``pair`` = a comma-separated list; all pairs without it)."""
        return {p.id: self._ticker(p) for p in self.dialect.pairs_of(params, required=False)}

    def _ticker(self, pair: Pair) -> Json:
        instrument = pair.instrument
        places = pair.price_decimals
        last = self.dialect.ledger.last_price(instrument)  # bid and ask one tick off this read
        bid, ask = last - instrument.price_tick, last + instrument.price_tick
        now = self.dialect.simulator.clock()
        midnight = math.floor(now / 86400) * 86400
        day = self._window(instrument.base, now - 86400 + 3600, last)
        today = self._window(instrument.base, midnight, last)
        depth = max(instrument.floor_amount(BOOK_VALUE / last), instrument.min_amount)
        lot = fixed(depth, 8)
        return {
            "a": [fixed(ask, places), str(int(depth) or 1), lot],
            "b": [fixed(bid, places), str(int(depth) or 1), lot],
            "c": [fixed(last, places), fixed(instrument.min_amount, 8)],
            "v": [fixed(today["volume"], 8), fixed(day["volume"], 8)],
            "p": [fixed(today["vwap"], places + 2), fixed(day["vwap"], places + 2)],
            "t": [today["count"], day["count"]],
            "l": [fixed(today["low"], places), fixed(day["low"], places)],
            "h": [fixed(today["high"], places), fixed(day["high"], places)],
            "o": fixed(today["open"], places),
        }

    def _window(self, base: str, since: float, last: Decimal) -> Json:
        """Open, high, low, volume, vwap and trade count of the hourly candles from ``since``."""
        candles = self.dialect.simulator.prices.candles(base, 3600, since=since, limit=24)
        if not candles:
            return {
                "open": last,
                "high": last,
                "low": last,
                "volume": ZERO,
                "vwap": last,
                "count": 0,
            }
        high = max([c.high for c in candles] + [last])
        low = min([c.low for c in candles] + [last])
        volume = sum((c.volume for c in candles), ZERO)
        turnover = sum((c.volume * c.close for c in candles), ZERO)
        vwap = min(max(turnover / volume, low), high) if volume else last
        return {
            "open": candles[0].open,
            "high": high,
            "low": low,
            "volume": volume,
            "vwap": vwap,
            "count": 17 * len(candles),
        }

    def ohlc(self, params: Mapping[str, str]) -> Json:
        """GET /0/public/OHLC: ``interval`` minutes, candles from ``since`` (seconds) or the
        latest 720; each row [time, open, high, low, close, vwap, volume, count]."""
        pair = self.dialect.one_pair(params)
        try:
            interval = int(params.get("interval") or 1)
        except ValueError:
            raise invalid_arguments("interval") from None
        if interval not in OHLC_MINUTES:
            raise invalid_arguments("interval")
        seconds = interval * 60
        since_text = params.get("since")
        prices = self.dialect.simulator.prices
        if since_text:
            try:
                since = float(since_text)
            except ValueError:
                raise invalid_arguments("since") from None
            now = self.dialect.simulator.clock()
            first = max(since, now - (OHLC_POINTS - 1) * seconds)
            candles = prices.candles(pair.instrument.base, seconds, since=first, limit=OHLC_POINTS)
        else:
            candles = prices.candles(pair.instrument.base, seconds, limit=OHLC_POINTS)
        rows = [self._row(c, pair.price_decimals) for c in candles]
        last = candles[-1].open_time // 1000 if candles else 0
        return {pair.id: rows, "last": last}

    @staticmethod
    def _row(candle: Candle, places: int) -> list[Any]:
        vwap = (candle.open + candle.high + candle.low + candle.close) / 4
        return [
            candle.open_time // 1000,
            fixed(candle.open, places),
            fixed(candle.high, places),
            fixed(candle.low, places),
            fixed(candle.close, places),
            fixed(vwap, places + 1),
            fixed(candle.volume, 8),
            17 if candle.volume else 0,
        ]

    def depth(self, params: Mapping[str, str]) -> Json:
        """GET /0/public/Depth: ``count`` levels a side (1..500, default 100) around the
        simulated bid and ask, one price tick apart; each level [price, volume, timestamp]."""
        pair = self.dialect.one_pair(params)
        try:
            count = int(params.get("count") or DEPTH_DEFAULT)
        except ValueError:
            raise invalid_arguments("count") from None
        count = min(max(count, 1), DEPTH_MAX)
        instrument = pair.instrument
        bid, ask = self.dialect.ledger.bid_ask(instrument)
        tick = instrument.price_tick
        now = self.dialect.now_ms() // 1000
        places = pair.price_decimals

        def level(price: Decimal, i: int) -> list[Any]:
            size = instrument.floor_amount(BOOK_VALUE * (1 + Decimal(i) / 10) / price)
            return [fixed(price, places), fixed(max(size, instrument.min_amount), 8), now - i]

        bids = [level(bid - i * tick, i) for i in range(count) if bid - i * tick > 0]
        asks = [level(ask + i * tick, i) for i in range(count)]
        return {pair.id: {"asks": asks, "bids": bids}}
