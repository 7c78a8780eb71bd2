"""The Binance dialect: spot (``/api/v3``, ``/sapi``) and USDⓈ-M futures (``/fapi``).

Binance's wire rules, as this dialect applies them:

- Signed endpoints take the key in the ``X-MBX-APIKEY`` header and ``timestamp``, optional
  ``recvWindow`` (default 5000 ms, at most 60000) and ``signature`` parameters. The signature is
  the hex HMAC-SHA256, keyed with the secret, of the query string concatenated with the form body,
  both exactly as sent and without the ``signature`` parameter. A request is refused when its
  timestamp is 1000 ms or more ahead of the exchange's clock or older than ``recvWindow``.
- A key that is unknown, revoked, or lacks the permission an endpoint needs gets -2015 (HTTP
  401), as Binance answers; a missing key gets -2014.
- Amounts and prices are strings (Decimal inside); spot formats them with 8 decimals, futures
  with the market's own precision. Errors are ``{"code": <negative int>, "msg": ...}``.
- Spot and the perp of an asset share the id ``BTCUSDT``: the path (``/api`` or ``/fapi``) says
  which market is meant.

Where Binance's behaviour and ccxt's mapping of its codes meet: ccxt maps some codes (-2019,
-4116, -4164, ...) only when the URL is on binance.com, so against the simulator they surface as
plain ``ExchangeError``. Insufficient balance is therefore answered on both APIs with -2010 and
Binance's "Account has insufficient balance for requested action.", which ccxt maps by message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import string
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.instruments import QUOTE, Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    LedgerError,
    Order,
    OrderNotFound,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TradingNotAllowed,
    UnknownInstrument,
)
from server.simulator.prices import Candle

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Json = dict[str, Any]

DEFAULT_RECV_WINDOW = Decimal(5000)
MAX_RECV_WINDOW = Decimal(60000)
MAX_PRICE = Decimal(1_000_000)
MAX_QTY_STEPS = Decimal(10_000_000)  # maxQty is this many steps of the market's stepSize
BOOK_LEVEL_VALUE = Decimal(20_000)  # quote value of each simulated order-book level
ONBOARD_MS = 1_569_398_400_000
PERPETUAL_DELIVERY_MS = 4_133_404_800_000
INSUFFICIENT = "Account has insufficient balance for requested action."
CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INTEGER_PATTERN = r"^[0-9]{1,20}$"
SPOT_ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET")
FUTURES_ORDER_TYPES = ("LIMIT", "MARKET")
SPOT_TIME_IN_FORCE = ("GTC", "IOC", "FOK")
FUTURES_TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX")
KLINE_INTERVALS = {
    "1s": 1,
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
}
# (notional floor, notional cap, initial leverage, maintenance margin ratio); the first
# bracket's leverage is the market's maximum.
BRACKETS = (
    (Decimal(0), Decimal(50_000), 0, Decimal("0.005")),
    (Decimal(50_000), Decimal(250_000), 50, Decimal("0.01")),
    (Decimal(250_000), Decimal(1_000_000), 20, Decimal("0.025")),
    (Decimal(1_000_000), Decimal(10_000_000), 10, Decimal("0.05")),
    (Decimal(10_000_000), Decimal(50_000_000), 5, Decimal("0.1")),
)


class Family(StrEnum):
    """Which of Binance's APIs a path belongs to."""

    SPOT = "spot"  # /api/v3 and /sapi
    FUTURES = "futures"  # /fapi (USDⓈ-M)


class Security(StrEnum):
    """Binance's endpoint security types, as far as the simulator needs them."""

    NONE = "NONE"  # public market data
    USER_DATA = "USER_DATA"  # signed, reading
    TRADE = "TRADE"  # signed, needs the API's trading permission


KIND = {Family.SPOT: Kind.SPOT, Family.FUTURES: Kind.LINEAR}


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


def fmt(value: Decimal, places: int = 8) -> str:
    """A number as Binance writes it: a plain decimal string with ``places`` decimals."""
    return f"{value:.{places}f}"


@dataclass
class Call:
    """One request to an endpoint: its API, parameters and (for signed endpoints) account."""

    family: Family
    params: dict[str, str]
    account: Account | None = None

    @property
    def user(self) -> Account:
        assert self.account is not None, "a signed endpoint always has an account"
        return self.account

    @property
    def kind(self) -> Kind:
        return KIND[self.family]

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise missing(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(DECIMAL_PATTERN, value):
            raise illegal(name, DECIMAL_PATTERN)
        return Decimal(value)

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(INTEGER_PATTERN, value):
            raise illegal(name, INTEGER_PATTERN)
        return int(value)

    def flag(self, name: str) -> bool:
        return (self.text(name) or "false").lower() == "true"


@dataclass
class OrderMeta:
    """What Binance reports about an order that the exchange-neutral ledger does not keep."""

    type: str
    time_in_force: str
    quote_qty: Decimal = ZERO
    expired: bool = False
    taker: bool = False
    realized_pnl: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new-order request, parsed and checked against the market's filters."""

    instrument: Instrument
    side: Side
    type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal | None
    client_order_id: str
    reduce_only: bool
    quote_qty: Decimal
    response_type: str


@dataclass(frozen=True, slots=True)
class DayStats:
    """Rolling 24-hour statistics of a market."""

    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_ms: int
    close_ms: int


Handler = Callable[[Call], Any]


class BinanceDialect(Dialect):
    name = "binance"
    prefixes = ("/api/v3/", "/api/v1/", "/sapi/", "/fapi/")

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._meta: dict[str, OrderMeta] = {}
        self._key_created: dict[str, int] = {}

    # -- the Dialect interface ----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("X-MBX-APIKEY") or None

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        """HTTP 429 with -1003 and ``Retry-After`` in whole seconds, as Binance answers."""
        limit = self.simulator.limits[self.name].per_minute
        body = {
            "code": -1003,
            "msg": f"Too many requests; current limit is {limit} requests per minute. Please use "
            "the websocket for live updates to avoid polling the API.",
        }
        return web.json_response(body, status=429, headers=retry_after(retry_after_seconds))

    def unavailable(self) -> web.Response:
        """Binance's edge when the backend is down: a 503 page, not a JSON error."""
        return web.Response(
            status=503,
            text="<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
            "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
            content_type="text/html",
        )

    def maintenance(self) -> web.Response:
        """Binance's answer during a system upgrade."""
        return web.json_response({"code": 1, "msg": "System is under maintenance."}, status=503)

    def routes(self) -> Iterable[web.RouteDef]:
        return [
            web.route(method, path, self._endpoint(family, security, handler))
            for method, path, family, security, handler in self._table()
        ]

    def _table(self) -> list[tuple[str, str, Family, Security, Handler]]:
        spot, futures = Family.SPOT, Family.FUTURES
        public, user, trade = Security.NONE, Security.USER_DATA, Security.TRADE
        return [
            ("GET", "/api/v3/ping", spot, public, self.ping),
            ("GET", "/api/v3/time", spot, public, self.time),
            ("GET", "/api/v3/exchangeInfo", spot, public, self.exchange_info),
            ("GET", "/api/v3/ticker/24hr", spot, public, self.ticker_24hr),
            ("GET", "/api/v3/ticker/price", spot, public, self.ticker_price),
            ("GET", "/api/v3/ticker/bookTicker", spot, public, self.book_ticker),
            ("GET", "/api/v3/klines", spot, public, self.klines),
            ("GET", "/api/v3/depth", spot, public, self.depth),
            ("GET", "/sapi/v1/system/status", spot, public, self.system_status),
            ("GET", "/api/v3/account", spot, user, self.spot_account),
            ("GET", "/api/v3/order", spot, user, self.query_order),
            ("GET", "/api/v3/openOrders", spot, user, self.open_orders),
            ("GET", "/api/v3/allOrders", spot, user, self.all_orders),
            ("GET", "/api/v3/myTrades", spot, user, self.my_trades),
            ("GET", "/sapi/v1/account/apiRestrictions", spot, user, self.api_restrictions),
            ("POST", "/api/v3/order", spot, trade, self.new_order),
            ("POST", "/api/v3/order/test", spot, trade, self.test_order),
            ("DELETE", "/api/v3/order", spot, trade, self.cancel_order),
            ("DELETE", "/api/v3/openOrders", spot, trade, self.cancel_open_orders),
            ("GET", "/fapi/v1/ping", futures, public, self.ping),
            ("GET", "/fapi/v1/time", futures, public, self.time),
            ("GET", "/fapi/v1/exchangeInfo", futures, public, self.exchange_info),
            ("GET", "/fapi/v1/ticker/24hr", futures, public, self.ticker_24hr),
            ("GET", "/fapi/v1/ticker/price", futures, public, self.ticker_price),
            ("GET", "/fapi/v2/ticker/price", futures, public, self.ticker_price),
            ("GET", "/fapi/v1/ticker/bookTicker", futures, public, self.book_ticker),
            ("GET", "/fapi/v1/klines", futures, public, self.klines),
            ("GET", "/fapi/v1/depth", futures, public, self.depth),
            ("GET", "/fapi/v1/premiumIndex", futures, public, self.premium_index),
            ("GET", "/fapi/v2/account", futures, user, self.futures_account),
            ("GET", "/fapi/v3/account", futures, user, self.futures_account),
            ("GET", "/fapi/v2/balance", futures, user, self.futures_balance),
            ("GET", "/fapi/v3/balance", futures, user, self.futures_balance),
            ("GET", "/fapi/v1/order", futures, user, self.query_order),
            ("GET", "/fapi/v1/openOrders", futures, user, self.open_orders),
            ("GET", "/fapi/v1/allOrders", futures, user, self.all_orders),
            ("GET", "/fapi/v1/userTrades", futures, user, self.my_trades),
            ("GET", "/fapi/v1/leverageBracket", futures, user, self.leverage_brackets),
            ("GET", "/fapi/v2/positionRisk", futures, user, self.position_risk_v2),
            ("GET", "/fapi/v3/positionRisk", futures, user, self.position_risk_v3),
            ("GET", "/fapi/v1/positionSide/dual", futures, user, self.position_mode),
            ("POST", "/fapi/v1/order", futures, trade, self.new_order),
            ("DELETE", "/fapi/v1/order", futures, trade, self.cancel_order),
            ("DELETE", "/fapi/v1/allOpenOrders", futures, trade, self.cancel_all_futures),
            ("POST", "/fapi/v1/leverage", futures, trade, self.set_leverage),
        ]

    # -- requests: parsing, authentication, errors ------------------------------------------------

    def _endpoint(
        self, family: Family, security: Security, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            raw_query = request.rel_url.raw_query_string
            raw_body = await request.text() if request.body_exists else ""
            params = dict(parse_qsl(raw_query, keep_blank_values=True))
            params.update(parse_qsl(raw_body, keep_blank_values=True))
            try:
                call = Call(family, params)
                if security is not Security.NONE:
                    call.account = self._authenticate(request, raw_query, raw_body, call)
                    self._check_permission(call, security)
                    self.ledger.match(call.account)
                return web.json_response(handler(call))
            except BinanceError as error:
                return error.response()
            except LedgerError as error:
                return self._ledger_error(error, family).response()

        return serve

    def _authenticate(
        self, request: web.Request, raw_query: str, raw_body: str, call: Call
    ) -> Account:
        """Binance's checks of a signed request, in order: key, timestamp, signature."""
        api_key = self.api_key_of(request)
        if api_key is None:
            raise BinanceError(-2014, "API-key format invalid.", 401)
        account = self.account(api_key)
        if account is None or account.revoked or not account.permissions.read:
            raise invalid_key()
        self._check_timestamp(call)
        signature = call.text("signature")
        if signature is None:
            raise missing("signature")
        payload = _without_signature(raw_query) + _without_signature(raw_body)
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        self._key_created.setdefault(api_key, self.now_ms())
        return account

    def _check_timestamp(self, call: Call) -> None:
        timestamp = call.integer("timestamp")
        if timestamp is None:
            raise missing("timestamp")
        window = call.decimal("recvWindow")
        window = DEFAULT_RECV_WINDOW if window is None else window
        if window > MAX_RECV_WINDOW:
            raise BinanceError(-1131, "recvWindow must be less than 60000")
        now = self.now_ms()
        if timestamp >= now + 1000:
            raise BinanceError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - timestamp > window:
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")

    @staticmethod
    def _check_permission(call: Call, security: Security) -> None:
        if security is not Security.TRADE:
            return
        permissions = call.user.permissions
        allowed = permissions.spot if call.family is Family.SPOT else permissions.derivatives
        if not allowed:
            raise invalid_key()

    @staticmethod
    def _ledger_error(error: LedgerError, family: Family) -> BinanceError:
        """The Binance code for a refusal of the ledger."""
        futures = family is Family.FUTURES
        if isinstance(error, UnknownInstrument):
            return invalid_symbol()
        if isinstance(error, InsufficientFunds):
            return BinanceError(-2010, INSUFFICIENT)
        if isinstance(error, DuplicateClientOrderId):
            if futures:
                return BinanceError(-4116, "ClientOrderId is duplicated.")
            return BinanceError(-2010, "Duplicate order sent.")
        if isinstance(error, OrderNotFound):
            return order_missing()
        if isinstance(error, TradingNotAllowed):
            return invalid_key()
        if isinstance(error, InvalidOrder):
            return _invalid_order(str(error), futures)
        return BinanceError(-1000, "An unknown error occured while processing the request.", 500)

    # -- markets ------------------------------------------------------------------------------

    @cached_property
    def _markets(self) -> dict[Kind, dict[str, Instrument]]:
        markets: dict[Kind, dict[str, Instrument]] = {Kind.SPOT: {}, Kind.LINEAR: {}}
        for instrument in self.ledger.instruments:
            markets[instrument.kind][instrument.plain_id] = instrument
        return markets

    def _instrument(self, call: Call, symbol: str | None = None) -> Instrument:
        """The market named by ``symbol`` (default: the required ``symbol`` parameter)."""
        name = symbol if symbol is not None else call.required("symbol")
        instrument = self._markets[call.kind].get(name.upper())
        if instrument is None:
            raise invalid_symbol()
        return instrument

    def _instruments(self, call: Call) -> list[Instrument]:
        """The markets named by ``symbol`` or ``symbols`` (a JSON list), or all of the API's."""
        symbol = call.text("symbol")
        if symbol is not None:
            return [self._instrument(call, symbol)]
        symbols = call.text("symbols")
        if symbols is None:
            return list(self._markets[call.kind].values())
        try:
            names = json.loads(symbols)
        except ValueError:
            raise illegal(
                "symbols", '^\\["[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}]$'
            ) from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise illegal("symbols", '^\\["[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}]$')
        return [self._instrument(call, name) for name in names]

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
        """GET /api/v3/exchangeInfo, /fapi/v1/exchangeInfo: markets with their filters."""
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
        if call.family is Family.SPOT:
            info["symbols"] = [_spot_market(i) for i in self._instruments(call)]
        else:
            info["futuresType"] = "U_MARGINED"
            info["assets"] = [
                {"asset": QUOTE, "marginAvailable": True, "autoAssetExchange": "-10000"}
            ]
            info["symbols"] = [_futures_market(i) for i in self._instruments(call)]
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
                "bidQty": self._qty(call.family, instrument, _book_qty(instrument, bid, 0)),
                "askPrice": self._price(call.family, instrument, ask),
                "askQty": self._qty(call.family, instrument, _book_qty(instrument, ask, 0)),
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
        qty = _book_qty(instrument, price, n)
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
                "bidQty": self._qty(family, instrument, _book_qty(instrument, bid, 0)),
                "askPrice": price(ask),
                "askQty": self._qty(family, instrument, _book_qty(instrument, ask, 0)),
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

    # -- accounts -----------------------------------------------------------------------------

    def spot_account(self, call: Call) -> Json:
        """GET /api/v3/account: spot balances and the account's trading flags."""
        account = call.user
        omit_zero = call.flag("omitZeroBalances")
        assets = sorted({*account.balances, QUOTE, *(i.base for i in self.ledger.instruments)})
        balances = []
        for asset in assets:
            balance = account.balance(asset)
            if omit_zero and balance.total == 0:
                continue
            balances.append(
                {"asset": asset, "free": fmt(balance.free), "locked": fmt(balance.locked)}
            )
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": account.permissions.spot,
            "canWithdraw": account.permissions.withdraw,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.ledger.now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": _uid(account.api_key),
        }

    def api_restrictions(self, call: Call) -> Json:
        """GET /sapi/v1/account/apiRestrictions: the key's permissions."""
        account = call.user
        permissions = account.permissions
        return {
            "ipRestrict": False,
            "createTime": self._key_created.get(account.api_key, self.now_ms()),
            "enableReading": permissions.read,
            "enableSpotAndMarginTrading": permissions.spot,
            "enableWithdrawals": permissions.withdraw,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": permissions.derivatives,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }

    def futures_account(self, call: Call) -> Json:
        """GET /fapi/v2/account, /fapi/v3/account: wallet, margins and positions (USDT)."""
        account = call.user
        assets = [self._futures_asset(account, asset) for asset in self._wallet_assets(account)]
        usdt = next(a for a in assets if a["asset"] == QUOTE)
        positions = self.ledger.positions(account)
        return {
            "totalInitialMargin": usdt["initialMargin"],
            "totalMaintMargin": usdt["maintMargin"],
            "totalWalletBalance": usdt["walletBalance"],
            "totalUnrealizedProfit": usdt["unrealizedProfit"],
            "totalMarginBalance": usdt["marginBalance"],
            "totalPositionInitialMargin": usdt["positionInitialMargin"],
            "totalOpenOrderInitialMargin": usdt["openOrderInitialMargin"],
            "totalCrossWalletBalance": usdt["crossWalletBalance"],
            "totalCrossUnPnl": usdt["crossUnPnl"],
            "availableBalance": usdt["availableBalance"],
            "maxWithdrawAmount": usdt["maxWithdrawAmount"],
            "assets": assets,
            "positions": [self._account_position(account, p) for p in positions],
        }

    def futures_balance(self, call: Call) -> list[Json]:
        """GET /fapi/v2/balance, /fapi/v3/balance."""
        account = call.user
        balances = []
        for asset in self._wallet_assets(account):
            entry = self._futures_asset(account, asset)
            balances.append(
                {
                    "accountAlias": f"Sim{_uid(account.api_key) % 10**6}",
                    "asset": asset,
                    "balance": entry["walletBalance"],
                    "crossWalletBalance": entry["crossWalletBalance"],
                    "crossUnPnl": entry["crossUnPnl"],
                    "availableBalance": entry["availableBalance"],
                    "maxWithdrawAmount": entry["maxWithdrawAmount"],
                    "marginAvailable": asset == QUOTE,
                    "updateTime": entry["updateTime"],
                }
            )
        return balances

    @staticmethod
    def _wallet_assets(account: Account) -> list[str]:
        return sorted({QUOTE, *(a for a, b in account.balances.items() if b.total != 0)})

    def _futures_asset(self, account: Account, asset: str) -> Json:
        """One wallet asset as /fapi/v3/account shows it. The wallet is the ledger's (shared
        with spot); ``initialMargin`` is what it has locked, unrealised PnL counts for USDT."""
        balance = account.balance(asset)
        positions = self.ledger.positions(account) if asset == QUOTE else []
        unrealized = sum((self._unrealized(p) for p in positions), ZERO)
        position_margin = sum((p.margin for p in positions), ZERO)
        maintenance = sum((self._maintenance(p) for p in positions), ZERO)
        available = balance.free + unrealized
        return {
            "asset": asset,
            "walletBalance": fmt(balance.total),
            "unrealizedProfit": fmt(unrealized),
            "marginBalance": fmt(balance.total + unrealized),
            "maintMargin": fmt(maintenance),
            "initialMargin": fmt(balance.locked),
            "positionInitialMargin": fmt(position_margin),
            "openOrderInitialMargin": fmt(balance.locked - position_margin),
            "crossWalletBalance": fmt(balance.total),
            "crossUnPnl": fmt(unrealized),
            "availableBalance": fmt(available),
            "maxWithdrawAmount": fmt(max(ZERO, min(available, balance.free))),
            "updateTime": self.ledger.now_ms(),
        }

    # -- futures positions --------------------------------------------------------------------

    def leverage_brackets(self, call: Call) -> Json | list[Json]:
        """GET /fapi/v1/leverageBracket: notional brackets per market (one symbol: an object)."""
        entries = [
            {"symbol": i.plain_id, "notionalCoef": 1.0, "brackets": _brackets(i)}
            for i in self._instruments(call)
        ]
        return entries[0] if call.text("symbol") else entries

    def position_risk_v3(self, call: Call) -> list[Json]:
        """GET /fapi/v3/positionRisk: the open positions (one-way mode, cross margin)."""
        account = call.user
        wanted = self._instrument(call) if call.text("symbol") else None
        return [
            self._position_risk(account, p)
            for p in self.ledger.positions(account)
            if wanted is None or p.instrument == wanted
        ]

    def position_risk_v2(self, call: Call) -> list[Json]:
        """GET /fapi/v2/positionRisk: every market, flat ones included, with leverage."""
        account = call.user
        held = {p.instrument: p for p in self.ledger.positions(account)}
        entries = []
        for instrument in self._instruments(call):
            position = held.get(instrument) or Position(instrument)
            entry = self._position_risk(account, position)
            entries.append(
                entry
                | {
                    "leverage": str(account.leverage),
                    "marginType": "cross",
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": fmt(_max_notional(instrument, account.leverage), 0),
                }
            )
        return entries

    def position_mode(self, _call: Call) -> Json:
        """GET /fapi/v1/positionSide/dual: always one-way mode."""
        return {"dualSidePosition": False}

    def set_leverage(self, call: Call) -> Json:
        """POST /fapi/v1/leverage. The ledger keeps one leverage per account: this sets it."""
        instrument = self._instrument(call)
        leverage = call.integer("leverage")
        if leverage is None:
            raise missing("leverage")
        if not 1 <= leverage <= instrument.max_leverage:
            raise BinanceError(-4028, f"Leverage {leverage} is not valid")
        call.user.leverage = leverage
        return {
            "leverage": leverage,
            "maxNotionalValue": fmt(_max_notional(instrument, leverage), 0),
            "symbol": instrument.plain_id,
        }

    def _unrealized(self, position: Position) -> Decimal:
        return position.unrealized(self.ledger.last_price(position.instrument))

    def _notional(self, position: Position) -> Decimal:
        return position.size * self.ledger.last_price(position.instrument)

    def _maintenance(self, position: Position) -> Decimal:
        notional = abs(self._notional(position))
        _, ratio, cum = _bracket_for(notional)
        return notional * ratio - cum

    def _liquidation_price(self, account: Account, position: Position) -> Decimal:
        """Binance's cross-margin liquidation price of one position, the others held fixed."""
        if position.size == 0:
            return ZERO
        others = [p for p in self.ledger.positions(account) if p.instrument != position.instrument]
        wallet = account.balance(QUOTE).total + sum(
            (self._unrealized(p) - self._maintenance(p) for p in others), ZERO
        )
        side = 1 if position.size > 0 else -1
        size = abs(position.size)
        _, ratio, cum = _bracket_for(abs(self._notional(position)))
        denominator = size * ratio - side * size
        if denominator == 0:
            return ZERO
        price = (wallet + cum - side * size * position.entry_price) / denominator
        return max(ZERO, price)

    def _position_risk(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        order_margin = sum((o.locked for o in self.ledger.open_orders(account, instrument)), ZERO)
        return {
            "symbol": instrument.plain_id,
            "positionSide": "BOTH",
            "positionAmt": fmt(position.size, instrument.decimals(instrument.amount_step)),
            "entryPrice": fmt(position.entry_price),
            "breakEvenPrice": fmt(position.entry_price),
            "markPrice": fmt(mark),
            "unRealizedProfit": fmt(self._unrealized(position)),
            "liquidationPrice": fmt(self._liquidation_price(account, position)),
            "isolatedMargin": "0",
            "notional": fmt(self._notional(position)),
            "marginAsset": QUOTE,
            "isolatedWallet": "0",
            "initialMargin": fmt(position.margin + order_margin),
            "maintMargin": fmt(self._maintenance(position)),
            "positionInitialMargin": fmt(position.margin),
            "openOrderInitialMargin": fmt(order_margin),
            "adl": 1 if position.size else 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": position.updated_ms,
        }

    def _account_position(self, account: Account, position: Position) -> Json:
        risk = self._position_risk(account, position)
        keys = ("symbol", "positionSide", "positionAmt", "isolatedMargin", "notional")
        return {key: risk[key] for key in keys} | {
            "unrealizedProfit": risk["unRealizedProfit"],
            "isolatedWallet": "0",
            "initialMargin": risk["initialMargin"],
            "maintMargin": risk["maintMargin"],
            "updateTime": risk["updateTime"],
        }

    # -- orders -------------------------------------------------------------------------------

    def new_order(self, call: Call) -> Json:
        """POST /api/v3/order, /fapi/v1/order: MARKET, LIMIT (and spot LIMIT_MAKER) orders."""
        request = self._order_request(call)
        expire = self._check_execution(call.family, request)
        account = call.user
        realized_before = self._realized(account, request.instrument)
        order = self.ledger.place(
            account,
            request.instrument,
            request.side,
            OrderType.MARKET if request.type == "MARKET" else OrderType.LIMIT,
            request.quantity,
            price=request.price,
            client_order_id=request.client_order_id,
            reduce_only=request.reduce_only,
        )
        meta = OrderMeta(
            type=request.type,
            time_in_force=request.time_in_force,
            quote_qty=request.quote_qty,
            taker=order.status is OrderStatus.FILLED,
            realized_pnl=self._realized(account, request.instrument) - realized_before,
        )
        self._meta[order.id] = meta
        if expire and order.status is OrderStatus.OPEN:
            self.ledger.cancel(account, order_id=order.id)
            meta.expired = True
        if call.family is Family.FUTURES:
            return self._futures_order(order)
        return self._spot_order_response(order, request.response_type)

    def test_order(self, call: Call) -> Json:
        """POST /api/v3/order/test: checks an order without placing it."""
        request = self._order_request(call)
        self._check_execution(call.family, request)
        return {}

    def query_order(self, call: Call) -> Json:
        """GET /api/v3/order, /fapi/v1/order: by ``orderId`` or ``origClientOrderId``."""
        order = self._find_order(call)
        if order is None:
            raise order_missing()
        return self._render(call.family, order)

    def open_orders(self, call: Call) -> list[Json]:
        """GET /api/v3/openOrders, /fapi/v1/openOrders (``symbol`` optional)."""
        instrument = self._instrument(call) if call.text("symbol") else None
        orders = [
            o
            for o in self.ledger.open_orders(call.user, instrument)
            if o.instrument.kind is call.kind
        ]
        return [self._render(call.family, o) for o in orders]

    def all_orders(self, call: Call) -> list[Json]:
        """GET /api/v3/allOrders, /fapi/v1/allOrders: ``orderId``, ``startTime``, ``endTime``,
        ``limit`` (default 500, at most 1000)."""
        orders = self._history(call, lambda o: o.created_ms)
        return [self._render(call.family, o) for o in orders]

    def my_trades(self, call: Call) -> list[Json]:
        """GET /api/v3/myTrades, /fapi/v1/userTrades: one trade per filled order (the ledger
        fills every order at once, at one price)."""
        orders = self._history(call, lambda o: o.updated_ms)
        trades = [o for o in orders if o.filled > 0]
        if call.family is Family.FUTURES:
            return [self._futures_trade(o) for o in trades]
        return [self._spot_trade(o) for o in trades]

    def cancel_order(self, call: Call) -> Json:
        """DELETE /api/v3/order, /fapi/v1/order."""
        order = self._find_order(call)
        if order is None or order.status is not OrderStatus.OPEN:
            raise unknown_order()
        self.ledger.cancel(call.user, order_id=order.id)
        if call.family is Family.FUTURES:
            return self._futures_order(order)
        return self._spot_cancel_response(order, call.text("newClientOrderId"))

    def cancel_open_orders(self, call: Call) -> list[Json]:
        """DELETE /api/v3/openOrders: cancels every open order of a symbol."""
        instrument = self._instrument(call)
        orders = self.ledger.open_orders(call.user, instrument)
        if not orders:
            raise unknown_order()
        for order in orders:
            self.ledger.cancel(call.user, order_id=order.id)
        return [self._spot_cancel_response(o, None) for o in orders]

    def cancel_all_futures(self, call: Call) -> Json:
        """DELETE /fapi/v1/allOpenOrders: cancels every open order of a symbol."""
        instrument = self._instrument(call)
        for order in self.ledger.open_orders(call.user, instrument):
            self.ledger.cancel(call.user, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # -- order helpers ------------------------------------------------------------------------

    def _order_request(self, call: Call) -> OrderRequest:
        """Parses a new order the way Binance validates it, filters included."""
        futures = call.family is Family.FUTURES
        instrument = self._instrument(call)
        side = call.required("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        order_type = call.required("type")
        if order_type not in (FUTURES_ORDER_TYPES if futures else SPOT_ORDER_TYPES):
            raise BinanceError(-1116, "Invalid orderType.")
        time_in_force = self._time_in_force(call, order_type)
        price = call.decimal("price")
        if order_type == "MARKET" and price is not None and not futures:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
        if order_type != "MARKET" and price is None:
            raise missing("price")
        quantity, quote_qty = self._quantity(call, instrument, side, order_type)
        request = OrderRequest(
            instrument=instrument,
            side=Side.BUY if side == "BUY" else Side.SELL,
            type=order_type,
            time_in_force=time_in_force,
            quantity=quantity,
            price=price if order_type != "MARKET" else None,
            client_order_id=self._client_order_id(call),
            reduce_only=futures and call.flag("reduceOnly"),
            quote_qty=quote_qty,
            response_type=(call.text("newOrderRespType") or "FULL").upper(),
        )
        if futures:
            self._futures_filters(request)
        else:
            self._spot_filters(request)
        return request

    @staticmethod
    def _time_in_force(call: Call, order_type: str) -> str:
        if order_type != "LIMIT":
            return "GTC"
        value = call.required("timeInForce")
        allowed = FUTURES_TIME_IN_FORCE if call.family is Family.FUTURES else SPOT_TIME_IN_FORCE
        if value not in allowed:
            raise BinanceError(-1115, "Invalid timeInForce.")
        return value

    def _quantity(
        self, call: Call, instrument: Instrument, side: str, order_type: str
    ) -> tuple[Decimal, Decimal]:
        """The base quantity, and the quote amount of a spot market order given by it."""
        quantity = call.decimal("quantity")
        quote_qty = call.decimal("quoteOrderQty") if call.family is Family.SPOT else None
        if order_type == "MARKET" and quote_qty is not None:
            if quantity is not None:
                raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            bid, ask = self.ledger.bid_ask(instrument)
            fill_price = ask if side == "BUY" else bid
            return instrument.floor_amount(quote_qty / fill_price), quote_qty
        if quantity is None:
            if order_type == "MARKET" and call.family is Family.SPOT:
                raise BinanceError(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                )
            raise missing("quantity")
        return quantity, ZERO

    @staticmethod
    def _client_order_id(call: Call) -> str:
        value = call.text("newClientOrderId")
        if value is None:
            return _random_id()
        if not re.fullmatch(CLIENT_ID_PATTERN, value):
            if call.family is Family.FUTURES:
                raise BinanceError(-4015, "Client order id is not valid.")
            raise illegal("newClientOrderId", CLIENT_ID_PATTERN)
        return value

    def _reference_price(self, request: OrderRequest) -> Decimal:
        return (
            request.price
            if request.price is not None
            else self.ledger.last_price(request.instrument)
        )

    def _spot_filters(self, request: OrderRequest) -> None:
        """PRICE_FILTER, LOT_SIZE / MARKET_LOT_SIZE and NOTIONAL, as spot applies them."""
        instrument = request.instrument
        if request.price is not None and not _on_step(
            request.price, instrument.price_tick, instrument.price_tick, MAX_PRICE
        ):
            raise BinanceError(-1013, "Filter failure: PRICE_FILTER")
        if not _on_step(
            request.quantity, instrument.min_amount, instrument.amount_step, _max_qty(instrument)
        ):
            lot = "MARKET_LOT_SIZE" if request.type == "MARKET" else "LOT_SIZE"
            raise BinanceError(-1013, f"Filter failure: {lot}")
        if request.quantity * self._reference_price(request) < instrument.min_notional:
            raise BinanceError(-1013, "Filter failure: NOTIONAL")

    def _futures_filters(self, request: OrderRequest) -> None:
        """The futures checks of price, quantity and notional, with their own codes."""
        instrument = request.instrument
        if request.price is not None:
            if request.price < instrument.price_tick:
                raise BinanceError(-4013, "Price less than min price.")
            if request.price > MAX_PRICE:
                raise BinanceError(-4002, "Price greater than max price.")
            if request.price % instrument.price_tick:
                raise BinanceError(-4014, "Price not increased by tick size.")
        if request.quantity <= 0:
            raise BinanceError(-4003, "Quantity less than or equal to zero.")
        if request.quantity < instrument.min_amount:
            raise BinanceError(-4004, "Quantity less than min quantity.")
        if request.quantity > _max_qty(instrument):
            raise BinanceError(-4005, "Quantity greater than max quantity.")
        if request.quantity % instrument.amount_step:
            raise BinanceError(-4023, "Quantity not increased by step size.")
        notional = request.quantity * self._reference_price(request)
        if not request.reduce_only and notional < instrument.min_notional:
            raise BinanceError(
                -4164,
                f"Order's notional must be no smaller than {instrument.min_notional} "
                "(unless you choose reduce only).",
            )

    def _check_execution(self, family: Family, request: OrderRequest) -> bool:
        """Post-only and fill-or-kill checks; True when the order expires instead of resting."""
        if request.type == "MARKET":
            return False
        bid, ask = self.ledger.bid_ask(request.instrument)
        assert request.price is not None
        crosses = request.price >= ask if request.side is Side.BUY else request.price <= bid
        if request.type == "LIMIT_MAKER" and crosses:
            raise BinanceError(-2010, "Order would immediately match and take.")
        if family is Family.FUTURES and request.time_in_force == "GTX" and crosses:
            raise BinanceError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be "
                "rejected. The order will not be recorded in the order history",
            )
        if family is Family.FUTURES and request.time_in_force == "FOK" and not crosses:
            raise BinanceError(
                -5021,
                "Due to the order could not be filled immediately, the FOK order has been "
                "rejected. The order will not be recorded in the order history",
            )
        return request.time_in_force in ("IOC", "FOK") and not crosses

    @staticmethod
    def _realized(account: Account, instrument: Instrument) -> Decimal:
        position = account.positions.get(instrument.symbol)
        return position.realized_pnl if position is not None else ZERO

    def _find_order(self, call: Call) -> Order | None:
        """The order named by ``orderId`` (preferred) or ``origClientOrderId`` in ``symbol``."""
        instrument = self._instrument(call)
        order_id = call.integer("orderId")
        client_id = call.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        for order in call.user.orders.values():
            if order.instrument != instrument:
                continue
            if order_id is not None and order.id == str(order_id):
                return order
            if order_id is None and order.client_order_id == client_id:
                return order
        return None

    def _history(self, call: Call, time_of: Callable[[Order], int]) -> list[Order]:
        """The orders of ``symbol`` selected by ``orderId`` / ``fromId``, ``startTime``,
        ``endTime`` and ``limit``, oldest first."""
        instrument = self._instrument(call)
        first_id = call.integer("orderId") or call.integer("fromId")
        start, end = call.integer("startTime"), call.integer("endTime")
        limit = min(call.integer("limit") or 500, 1000)
        orders = sorted(
            (o for o in call.user.orders.values() if o.instrument == instrument),
            key=lambda o: int(o.id),
        )
        selected = [
            o
            for o in orders
            if (first_id is None or int(o.id) >= first_id)
            and (start is None or time_of(o) >= start)
            and (end is None or time_of(o) <= end)
        ]
        return selected[:limit] if first_id is not None else selected[-limit:]

    def _meta_of(self, order: Order) -> OrderMeta:
        meta = self._meta.get(order.id)
        if meta is None:
            meta = OrderMeta(type=order.type.upper(), time_in_force="GTC")
            self._meta[order.id] = meta
        return meta

    def _status(self, order: Order) -> str:
        if order.status is OrderStatus.OPEN:
            return "NEW"
        if order.status is OrderStatus.FILLED:
            return "FILLED"
        return "EXPIRED" if self._meta_of(order).expired else "CANCELED"

    def _render(self, family: Family, order: Order) -> Json:
        if family is Family.FUTURES:
            return self._futures_order(order) | {"time": order.created_ms}
        return self._spot_order(order)

    # -- order shapes -------------------------------------------------------------------------

    def _spot_core(self, order: Order) -> Json:
        meta = self._meta_of(order)
        return {
            "symbol": order.instrument.plain_id,
            "orderId": int(order.id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price or ZERO),
            "origQty": fmt(order.amount),
            "executedQty": fmt(order.filled),
            "origQuoteOrderQty": fmt(meta.quote_qty),
            "cummulativeQuoteQty": fmt(order.filled * (order.average or ZERO)),
            "status": self._status(order),
            "timeInForce": meta.time_in_force,
            "type": meta.type,
            "side": order.side.upper(),
        }

    def _spot_order(self, order: Order) -> Json:
        """An order as GET /api/v3/order shows it."""
        return self._spot_core(order) | {
            "stopPrice": fmt(ZERO),
            "icebergQty": fmt(ZERO),
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "isWorking": True,
            "workingTime": order.created_ms,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _spot_order_response(self, order: Order, response_type: str) -> Json:
        """The answer to POST /api/v3/order in its ACK, RESULT or FULL form."""
        if response_type == "ACK":
            return {
                "symbol": order.instrument.plain_id,
                "orderId": int(order.id),
                "orderListId": -1,
                "clientOrderId": order.client_order_id,
                "transactTime": order.created_ms,
            }
        core = self._spot_core(order)
        result = {key: core[key] for key in ("symbol", "orderId", "orderListId", "clientOrderId")}
        result["transactTime"] = order.created_ms
        result |= {key: value for key, value in core.items() if key not in result}
        result |= {"workingTime": order.created_ms, "selfTradePreventionMode": "EXPIRE_MAKER"}
        if response_type == "FULL":
            result["fills"] = [self._spot_fill(order)] if self._meta_of(order).taker else []
        return result

    def _spot_cancel_response(self, order: Order, cancel_id: str | None) -> Json:
        """The answer to DELETE /api/v3/order: ``clientOrderId`` is the cancel's own id and
        ``origClientOrderId`` the order's."""
        core = self._spot_core(order)
        head = {
            "symbol": core["symbol"],
            "origClientOrderId": order.client_order_id,
            "orderId": core["orderId"],
            "orderListId": -1,
            "clientOrderId": cancel_id or _random_id(),
            "transactTime": order.updated_ms,
        }
        return head | {key: value for key, value in core.items() if key not in head}

    @staticmethod
    def _spot_fill(order: Order) -> Json:
        return {
            "price": fmt(order.average or ZERO),
            "qty": fmt(order.filled),
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "tradeId": int(order.id),
        }

    def _futures_order(self, order: Order) -> Json:
        """An order as /fapi/v1/order answers (POST, GET and DELETE)."""
        meta = self._meta_of(order)
        instrument = order.instrument
        price_places = instrument.decimals(instrument.price_tick)
        qty_places = instrument.decimals(instrument.amount_step)
        return {
            "orderId": int(order.id),
            "symbol": instrument.plain_id,
            "status": self._status(order),
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price or ZERO, price_places),
            "avgPrice": fmt(order.average or ZERO, price_places),
            "origQty": fmt(order.amount, qty_places),
            "executedQty": fmt(order.filled, qty_places),
            "cumQty": fmt(order.filled, qty_places),
            "cumQuote": fmt(order.filled * (order.average or ZERO), price_places + qty_places),
            "timeInForce": meta.time_in_force,
            "type": meta.type,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": order.side.upper(),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": meta.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "updateTime": order.updated_ms,
        }

    def _spot_trade(self, order: Order) -> Json:
        """A fill as GET /api/v3/myTrades shows it."""
        meta = self._meta_of(order)
        price = order.average or ZERO
        return {
            "symbol": order.instrument.plain_id,
            "id": int(order.id),
            "orderId": int(order.id),
            "orderListId": -1,
            "price": fmt(price),
            "qty": fmt(order.filled),
            "quoteQty": fmt(order.filled * price),
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "time": order.updated_ms,
            "isBuyer": order.side is Side.BUY,
            "isMaker": not meta.taker,
            "isBestMatch": True,
        }

    def _futures_trade(self, order: Order) -> Json:
        """A fill as GET /fapi/v1/userTrades shows it."""
        meta = self._meta_of(order)
        instrument = order.instrument
        price = order.average or ZERO
        return {
            "buyer": order.side is Side.BUY,
            "commission": fmt(order.fee),
            "commissionAsset": order.fee_asset,
            "id": int(order.id),
            "maker": not meta.taker,
            "orderId": int(order.id),
            "price": fmt(price, instrument.decimals(instrument.price_tick)),
            "qty": fmt(order.filled, instrument.decimals(instrument.amount_step)),
            "quoteQty": fmt(order.filled * price),
            "realizedPnl": fmt(meta.realized_pnl),
            "side": order.side.upper(),
            "positionSide": "BOTH",
            "symbol": instrument.plain_id,
            "time": order.updated_ms,
        }


# -- module helpers ---------------------------------------------------------------------------


def _random_id() -> str:
    """A client order id as Binance generates one when none is sent."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(22))


def _without_signature(raw: str) -> str:
    """A query string or form body as sent, minus its ``signature`` parameter."""
    if "signature=" not in raw:
        return raw
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


def _invalid_order(reason: str, futures: bool) -> BinanceError:
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


def _on_step(value: Decimal, minimum: Decimal, step: Decimal, maximum: Decimal) -> bool:
    """Binance's filter rule: minimum <= value <= maximum and (value - minimum) % step == 0."""
    return minimum <= value <= maximum and (value - minimum) % step == 0


def _max_qty(instrument: Instrument) -> Decimal:
    return instrument.amount_step * MAX_QTY_STEPS


def _book_qty(instrument: Instrument, price: Decimal, level: int) -> Decimal:
    """A deterministic size for a simulated order-book level."""
    value = BOOK_LEVEL_VALUE * (1 + Decimal(level % 7) / 4)
    return max(instrument.min_amount, instrument.floor_amount(value / price))


def _uid(api_key: str) -> int:
    return int(hashlib.sha256(api_key.encode()).hexdigest()[:8], 16)


def _bracket_table(max_leverage: int) -> list[tuple[Decimal, Decimal, int, Decimal, Decimal]]:
    """(floor, cap, leverage, maintenance ratio, maintenance amount) per bracket."""
    table = []
    cum, previous_ratio = ZERO, ZERO
    for floor, cap, leverage, ratio in BRACKETS:
        cum += floor * (ratio - previous_ratio)
        previous_ratio = ratio
        table.append((floor, cap, leverage or max_leverage, ratio, cum))
    return table


def _brackets(instrument: Instrument) -> list[Json]:
    return [
        {
            "bracket": n,
            "initialLeverage": leverage,
            "notionalCap": int(cap),
            "notionalFloor": int(floor),
            "maintMarginRatio": float(ratio),
            "cum": float(cum),
        }
        for n, (floor, cap, leverage, ratio, cum) in enumerate(
            _bracket_table(instrument.max_leverage), start=1
        )
    ]


def _bracket_for(notional: Decimal) -> tuple[int, Decimal, Decimal]:
    """(bracket number, maintenance margin ratio, maintenance amount) for a notional."""
    table = _bracket_table(0)
    for n, (floor, cap, _, ratio, cum) in enumerate(table, start=1):
        if floor <= notional < cap:
            return n, ratio, cum
    _, _, _, ratio, cum = table[-1]
    return len(table), ratio, cum


def _max_notional(instrument: Instrument, leverage: int) -> Decimal:
    """The largest position notional allowed at ``leverage``."""
    allowed = [
        cap
        for _, cap, bracket_leverage, _, _ in _bracket_table(instrument.max_leverage)
        if bracket_leverage >= leverage
    ]
    return max(allowed) if allowed else BRACKETS[0][1]


def _filters(instrument: Instrument, *, futures: bool) -> list[Json]:
    price_places = instrument.decimals(instrument.price_tick) if futures else 8
    qty_places = instrument.decimals(instrument.amount_step) if futures else 8
    lot = {
        "minQty": fmt(instrument.min_amount, qty_places),
        "maxQty": fmt(_max_qty(instrument), qty_places),
        "stepSize": fmt(instrument.amount_step, qty_places),
    }
    filters: list[Json] = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(instrument.price_tick, price_places),
            "maxPrice": fmt(MAX_PRICE, price_places),
            "tickSize": fmt(instrument.price_tick, price_places),
        },
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
    ]
    if futures:
        filters += [
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": str(instrument.min_notional)},
        ]
    else:
        filters += [
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(instrument.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(Decimal(9_000_000)),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ]
    return filters


def _spot_market(instrument: Instrument) -> Json:
    """A market as GET /api/v3/exchangeInfo lists it."""
    return {
        "symbol": instrument.plain_id,
        "status": "TRADING",
        "baseAsset": instrument.base,
        "baseAssetPrecision": 8,
        "quoteAsset": instrument.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(SPOT_ORDER_TYPES),
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": _filters(instrument, futures=False),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
    }


def _futures_market(instrument: Instrument) -> Json:
    """A market as GET /fapi/v1/exchangeInfo lists it: a USDT-margined perpetual."""
    return {
        "symbol": instrument.plain_id,
        "pair": instrument.plain_id,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": ONBOARD_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": instrument.base,
        "quoteAsset": instrument.quote,
        "marginAsset": QUOTE,
        "pricePrecision": instrument.decimals(instrument.price_tick),
        "quantityPrecision": instrument.decimals(instrument.amount_step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": _filters(instrument, futures=True),
        "orderTypes": list(FUTURES_ORDER_TYPES),
        "timeInForce": list(FUTURES_TIME_IN_FORCE),
    }
