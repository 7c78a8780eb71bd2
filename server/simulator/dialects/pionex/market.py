"""Pionex's public endpoints: symbols, 24-h tickers, book tickers, klines and depth, for spot
markets (``BTC_USDT``) and perpetuals (``BTC_USDT_PERP``, ``type=PERP``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from server.simulator.dialects.common import max_amount
from server.simulator.dialects.pionex.wire import (
    MARKET_INVALID_SYMBOL,
    Json,
    Params,
    PionexError,
    decimals,
    fmt,
    symbol_of,
)
from server.simulator.instruments import ASSET_BY_CODE, Instrument, Kind
from server.simulator.ledger import ZERO

if TYPE_CHECKING:
    from server.simulator.dialects.pionex.dialect import PionexDialect

MAX_ORDER_VALUE = Decimal(1_000_000)  # USDT: the advertised maximum order size
QUOTE_DECIMALS = 2  # amountPrecision: decimals of a market buy's quote amount
DEPTH_VALUE = Decimal(10_000)  # USDT at each simulated book level
# Pionex's kline intervals in seconds
INTERVALS = {
    "1M": 60,
    "5M": 300,
    "15M": 900,
    "30M": 1800,
    "60M": 3600,
    "4H": 14_400,
    "8H": 28_800,
    "12H": 43_200,
    "1D": 86_400,
}
# Perpetuals' klines also come by the week and the month ("1m"; kept at 30 days here).
PERP_INTERVALS = {**INTERVALS, "1W": 604_800, "1m": 2_592_000}
KINDS = {"SPOT": Kind.SPOT, "PERP": Kind.LINEAR}
LIQUIDATION_FEE_RATE = "0.005"


class MarketData:
    def __init__(self, dialect: PionexDialect) -> None:
        self.dialect = dialect

    def instruments(self, kind: Kind) -> list[Instrument]:
        return [i for i in self.dialect.ledger.instruments if i.kind is kind]

    def instrument(
        self, symbol: str | None, code: str = MARKET_INVALID_SYMBOL, kind: Kind | None = None
    ) -> Instrument:
        """The market named ``symbol`` (of ``kind``, when given)."""
        for instrument in self.dialect.ledger.instruments:
            if symbol_of(instrument) == symbol and kind in (None, instrument.kind):
                return instrument
        raise PionexError(code, f"invalid symbol: {symbol}")

    @staticmethod
    def _kind(params: Params, default: str) -> Kind:
        kind = params.text("type") or default
        if kind not in KINDS:
            raise params.bad("type")
        return KINDS[kind]

    def _selected(self, params: Params, default: str = "SPOT") -> list[Instrument]:
        """One ``symbol``, or every market of ``type`` (SPOT or PERP; ``default`` if not sent)."""
        symbol = params.text("symbol")
        if symbol is not None:
            return [self.instrument(symbol)]
        return self.instruments(self._kind(params, default))

    def symbols(self, params: Params) -> Json:
        """GET /api/v1/common/symbols (``type`` SPOT, the default, or PERP)"""
        wanted = params.text("symbols")
        kind = self._kind(params, "SPOT")
        if wanted is not None:
            listed = [self.instrument(s) for s in wanted.split(",")]
        else:
            listed = self.instruments(kind)
        return {
            "symbols": [
                self._describe(i) if i.kind is Kind.SPOT else self._describe_perp(i) for i in listed
            ]
        }

    @staticmethod
    def _describe_perp(instrument: Instrument) -> Json:
        """A perpetual as openapi_futures.yaml's ``FuturesSymbolInfo`` describes it."""
        largest = fmt(max_amount(instrument, MAX_ORDER_VALUE))
        return {
            "symbol": symbol_of(instrument),
            "name": f"{instrument.base}/{instrument.quote} Perpetual",
            "contractType": "PERPETUAL",
            "baseCurrency": instrument.base,
            "quoteCurrency": instrument.quote,
            "basePrecision": decimals(instrument.amount_step),
            "quotePrecision": decimals(instrument.price_tick),
            "minNotional": fmt(instrument.min_notional),
            "baseStep": fmt(instrument.amount_step),
            "quoteStep": fmt(instrument.price_tick),
            "minSizeLimit": fmt(instrument.min_amount),
            "maxSizeLimit": largest,
            "maxImpactLimit": "0.1",
            "minSizeMarket": fmt(instrument.min_amount),
            "maxSizeMarket": largest,
            "maxImpactMarket": "0.05",
            "maxOrderNum": 200,
            "status": "TRADING",
            "liquidationFeeRate": LIQUIDATION_FEE_RATE,
        }

    @staticmethod
    def _describe(instrument: Instrument) -> Json:
        start = ASSET_BY_CODE[instrument.base].start_price
        largest = instrument.floor_amount(MAX_ORDER_VALUE / start)
        return {
            "symbol": symbol_of(instrument),
            "type": "SPOT",
            "baseCurrency": instrument.base,
            "quoteCurrency": instrument.quote,
            "basePrecision": decimals(instrument.amount_step),
            "quotePrecision": decimals(instrument.price_tick),
            "amountPrecision": QUOTE_DECIMALS,
            "minAmount": fmt(instrument.min_notional),
            "minTradeSize": fmt(instrument.min_amount),
            "maxTradeSize": fmt(largest),
            "minTradeDumping": fmt(instrument.min_amount),
            "maxTradeDumping": fmt(largest),
            "buyCeiling": "1.1",
            "sellFloor": "0.9",
            "enable": True,
        }

    def tickers(self, params: Params) -> Json:
        """GET /api/v1/market/tickers: 24-h statistics."""
        return {"tickers": [self._ticker(i) for i in self._selected(params)]}

    def _ticker(self, instrument: Instrument) -> Json:
        prices = self.dialect.simulator.prices
        now = self.dialect.simulator.clock()
        last = self.dialect.ledger.last_price(instrument)
        day = prices.candles(instrument.base, 3600, since=now - 86400 + 3600, limit=24)
        volume = sum((c.volume for c in day), ZERO)
        turnover = sum((c.volume * c.close for c in day), ZERO).quantize(Decimal("0.01"))
        return {
            "symbol": symbol_of(instrument),
            "time": int(now * 1000),
            "open": fmt(day[0].open if day else last),  # the first of the 24 hourly candles
            "close": fmt(last),
            "high": fmt(max([c.high for c in day] + [last])),
            "low": fmt(min([c.low for c in day] + [last])),
            "volume": fmt(volume),
            "amount": fmt(turnover),
            "count": str(len(day) * 100),
        }

    def book_tickers(self, params: Params) -> Json:
        """GET /api/v1/market/bookTickers: best bid and ask (spot unless ``type`` says)."""
        return self._book_rows(self._selected(params))

    def book_ticker(self, params: Params) -> Json:
        """GET /api/v1/market/bookTicker: the futures API's name for it (perpetuals unless
        ``type`` says)."""
        return self._book_rows(self._selected(params, default="PERP"))

    def _book_rows(self, selected: list[Instrument]) -> Json:
        rows = []
        now_ms = int(self.dialect.simulator.clock() * 1000)
        for instrument in selected:
            bid, ask = self.dialect.ledger.bid_ask(instrument)
            size = fmt(self._level_size(instrument))
            rows.append(
                {
                    "symbol": symbol_of(instrument),
                    "bidPrice": fmt(bid),
                    "bidSize": size,
                    "askPrice": fmt(ask),
                    "askSize": size,
                    "timestamp": str(now_ms),
                }
            )
        return {"tickers": rows}

    def _level_size(self, instrument: Instrument) -> Decimal:
        last = self.dialect.ledger.last_price(instrument)
        return max(instrument.floor_amount(DEPTH_VALUE / last), instrument.min_amount)

    def klines(self, params: Params) -> Json:
        """GET /api/v1/market/klines: at most ``limit`` (1-500) candles up to ``endTime``,
        oldest first, the last one in progress."""
        instrument = self.instrument(params.required("symbol"))
        interval = params.required("interval")
        intervals = INTERVALS if instrument.kind is Kind.SPOT else PERP_INTERVALS
        if interval not in intervals:
            raise params.bad("interval")
        length = intervals[interval]
        limit = params.limit(100, 1, 500)
        now_ms = int(self.dialect.simulator.clock() * 1000)
        end_ms = params.integer("endTime")
        end_ms = now_ms if end_ms is None else min(end_ms, now_ms)
        last_start = end_ms // 1000 // length * length
        first_start = last_start - (limit - 1) * length
        candles = self.dialect.simulator.prices.candles(
            instrument.base, length, since=first_start, limit=limit
        )
        return {
            "klines": [
                {
                    "time": c.open_time,
                    "open": fmt(c.open),
                    "close": fmt(c.close),
                    "high": fmt(c.high),
                    "low": fmt(c.low),
                    "volume": fmt(c.volume),
                }
                for c in candles
                if c.open_time <= end_ms
            ]
        }

    def depth(self, params: Params) -> Json:
        """GET /api/v1/market/depth: ``limit`` (1-1000) levels a side, one tick apart."""
        instrument = self.instrument(params.required("symbol"))
        limit = params.limit(20, 1, 1000)
        bid, ask = self.dialect.ledger.bid_ask(instrument)
        size = fmt(self._level_size(instrument))
        tick = instrument.price_tick
        bids = [[fmt(bid - tick * i), size] for i in range(limit) if bid - tick * i > 0]
        return {
            "bids": bids,
            "asks": [[fmt(ask + tick * i), size] for i in range(limit)],
            "updateTime": int(self.dialect.simulator.clock() * 1000),
        }
