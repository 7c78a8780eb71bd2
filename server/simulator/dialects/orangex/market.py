"""OrangeX's public methods: instruments, tickers, TradingView candles, the order book, ping.

The simulator lists OrangeX's USDT perpetuals (``BTC-USDT-PERPETUAL``), amounts in the base
asset (``contract_size`` 1). As OrangeX's own answers are reported to do, ``get_instruments``
gives the settlement asset as ``base_currency`` and the traded asset as ``quote_currency``
(swapped): clients read the pair from the instrument name. Asked for ``currency=SPOT``, it lists
nothing (OrangeX's spot markets are not simulated).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from server.simulator.dialects import common
from server.simulator.dialects.orangex.wire import (
    BAD_INSTRUMENT,
    PERPETUAL,
    Json,
    OrangexError,
    Params,
    fmt,
    instrument_name,
)
from server.simulator.instruments import Instrument, Kind

if TYPE_CHECKING:
    from server.simulator.dialects.orangex.dialect import OrangexDialect

# TradingView resolutions in seconds (Deribit's list, which OrangeX follows).
RESOLUTIONS = {
    "1": 60,
    "3": 180,
    "5": 300,
    "10": 600,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "120": 7200,
    "180": 10_800,
    "360": 21_600,
    "720": 43_200,
    "1D": 86_400,
}
MAX_CANDLES = 1000  # per call (the simulator's bound; OrangeX documents none)
MAX_DEPTH = 1000
DEFAULT_DEPTH = 20


class MarketData:
    def __init__(self, dialect: OrangexDialect) -> None:
        self.dialect = dialect

    @property
    def instruments(self) -> list[Instrument]:
        return [i for i in self.dialect.ledger.instruments if i.kind is Kind.LINEAR]

    def instrument(self, name: str | None) -> Instrument:
        for instrument in self.instruments:
            if instrument_name(instrument) == name:
                return instrument
        raise OrangexError(BAD_INSTRUMENT, f"instrument not found: {name}")

    def _listed(self, params: Params) -> list[Instrument]:
        name = params.text("instrument_name")
        if name is not None:
            return [self.instrument(name)]
        currency = params.choice("currency", (PERPETUAL, "SPOT"), PERPETUAL)
        return self.instruments if currency == PERPETUAL else []

    def ping(self, _params: Params) -> str:
        """GET /public/ping"""
        return "pong"

    def get_instruments(self, params: Params) -> list[Json]:
        """GET /public/get_instruments"""
        kind = params.text("kind")
        if kind not in (None, "perpetual", "spot"):
            raise params.malformed("kind", "perpetual or spot")
        listed = [] if kind == "spot" else self._listed(params)
        return [self._describe(i) for i in listed]

    def _describe(self, instrument: Instrument) -> Json:
        return {
            "instrument_name": instrument_name(instrument),
            "show_name": f"{instrument.base}{instrument.quote}",
            "kind": "perpetual",
            "currency": PERPETUAL,
            "base_currency": instrument.quote,  # swapped, as OrangeX answers
            "quote_currency": instrument.base,
            "settlement_period": "perpetual",
            "contract_size": "1",
            "tick_size": fmt(instrument.price_tick),
            "min_trade_amount": fmt(instrument.amount_step),
            "min_qty": fmt(instrument.min_amount),
            "min_notional": fmt(instrument.min_notional),
            "instr_multiple": fmt(instrument.amount_step),
            "maker_commission": fmt(instrument.maker_fee),
            "taker_commission": fmt(instrument.taker_fee),
            "max_leverage": instrument.max_leverage,
            "is_active": True,
            "creation_timestamp": 1_640_995_200_000,
        }

    def ticker(self, params: Params) -> Json:
        """GET /public/ticker: one instrument."""
        return self._ticker(self.instrument(params.required("instrument_name")))

    def tickers(self, params: Params) -> list[Json]:
        """GET /public/tickers: one instrument, or every one of a ``currency``."""
        return [self._ticker(i) for i in self._listed(params)]

    def _ticker(self, instrument: Instrument) -> Json:
        simulator = self.dialect.simulator
        now = simulator.clock()
        ledger = self.dialect.ledger
        last = ledger.last_price(instrument)
        bid, ask = ledger.bid_ask(instrument)
        day = common.day_window(simulator.prices, instrument.base, now, last)
        # OrangeX gives the day's change only as a percentage, and ccxt derives the open
        # from it: rounded toward zero, the derived open lies between the true open and the
        # last price, so within the day's low and high.
        change = (last - day.open) / day.open * 100 if day.open else Decimal(0)
        level = common.level_amount(instrument, last, 0)
        return {
            "instrument_name": instrument_name(instrument),
            "timestamp": int(now * 1000),
            "state": "open",
            "last_price": fmt(last),
            "mark_price": fmt(last),
            "index_price": fmt(last),
            "best_bid_price": fmt(bid),
            "best_bid_amount": fmt(level),
            "best_ask_price": fmt(ask),
            "best_ask_amount": fmt(level),
            "max_price": fmt(instrument.round_price(last * Decimal("1.05"))),
            "min_price": fmt(instrument.round_price(last * Decimal("0.95"))),
            "open_interest": "0",
            "current_funding": "0.0001",
            "funding_8h": "0.0001",
            "stats": {
                "high": fmt(day.high),
                "low": fmt(day.low),
                "volume": fmt(day.volume),
                "turnover": fmt(day.turnover.quantize(Decimal("0.01"))),
                "price_change": fmt(change.quantize(Decimal("0.0001"), ROUND_DOWN)),
            },
        }

    def chart_data(self, params: Params) -> list[Json]:
        """GET /public/get_tradingview_chart_data: the candles that open between
        ``start_timestamp`` and ``end_timestamp`` (ms), oldest first, at most 1,000."""
        instrument = self.instrument(params.required("instrument_name"))
        resolution = params.required("resolution")
        if resolution not in RESOLUTIONS:
            raise params.malformed("resolution", "one of " + ", ".join(RESOLUTIONS))
        length = RESOLUTIONS[resolution]
        start = params.integer("start_timestamp")
        end = params.integer("end_timestamp")
        if start is None:
            raise params.missing("start_timestamp")
        if end is None:
            raise params.missing("end_timestamp")
        if end < start:
            raise params.malformed("end_timestamp", "at or after start_timestamp")
        now_ms = int(self.dialect.simulator.clock() * 1000)
        end = min(end, now_ms)
        first = -(-start // (length * 1000)) * length  # the first candle opening at or after
        count = min(MAX_CANDLES, max(0, (end // 1000 - first) // length + 1))
        candles = self.dialect.simulator.prices.candles(
            instrument.base, length, since=first, limit=count
        )
        return (
            [
                {
                    "tick": c.open_time,
                    "open": fmt(c.open),
                    "high": fmt(c.high),
                    "low": fmt(c.low),
                    "close": fmt(c.close),
                    "volume": fmt(c.volume),
                    "cost": fmt((c.volume * c.close).quantize(Decimal("0.01"))),
                }
                for c in candles
                if start <= c.open_time <= end
            ]
            if count
            else []
        )

    def order_book(self, params: Params) -> Json:
        """GET /public/get_order_book: ``depth`` (1-1000) levels a side."""
        instrument = self.instrument(params.required("instrument_name"))
        depth = params.integer("depth", DEFAULT_DEPTH)
        assert depth is not None
        if not 1 <= depth <= MAX_DEPTH:
            raise params.malformed("depth", "between 1 and 1000")
        ledger = self.dialect.ledger
        bid, ask = ledger.bid_ask(instrument)
        bids, asks = common.book(instrument, bid, ask, depth)
        last = ledger.last_price(instrument)
        return {
            "instrument_name": instrument_name(instrument),
            "timestamp": int(self.dialect.simulator.clock() * 1000),
            "state": "open",
            "bids": [[fmt(p), fmt(a)] for p, a in bids],
            "asks": [[fmt(p), fmt(a)] for p, a in asks],
            "best_bid_price": fmt(bid),
            "best_ask_price": fmt(ask),
            "last_price": fmt(last),
            "mark_price": fmt(last),
            "index_price": fmt(last),
            "change_id": int(self.dialect.simulator.clock() * 1000),
        }
