"""Prices: what the shared market feeds price, per market source and symbol (no gRPC here).

Prices come only from the market feeds (:mod:`server.engine.feed`): one tickers request per
market source and round serves every engine and every price client.

- :meth:`Prices.list` reads the current tick of every running feed that matches the query and
  sends no exchange request. A market no feed watches has no prices: the named symbols nobody
  prices are answered as *unpriced* (not an error); a watch starts a feed for them.
- :meth:`Prices.watch` subscribes to one source's feed for the named symbols. When no engine
  uses that market, this starts its public feed (through the exchange's public account and its
  limits, like every call); the subscription ends when the watcher leaves, and the feed stops
  with its last subscriber. The stream: a snapshot (the feed's current prices of the symbols),
  then each round's changed prices, a heartbeat (None) while nothing changes, and its end when
  the feeds close (server shutdown). Without symbols it follows every symbol the running feed
  prices for others, so it needs a running feed.

Decisions: symbols are ccxt's unified ones (``BTC/USDT``, ``BTC/USDT:USDT``), at most
:data:`MAX_SYMBOLS`; a value may hold several, comma-separated. A symbol the exchange does not
list is no error: the feed leaves it out and reports it (``unknown``). A watch of the
simulator's market needs ``CTS_SIMULATOR_URL``; otherwise it uses the exchange's public API
(its testnet when asked).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from server.connections.vocabulary import ApiType, Exchange
from server.engine.feed import FeedClosed, FeedStats, MarketFeeds, MarketSource, Tick
from server.errors import FailedPrecondition, FieldViolation, InvalidArgument
from server.exchange.catalogue import has_market_data
from server.exchange.model import Ticker

MAX_SYMBOLS = 100
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
SYMBOL = re.compile(rf"{_PART}/{_PART}(?::{_PART})?")


@dataclass(frozen=True, slots=True)
class Price:
    """One symbol's price on one market source, as one round of its feed priced it."""

    source: MarketSource
    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    change_percent: Decimal | None  # over 24 h
    quote_volume: Decimal | None  # over 24 h, in the quote asset
    price_time: datetime  # the exchange's time of the price, else when the round asked
    fetch_time: datetime  # when the round asked

    @classmethod
    def of(cls, source: MarketSource, ticker: Ticker, tick: Tick) -> Price:
        fetched = datetime.fromtimestamp(tick.time, UTC)
        stamped = ticker.timestamp_ms
        return cls(
            source=source,
            symbol=ticker.symbol,
            last=ticker.last,
            bid=ticker.bid,
            ask=ticker.ask,
            change_percent=ticker.change_percent,
            quote_volume=ticker.quote_volume,
            price_time=datetime.fromtimestamp(stamped / 1000, UTC) if stamped else fetched,
            fetch_time=fetched,
        )

    @property
    def figures(self) -> tuple[Decimal | None, ...]:
        """What a change of price is: its values, not its times."""
        return (self.last, self.bid, self.ask, self.change_percent, self.quote_volume)


@dataclass(frozen=True, slots=True)
class PriceList:
    """ListPrices' answer: the prices, the named symbols nobody prices, the feeds read."""

    prices: tuple[Price, ...]
    unpriced: tuple[str, ...]
    feeds: tuple[FeedStats, ...]


@dataclass(frozen=True, slots=True)
class PriceRound:
    """One message of a price watch: a snapshot, or a round's changes."""

    snapshot: bool
    round: int  # the feed's round (0: a snapshot before the feed's first round)
    prices: tuple[Price, ...]
    error: str  # the failure kind of a failed round (no prices), else ""
    unknown: tuple[str, ...]  # watched symbols the exchange does not list


@dataclass(frozen=True, slots=True)
class PriceQuery:
    """Validated filters: None (or no symbols) matches everything."""

    exchange: str | None = None
    api_type: str | None = None
    symbols: tuple[str, ...] = ()
    is_simulated: bool | None = None
    testnet: bool | None = None

    def matches(self, source: MarketSource) -> bool:
        return (
            self.exchange in (None, source.exchange)
            and self.api_type in (None, source.api_type)
            and self.is_simulated in (None, source.simulated)
            and self.testnet in (None, source.testnet)
        )


def price_query(
    *,
    exchange: str = "",
    api_type: str = "",
    symbols: Iterable[str] = (),
    is_simulated: bool | None = None,
    testnet: bool | None = None,
    market_required: bool = False,
) -> PriceQuery:
    """The query, validated (INVALID_ARGUMENT naming every bad field). With
    ``market_required``, ``exchange`` and ``api_type`` must name a market CTS has data for."""
    violations = []
    if exchange and exchange not in Exchange._value2member_map_:
        violations.append(FieldViolation("exchange", f"must be one of {', '.join(Exchange)}"))
    elif market_required and not exchange:
        violations.append(FieldViolation("exchange", "required"))
    if api_type and api_type not in ApiType._value2member_map_:
        violations.append(FieldViolation("api_type", f"must be one of {', '.join(ApiType)}"))
    elif market_required and not api_type:
        violations.append(FieldViolation("api_type", "required"))
    wanted, bad = _symbols(symbols)
    if bad is not None:
        violations.append(FieldViolation("symbols", bad))
    if market_required and not violations and not has_market_data(exchange, api_type):
        violations.append(
            FieldViolation("api_type", f"CTS has no market data for {exchange} {api_type} yet")
        )
    if violations:
        raise InvalidArgument(violations)
    return PriceQuery(exchange or None, api_type or None, wanted, is_simulated, testnet)


def _symbols(values: Iterable[str]) -> tuple[tuple[str, ...], str | None]:
    """The distinct symbols of ``values`` (each may be comma-separated), in the order given,
    and what is wrong with them (None: nothing)."""
    wanted: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            symbol = part.strip()
            if not symbol:
                continue
            if SYMBOL.fullmatch(symbol) is None:
                shown = symbol if len(symbol) <= 40 else symbol[:40] + "…"
                return (), f"'{shown}' is not a symbol like BTC/USDT or BTC/USDT:USDT"
            wanted[symbol] = None
    if len(wanted) > MAX_SYMBOLS:
        return (), f"at most {MAX_SYMBOLS} symbols ({len(wanted)} given)"
    return tuple(wanted), None


def _source_order(source: MarketSource) -> tuple[str, str, bool, bool]:
    return (source.exchange, source.api_type, source.testnet, source.simulated)


class Prices:
    def __init__(
        self, feeds: MarketFeeds, *, simulator_configured: bool, heartbeat_seconds: float = 15.0
    ) -> None:
        self._feeds = feeds
        self._simulator_configured = simulator_configured
        self._heartbeat = heartbeat_seconds

    def list(self, query: PriceQuery) -> PriceList:
        """The current prices of every running feed the query matches (no exchange request)."""
        prices: list[Price] = []
        feeds: list[FeedStats] = []
        for feed in sorted(self._feeds.running(), key=lambda f: _source_order(f.source)):
            if not query.matches(feed.source):
                continue
            feeds.append(feed.stats())
            tick = feed.current
            if tick is not None:
                prices.extend(_priced(feed.source, tick, frozenset(query.symbols) or None))
        priced = {p.symbol for p in prices}
        unpriced = tuple(s for s in query.symbols if s not in priced)
        return PriceList(tuple(prices), unpriced, tuple(feeds))

    def watch(self, query: PriceQuery) -> AsyncIterator[PriceRound | None]:
        """The prices of the query's market source as they change (None: a heartbeat).

        The query must name the market (``price_query(market_required=True)``). Refused at
        once, before any subscription: the simulator's market when none is configured, and
        "every symbol" when no feed runs for the market."""
        if query.exchange is None or query.api_type is None:
            raise ValueError("a price watch needs a market (price_query(market_required=True))")
        source = MarketSource(
            query.exchange, query.api_type, bool(query.testnet), bool(query.is_simulated)
        )
        if source.simulated and not self._simulator_configured:
            raise FailedPrecondition(
                "no exchange simulator is configured (CTS_SIMULATOR_URL)",
                reason="SIMULATOR_NOT_CONFIGURED",
            )
        if not query.symbols and source not in {f.source for f in self._feeds.running()}:
            raise FailedPrecondition(
                f"no market feed runs for {_market(source)}: name the symbols to start one",
                reason="NO_MARKET_FEED",
            )
        return self._stream(source, frozenset(query.symbols))

    async def _stream(
        self, source: MarketSource, symbols: frozenset[str]
    ) -> AsyncIterator[PriceRound | None]:
        everything = not symbols
        try:
            feed = self._feeds.feed(source)
            subscription = feed.subscribe(symbols, everything=everything)
        except FeedClosed:  # the server is stopping
            return
        watcher = _Watcher(source, None if everything else symbols)
        loop = asyncio.get_running_loop()
        try:
            current = feed.current
            known_unknown = frozenset(feed.stats().unknown_symbols)
            yield watcher.snapshot(current, known_unknown)
            quiet_since = loop.time()
            while True:
                wait = max(0.0, quiet_since + self._heartbeat - loop.time())
                try:
                    tick = await subscription.next(timeout=wait)
                except TimeoutError:
                    yield None
                    quiet_since = loop.time()
                    continue
                except FeedClosed:
                    return
                changes = watcher.changes(tick)
                if changes is not None:
                    yield changes
                    quiet_since = loop.time()
        finally:
            subscription.close()


class _Watcher:
    """What one watch has sent: each symbol's last price, the failure, the unknown symbols."""

    def __init__(self, source: MarketSource, symbols: frozenset[str] | None) -> None:
        self._source = source
        self._symbols = symbols  # None: every symbol the feed prices
        self._sent: dict[str, Price] = {}
        self._error = ""
        self._unknown: tuple[str, ...] = ()

    def snapshot(self, tick: Tick | None, known_unknown: frozenset[str]) -> PriceRound:
        """The first message, from the feed's current tick (None: no round of this run yet) and
        the symbols the feed already knows the exchange does not list."""
        prices = _priced(self._source, tick, self._symbols) if tick is not None else ()
        unknown = known_unknown if self._symbols is None else known_unknown & self._symbols
        if tick is not None and self._symbols is None:
            unknown = tick.unknown
        self._sent = {p.symbol: p for p in prices}
        self._error = tick.error.failure.value if tick is not None and tick.error else ""
        self._unknown = tuple(sorted(unknown))
        return PriceRound(True, tick.round if tick else 0, prices, self._error, self._unknown)

    def changes(self, tick: Tick) -> PriceRound | None:
        """A round's changes since the last message, or None when nothing changed."""
        changed = tuple(
            p
            for p in _priced(self._source, tick, self._symbols)
            if (sent := self._sent.get(p.symbol)) is None or sent.figures != p.figures
        )
        error = tick.error.failure.value if tick.error else ""
        unknown = tuple(sorted(tick.unknown))
        if not changed and error == self._error and unknown == self._unknown:
            return None
        self._sent.update((p.symbol, p) for p in changed)
        self._error, self._unknown = error, unknown
        return PriceRound(False, tick.round, changed, error, unknown)


def _priced(source: MarketSource, tick: Tick, symbols: frozenset[str] | None) -> tuple[Price, ...]:
    """The tick's prices of ``symbols`` (None: all), by symbol."""
    return tuple(
        Price.of(source, ticker, tick)
        for symbol, ticker in sorted(tick.prices.items())
        if symbols is None or symbol in symbols
    )


def _market(source: MarketSource) -> str:
    where = [w for w, on in (("testnet", source.testnet), ("simulated", source.simulated)) if on]
    return f"{source.exchange} {source.api_type}" + (f" ({', '.join(where)})" if where else "")
