"""The OKX v5 dialect: spot and USDT-margined perpetual swaps of a "Spot and futures" account.

Every answer is OKX's envelope ``{"code": "0", "msg": "", "data": [...]}``. Private requests
are checked as OKX checks them: headers ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``,
``OK-ACCESS-TIMESTAMP`` (ISO-8601 UTC with milliseconds) and ``OK-ACCESS-SIGN``, the base64
HMAC-SHA256 of ``timestamp + METHOD + requestPath + body`` where the request path carries the
query string exactly as sent and the body is the raw JSON body; the timestamp must lie within
30 s of the server's clock (and before the optional ``expTime`` header).

Refusals use OKX's own codes (``50011`` rate limit, ``50001`` maintenance, ``50013`` busy,
``501xx`` authentication, ``50120`` key permission, ``51xxx`` trading), with the per-order
``sCode``/``sMsg`` of the trade endpoints, so that ccxt raises the same exceptions as against
OKX. Amounts and prices are strings on the wire and :class:`~decimal.Decimal` inside.

The account is OKX's "Spot and futures mode" (``acctLv`` 2) in net (one-way) position mode:
one wallet for spot and swaps, as the shared ledger keeps it. Swap sizes are in contracts: a
contract is worth ``ctVal`` = 100 amount steps of the base asset and trades in lots of 0.01
contracts, so one lot is one amount step of the ledger.

Deviations, on purpose: unknown and revoked keys both answer ``50111 Invalid OK-ACCESS-KEY``
(OKX answers ``50119`` for keys that never existed, which ccxt does not map); spot margin
(``tdMode`` cross/isolated on spot), algo orders and hedge mode are refused with ``51000``; the
swap margin mode is the account's (``tdMode`` must match it); a ``post_only`` order that would
take liquidity is refused (``51000``) instead of being placed and cancelled; fees are charged in
the quote asset on both sides, as the ledger charges them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.instruments import ASSET_BY_CODE, QUOTE, Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    DuplicateClientOrderId,
    InsufficientFunds,
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
Handler = Callable[[web.Request], Awaitable[web.Response]]

PREFIX = "/api/v5/"
TIMESTAMP_TOLERANCE_MS = 30_000  # OKX refuses requests more than 30 s from its clock
CONTRACT_STEPS = 100  # a swap contract is worth this many amount steps of the base asset
LOT_SIZE = Decimal("0.01")  # contracts
MAX_ORDER_VALUE = Decimal(2_000_000)  # USDT, for the advertised maximum order sizes
MAX_MARKET_VALUE = Decimal(1_000_000)  # USDT, spot market orders (maxMktSz)
MAINTENANCE_MARGIN_RATE = Decimal("0.005")
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
HONG_KONG_MS = 8 * HOUR_MS  # OKX's bars without "utc" start at midnight UTC+8
MONDAY_MS = 3 * DAY_MS  # weeks start on Monday; the epoch was a Thursday
# bar → (length, offset): bars start where (start + offset) % length == 0
BARS: dict[str, tuple[int, int]] = {
    "1m": (60_000, 0),
    "3m": (180_000, 0),
    "5m": (300_000, 0),
    "15m": (900_000, 0),
    "30m": (1_800_000, 0),
    "1H": (HOUR_MS, 0),
    "2H": (2 * HOUR_MS, 0),
    "4H": (4 * HOUR_MS, 0),
    "6H": (6 * HOUR_MS, HONG_KONG_MS),
    "12H": (12 * HOUR_MS, HONG_KONG_MS),
    "1D": (DAY_MS, HONG_KONG_MS),
    "2D": (2 * DAY_MS, HONG_KONG_MS),
    "3D": (3 * DAY_MS, HONG_KONG_MS),
    "1W": (7 * DAY_MS, MONDAY_MS + HONG_KONG_MS),
    "6Hutc": (6 * HOUR_MS, 0),
    "12Hutc": (12 * HOUR_MS, 0),
    "1Dutc": (DAY_MS, 0),
    "2Dutc": (2 * DAY_MS, 0),
    "3Dutc": (3 * DAY_MS, 0),
    "1Wutc": (7 * DAY_MS, MONDAY_MS),
}
INST_TYPES = {"SPOT": Kind.SPOT, "SWAP": Kind.LINEAR, "MARGIN": None, "FUTURES": None}
INST_TYPE_OF = {Kind.SPOT: "SPOT", Kind.LINEAR: "SWAP"}
ORDER_TYPES = ("market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc")
ALGO_PARAMS = ("attachAlgoOrds", "tpTriggerPx", "slTriggerPx", "triggerPx", "callbackRatio")
STATE_NAMES = {
    OrderStatus.OPEN: "live",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
}
CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TAG = re.compile(r"^[A-Za-z0-9]{0,16}$")
ALL_FAILED = "All operations failed"
NO_PERMISSION = "API key doesn't have permission"


class OkxError(Exception):
    """A refusal of the whole request: OKX's code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


class OrderRefusal(Exception):
    """A refusal of one order of a trade request: its ``sCode`` and ``sMsg``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def param_error(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error")


def param_empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty")


def no_instrument() -> OkxError:
    return OkxError("51001", "Instrument ID or Spread ID doesn't exist.")


def fmt(value: Decimal) -> str:
    """A decimal as OKX writes it: plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


def parse_iso_ms(text: str) -> int | None:
    """An OK-ACCESS-TIMESTAMP (``2024-01-01T00:00:00.000Z``) in ms, or None if malformed."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


class Params:
    """The parameters of one request (query or one JSON object), read as OKX validates them."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.text(name) is not None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise param_empty(name)
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise param_error(name) from None

    def limit(self, default: int, maximum: int) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if value < 1:
            raise param_error("limit")
        return min(value, maximum)

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise param_error(name) from None
        if not number.is_finite():
            raise param_error(name)
        return number

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() == "true"

    def inst_type(self, *, required: bool) -> Kind | str | None:
        """The ``instType``: a market kind, None for types that list nothing here, or "" if
        absent and optional."""
        text = self.text("instType")
        if text is None:
            if required:
                raise param_empty("instType")
            return ""
        if text not in INST_TYPES and text != "OPTION":
            raise param_error("instType")
        return INST_TYPES.get(text)


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What OKX echoes about an order that the exchange-neutral ledger does not keep."""

    sz: str
    cl_ord_id: str
    tag: str
    ord_type: str
    td_mode: str
    tgt_ccy: str


class OkxDialect(Dialect):
    name = "okx"
    prefixes = (PREFIX,)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._wire: dict[str, OrderWire] = {}
        self._started_ms = int(simulator.clock() * 1000)

    @cached_property
    def _markets(self) -> dict[str, Instrument]:
        return {self.inst_id(i): i for i in self.ledger.instruments}

    @staticmethod
    def inst_id(instrument: Instrument) -> str:
        """``BTC-USDT`` (spot) or ``BTC-USDT-SWAP`` (perpetual swap)."""
        pair = f"{instrument.base}-{instrument.quote}"
        return pair if instrument.kind is Kind.SPOT else f"{pair}-SWAP"

    @staticmethod
    def contract_value(instrument: Instrument) -> Decimal:
        """ctVal: how much of the base asset one swap contract is worth."""
        return instrument.amount_step * CONTRACT_STEPS

    def size(self, instrument: Instrument, amount: Decimal) -> Decimal:
        """A ledger amount (base asset) as OKX's ``sz``: base for spot, contracts for swaps."""
        if instrument.kind is Kind.SPOT:
            return amount
        return amount / self.contract_value(instrument)

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("OK-ACCESS-KEY")

    def routes(self) -> Iterable[web.RouteDef]:
        public, private = self._public, self._private
        p = PREFIX
        return [
            web.get(p + "public/time", public(self.public_time)),
            web.get(p + "public/instruments", public(self.public_instruments)),
            web.get(p + "market/tickers", public(self.market_tickers)),
            web.get(p + "market/ticker", public(self.market_ticker)),
            web.get(p + "market/candles", public(self.market_candles)),
            web.get(p + "market/history-candles", public(self.market_candles)),
            web.get(p + "account/config", private(self.account_config, needs_read=False)),
            web.get(p + "account/balance", private(self.account_balance)),
            web.get(p + "account/positions", private(self.account_positions)),
            web.post(p + "account/set-leverage", private(self.set_leverage, trades=True)),
            web.post(p + "trade/order", private(self.place_order, trades=True)),
            web.post(p + "trade/batch-orders", private(self.place_orders, trades=True)),
            web.post(p + "trade/cancel-order", private(self.cancel_order, trades=True)),
            web.get(p + "trade/order", private(self.get_order)),
            web.get(p + "trade/orders-pending", private(self.orders_pending)),
            web.get(p + "trade/orders-history", private(self.orders_history)),
            web.get(p + "trade/orders-history-archive", private(self.orders_history)),
        ]

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        return self._envelope(
            "50011", "Too Many Requests", [], status=429, headers=retry_after(retry_after_seconds)
        )

    def unavailable(self) -> web.Response:
        return self._envelope("50013", "Systems are busy. Please try again later.", [], status=503)

    def maintenance(self) -> web.Response:
        return self._envelope(
            "50001",
            "Service temporarily unavailable. Please try again later.",
            [],
            status=503,
            headers={"Retry-After": "60"},
        )

    def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"msg": "Not Found", "code": "404"}, status=404)

    # -- envelopes and the request pipeline ---------------------------------------------------

    def _envelope(
        self,
        code: str,
        message: str,
        data: list[Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        body = {"code": code, "msg": message, "data": data}
        return web.json_response(body, status=status, headers=headers)

    def _failure(self, error: OkxError) -> web.Response:
        return self._envelope(error.code, error.message, [], status=error.status)

    def _public(self, handler: Callable[[Params], list[Any]]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._envelope("0", "", handler(Params(request.query)))
            except OkxError as error:
                return self._failure(error)

        return serve

    def _private(
        self,
        handler: Callable[[Account, Any], list[Any] | web.Response],
        *,
        needs_read: bool = True,
        trades: bool = False,
    ) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, body = await self._authenticate(request)
                granted = account.permissions
                if needs_read and not granted.read:
                    raise OkxError("50120", NO_PERMISSION, status=401)
                if trades and not (granted.spot or granted.derivatives):
                    raise OkxError("50120", NO_PERMISSION, status=401)
                answer = handler(account, body)
                if isinstance(answer, web.Response):
                    return answer
                return self._envelope("0", "", answer)
            except OkxError as error:
                return self._failure(error)

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[Account, Any]:
        """OKX's gateway checks in turn: headers, key, timestamp, passphrase, signature.
        Returns the account and the request's parameters (a Params, or a list of them)."""
        headers = request.headers
        api_key = headers.get("OK-ACCESS-KEY", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        if not api_key:
            raise OkxError("50103", 'Request header "OK-ACCESS-KEY" can not be empty.', 401)
        if not passphrase:
            raise OkxError("50104", 'Request header "OK-ACCESS-PASSPHRASE" can not be empty.', 401)
        if not signature:
            raise OkxError("50106", 'Request header "OK-ACCESS-SIGN" can not be empty.', 401)
        if not timestamp:
            raise OkxError("50107", 'Request header "OK-ACCESS-TIMESTAMP" can not be empty.', 401)
        account = self.account(api_key)
        if account is None or account.revoked:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY", 401)
        self._check_timestamp(timestamp, headers.get("expTime"))
        if not hmac.compare_digest(passphrase, account.passphrase or ""):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        body = await request.text() if request.method == "POST" else ""
        origin = timestamp + request.method + request.raw_path + body
        digest = hmac.new(account.secret.encode(), origin.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
            raise OkxError("50113", "Invalid Sign", 401)
        return account, self._params_of(request, body)

    def _check_timestamp(self, timestamp: str, expires: str | None) -> None:
        sent = parse_iso_ms(timestamp)
        if sent is None:
            raise OkxError("50112", 'Invalid "OK-ACCESS-TIMESTAMP"', 401)
        now = self.now_ms()
        expired = abs(now - sent) > TIMESTAMP_TOLERANCE_MS
        if expires:
            try:
                expired = expired or now > int(expires)
            except ValueError:
                raise param_error("expTime") from None
        if expired:
            raise OkxError("50102", "Timestamp request expired", 401)

    @staticmethod
    def _params_of(request: web.Request, body: str) -> Any:
        if request.method != "POST":
            return Params(request.query)
        if not body:
            return Params({})
        try:
            parsed = json.loads(body)
        except ValueError:
            raise OkxError("50002", "Json data format error", 400) from None
        if isinstance(parsed, dict):
            return Params(parsed)
        if isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed):
            return [Params(item) for item in parsed]
        raise OkxError("50002", "Json data format error", 400)

    # -- markets ------------------------------------------------------------------------------

    def _instrument(self, inst_id: str | None) -> Instrument:
        instrument = self._markets.get(inst_id or "")
        if instrument is None:
            raise no_instrument()
        return instrument

    def _listed(self, kind: Kind | str | None, params: Params) -> list[Instrument]:
        """The instruments of an ``instType``, narrowed by ``instId`` and ``instFamily``/``uly``."""
        inst_id = params.text("instId")
        family = params.text("instFamily") or params.text("uly")
        return [
            i
            for i in self.ledger.instruments
            if (kind == "" or i.kind is kind)
            and (inst_id is None or self.inst_id(i) == inst_id)
            and (family is None or f"{i.base}-{i.quote}" == family)
        ]

    def _mark(self, asset: str) -> Decimal:
        """The USD(T) value of one unit of ``asset`` (0 for assets without a market)."""
        if asset in (QUOTE, "USDC", "USD"):
            return Decimal(1)
        if asset not in ASSET_BY_CODE:
            return ZERO
        return self.simulator.prices.price(asset)

    def public_time(self, _params: Params) -> list[Any]:
        """GET /api/v5/public/time"""
        return [{"ts": str(self.now_ms())}]

    def public_instruments(self, params: Params) -> list[Any]:
        """GET /api/v5/public/instruments (instType SPOT | SWAP; others list nothing)."""
        kind = params.inst_type(required=True)
        if kind is None:
            return []
        return [self._describe(i) for i in self._listed(kind, params)]

    @staticmethod
    def _max_amount(instrument: Instrument) -> Decimal:
        start = ASSET_BY_CODE[instrument.base].start_price
        steps = (MAX_ORDER_VALUE / start / instrument.amount_step).to_integral_value("ROUND_FLOOR")
        return steps * instrument.amount_step

    def _describe(self, instrument: Instrument) -> Json:
        spot = instrument.kind is Kind.SPOT
        family = f"{instrument.base}-{instrument.quote}"
        max_size = fmt(self.size(instrument, self._max_amount(instrument)))
        described: Json = {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": instrument.base if spot else "",
            "category": "1",
            "contTdSwTime": "",
            "ctMult": "" if spot else "1",
            "ctType": "" if spot else "linear",
            "ctVal": "" if spot else fmt(self.contract_value(instrument)),
            "ctValCcy": "" if spot else instrument.base,
            "expTime": "",
            "futureSettlement": False,
            "instFamily": "" if spot else family,
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "lever": "" if spot else str(instrument.max_leverage),
            "listTime": str(self._started_ms),
            "lotSz": fmt(instrument.amount_step) if spot else fmt(LOT_SIZE),
            "maxIcebergSz": max_size,
            "maxLmtAmt": fmt(MAX_ORDER_VALUE),
            "maxLmtSz": max_size,
            "maxMktAmt": fmt(MAX_MARKET_VALUE),
            "maxMktSz": fmt(MAX_MARKET_VALUE) if spot else max_size,
            "maxStopSz": fmt(MAX_MARKET_VALUE) if spot else max_size,
            "maxTriggerSz": max_size,
            "maxTwapSz": max_size,
            "minSz": fmt(self.size(instrument, instrument.min_amount)),
            "openType": "",
            "optType": "",
            "quoteCcy": instrument.quote if spot else "",
            "ruleType": "normal",
            "settleCcy": "" if spot else instrument.quote,
            "state": "live",
            "stk": "",
            "tickSz": fmt(instrument.price_tick),
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

    def _ticker(self, instrument: Instrument) -> Json:
        prices = self.simulator.prices
        base = instrument.base
        bid, ask = self.ledger.bid_ask(instrument)
        last = self.ledger.last_price(instrument)
        now = self.simulator.clock()
        now_ms = int(now * 1000)
        day = prices.candles(base, 3600, since=now - 86400 + 3600, limit=24)
        volume = sum((c.volume for c in day), ZERO)
        turnover = sum((c.volume * c.close for c in day), ZERO).quantize(Decimal("0.0001"))
        depth = max(instrument.floor_amount(Decimal(10_000) / last), instrument.min_amount)
        utc_midnight = now_ms // DAY_MS * DAY_MS
        hk_midnight = (now_ms + HONG_KONG_MS) // DAY_MS * DAY_MS - HONG_KONG_MS
        spot = instrument.kind is Kind.SPOT
        return {
            "instType": INST_TYPE_OF[instrument.kind],
            "instId": self.inst_id(instrument),
            "last": fmt(last),
            "lastSz": fmt(self.size(instrument, instrument.min_amount)),
            "askPx": fmt(ask),
            "askSz": fmt(self.size(instrument, depth)),
            "bidPx": fmt(bid),
            "bidSz": fmt(self.size(instrument, depth)),
            "open24h": fmt(prices.price(base, at=now - 86400)),
            "high24h": fmt(max([c.high for c in day] + [last])),
            "low24h": fmt(min([c.low for c in day] + [last])),
            # spot: vol24h in base, volCcy24h in quote; swaps: contracts and base
            "volCcy24h": fmt(turnover if spot else volume),
            "vol24h": fmt(self.size(instrument, volume)),
            "ts": str(now_ms),
            "sodUtc0": fmt(prices.price(base, at=utc_midnight / 1000)),
            "sodUtc8": fmt(prices.price(base, at=hk_midnight / 1000)),
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
                    fmt(candle.open),
                    fmt(candle.high),
                    fmt(candle.low),
                    fmt(candle.close),
                    fmt(self.size(instrument, candle.volume)),
                    fmt(quote_volume if instrument.kind is Kind.SPOT else candle.volume),
                    fmt(quote_volume),
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

    # -- the key and the account --------------------------------------------------------------

    def _uid(self, account: Account) -> str:
        return str(int(hashlib.sha256(account.api_key.encode()).hexdigest()[:14], 16))

    def account_config(self, account: Account, _params: Params) -> list[Any]:
        """GET /api/v5/account/config: the account's modes and the key's permissions."""
        granted = account.permissions
        perm = [
            name
            for name, has in (
                ("read_only", granted.read),
                ("withdraw", granted.withdraw),
                ("trade", granted.spot or granted.derivatives),
            )
            if has
        ]
        uid = self._uid(account)
        return [
            {
                "acctLv": "2",
                "acctStpMode": "cancel_maker",
                "autoLoan": False,
                "ctIsoMode": "automatic",
                "enableSpotBorrow": False,
                "feeType": "0",
                "greeksType": "PA",
                "ip": "",
                "type": "0",
                "kycLv": "1",
                "label": "CTS exchange simulator",
                "level": "Lv1",
                "levelTmp": "",
                "liquidationGear": "-1",
                "mainUid": uid,
                "mgnIsoMode": "automatic",
                "opAuth": "0",
                "perm": ",".join(perm),
                "posMode": "net_mode",
                "roleType": "0",
                "spotBorrowAutoRepay": False,
                "spotOffsetType": "",
                "spotRoleType": "0",
                "spotTraderInsts": [],
                "traderInsts": [],
                "uid": uid,
                "settleCcy": QUOTE,
                "settleCcyList": [QUOTE],
            }
        ]

    def account_balance(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/account/balance (optional ``ccy``, comma-separated)."""
        self.ledger.match(account)
        wanted = params.text("ccy")
        held = [asset for asset, b in account.balances.items() if b.total != 0]
        assets = wanted.split(",") if wanted else held
        positions = self.ledger.positions(account)
        upl = sum((p.unrealized(self.ledger.last_price(p.instrument)) for p in positions), ZERO)
        details = [
            self._detail(account, asset, upl if asset == QUOTE else ZERO) for asset in assets
        ]
        total = sum((Decimal(d["eqUsd"]) for d in details), ZERO)
        initial = sum((p.margin for p in positions), ZERO)
        notional = sum(
            (abs(p.size) * self.ledger.last_price(p.instrument) for p in positions), ZERO
        )
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        now = str(self.now_ms())
        return [
            {
                "adjEq": "",
                "availEq": "",
                "borrowFroz": "",
                "delta": "",
                "deltaLever": "",
                "deltaNeutralStatus": "0",
                "details": details,
                "imr": fmt(initial),
                "isoEq": "0",
                "mgnRatio": fmt(self._ratio(total, maintenance)) if maintenance else "",
                "mmr": "",
                "notionalUsd": fmt(notional),
                "notionalUsdForBorrow": "0",
                "notionalUsdForFutures": "0",
                "notionalUsdForOption": "0",
                "notionalUsdForSwap": fmt(notional),
                "ordFroz": "",
                "totalEq": fmt(total),
                "uTime": now,
                "upl": fmt(upl),
            }
        ]

    @staticmethod
    def _ratio(part: Decimal, whole: Decimal) -> Decimal:
        return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else ZERO

    def _detail(self, account: Account, asset: str, upl: Decimal) -> Json:
        balance = account.balances.get(asset)
        free = balance.free if balance else ZERO
        locked = balance.locked if balance else ZERO
        orders = sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN
                and (
                    o.instrument.quote
                    if o.instrument.kind is Kind.LINEAR or o.side is Side.BUY
                    else o.instrument.base
                )
                == asset
            ),
            ZERO,
        )
        positions = [p for p in account.positions.values() if p.size != 0] if asset == QUOTE else []
        position_margin = sum((p.margin for p in positions), ZERO)
        cash = free + locked
        equity = cash + upl
        return {
            "accAvgPx": "",
            "availBal": fmt(free),
            "availEq": fmt(free + upl),
            "borrowFroz": "",
            "cashBal": fmt(cash),
            "ccy": asset,
            "clSpotInUseAmt": "",
            "crossLiab": "",
            "disEq": fmt(equity * self._mark(asset)),
            "eq": fmt(equity),
            "eqUsd": fmt(equity * self._mark(asset)),
            "fixedBal": "0",
            "frozenBal": fmt(locked),
            "imr": fmt(position_margin) if asset == QUOTE else "",
            "interest": "",
            "isoEq": "0",
            "isoLiab": "",
            "isoUpl": "0",
            "liab": "",
            "maxLoan": "",
            "mgnRatio": "",
            "mmr": "",
            "notionalLever": "",
            "openAvgPx": "",
            "ordFrozen": fmt(orders),
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotBal": "",
            "spotCopyTradingEq": "0",
            "spotInUseAmt": "",
            "spotIsoBal": "0",
            "spotUpl": "",
            "spotUplRatio": "",
            "stgyEq": "0",
            "totalPnl": "",
            "totalPnlRatio": "",
            "twap": "0",
            "uTime": str(self.now_ms()),
            "upl": fmt(upl),
            "uplLiab": "",
        }

    def set_leverage(self, account: Account, params: Params) -> list[Any]:
        """POST /api/v5/account/set-leverage: the simulator keeps one leverage per account."""
        lever = params.decimal("lever")
        margin_mode = params.required("mgnMode")
        if margin_mode not in ("cross", "isolated"):
            raise param_error("mgnMode")
        inst_id = params.text("instId")
        maximum = 100
        if inst_id is not None:
            maximum = self._instrument(inst_id).max_leverage
        if lever is None or lever != lever.to_integral_value() or not 1 <= lever <= maximum:
            raise OkxError("59102", f"Leverage exceeds the maximum leverage {maximum}")
        account.leverage = int(lever)
        return [
            {
                "lever": str(account.leverage),
                "mgnMode": margin_mode,
                "instId": inst_id or "",
                "posSide": params.text("posSide") or "net",
            }
        ]

    # -- orders -------------------------------------------------------------------------------

    def place_order(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/order: one order, its outcome in ``sCode``/``sMsg``."""
        if not isinstance(params, Params):
            raise OkxError("50002", "Json data format error", 400)
        return self._trade_answer([self._place(account, params)])

    def place_orders(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/batch-orders: up to 20 orders, each with its own outcome."""
        batch = [params] if isinstance(params, Params) else params
        if not batch:
            raise OkxError("50000", "Body can not be empty", 400)
        if len(batch) > 20:
            raise OkxError("51111", "Maximum 20 orders can be placed in bulk")
        return self._trade_answer([self._place(account, p) for p in batch])

    def _trade_answer(self, results: Sequence[Json]) -> web.Response:
        """Code 0 when every item succeeded, 1 when all failed, 2 when some did."""
        failed = sum(1 for r in results if r["sCode"] != "0")
        if failed == 0:
            code, message = "0", ""
        elif failed == len(results):
            code, message = "1", ALL_FAILED
        else:
            code, message = "2", "Batch operation partially succeeded"
        now = self.now_ms() * 1000
        body = {
            "code": code,
            "msg": message,
            "data": list(results),
            "inTime": str(now),
            "outTime": str(now + 150),
        }
        return web.json_response(body)

    def _place(self, account: Account, params: Params) -> Json:
        client_id = params.text("clOrdId") or ""
        tag = params.text("tag") or ""
        ts = str(self.now_ms())
        outcome: Json = {"clOrdId": client_id, "ordId": "", "tag": tag, "ts": ts}
        try:
            if not TAG.match(tag):
                raise OrderRefusal("51000", "Parameter tag error")
            instrument = self._markets.get(params.text("instId") or "")
            if instrument is None:
                raise OrderRefusal("51001", "Instrument ID or Spread ID doesn't exist.")
            request = OrderRequest.read(params, instrument, self, account.margin_mode)
            order = self._submit(account, request)
        except OrderRefusal as refusal:
            return outcome | {"sCode": refusal.code, "sMsg": refusal.message}
        self._wire[order.id] = request.wire
        return outcome | {"ordId": order.id, "sCode": "0", "sMsg": "Order placed"}

    def _submit(self, account: Account, request: OrderRequest) -> Order:
        instrument = request.instrument
        bid, ask = self.ledger.bid_ask(instrument)
        amount = request.base_amount(bid, ask)
        reference = request.price or self.ledger.last_price(instrument)
        if amount < instrument.min_amount:
            if instrument.kind is Kind.SPOT:
                raise OrderRefusal(
                    "51020", "Your order should meet or exceed the minimum order amount."
                )
            raise OrderRefusal(
                "51007",
                "Order failed. Please place orders of at least 1 contract or more.",
            )
        if amount * reference < instrument.min_notional:
            raise OrderRefusal(
                "51020", "Your order should meet or exceed the minimum order amount."
            )
        if request.post_only_takes(bid, ask):
            raise OrderRefusal("51000", "Parameter px error: a post_only order would take")
        try:
            order = self.ledger.place(
                account,
                instrument,
                request.side,
                request.type,
                amount,
                price=request.price,
                client_order_id=request.wire.cl_ord_id or None,
                reduce_only=request.reduce_only,
            )
            if order.status is OrderStatus.OPEN and request.wire.ord_type in ("ioc", "fok"):
                self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, request) from None
        return order

    @staticmethod
    def _refusal(error: LedgerError, request: OrderRequest) -> OrderRefusal:
        """A ledger refusal as OKX's sCode."""
        instrument = request.instrument
        if isinstance(error, UnknownInstrument):
            return OrderRefusal("51001", "Instrument ID or Spread ID doesn't exist.")
        if isinstance(error, InsufficientFunds):
            spends_base = instrument.kind is Kind.SPOT and request.side is Side.SELL
            asset = instrument.base if spends_base else instrument.quote
            return OrderRefusal(
                "51008", f"Order failed. Insufficient {asset} balance in trading account."
            )
        if isinstance(error, DuplicateClientOrderId):
            return OrderRefusal("51016", "Duplicated clOrdId")
        if isinstance(error, OrderNotFound):
            return OrderRefusal("51603", "Order does not exist")
        if isinstance(error, TradingNotAllowed):
            return OrderRefusal("50120", NO_PERMISSION)
        if request.reduce_only:
            return OrderRefusal("51205", "Reduce Only is not available.")
        return OrderRefusal("51000", f"Parameter sz error: {error}")

    def cancel_order(self, account: Account, params: Any) -> web.Response:
        """POST /api/v5/trade/cancel-order (by ordId or clOrdId)."""
        if not isinstance(params, Params):
            raise OkxError("50002", "Json data format error", 400)
        instrument = self._instrument(params.required("instId"))
        order_id, client_id = params.text("ordId"), params.text("clOrdId")
        if order_id is None and client_id is None:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        outcome: Json = {
            "clOrdId": client_id or "",
            "ordId": order_id or "",
            "ts": str(self.now_ms()),
        }
        self.ledger.match(account)
        try:
            order = self._find(account, instrument, order_id, client_id)
        except OkxError:
            return self._trade_answer(
                [
                    outcome
                    | {
                        "sCode": "51400",
                        "sMsg": "Order cancellation failed as the order has been filled, "
                        "canceled or does not exist.",
                    }
                ]
            )
        outcome |= {"clOrdId": self._client_id(order), "ordId": order.id}
        if order.status is OrderStatus.CANCELED:
            refusal = ("51401", "Cancellation failed as the order has been canceled.")
        elif order.status is OrderStatus.FILLED:
            refusal = ("51402", "Cancellation failed as the order has been filled.")
        else:
            self.ledger.cancel(account, order_id=order.id)
            return self._trade_answer([outcome | {"sCode": "0", "sMsg": ""}])
        return self._trade_answer([outcome | {"sCode": refusal[0], "sMsg": refusal[1]}])

    def _find(
        self, account: Account, instrument: Instrument, order_id: str | None, client_id: str | None
    ) -> Order:
        try:
            if order_id is not None:
                order = self.ledger.find(account, order_id=order_id)
            else:
                order = self.ledger.find(account, client_order_id=client_id)
        except OrderNotFound:
            raise OkxError("51603", "Order does not exist") from None
        if order.instrument != instrument:
            raise OkxError("51603", "Order does not exist")
        return order

    def get_order(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/order (by ordId or clOrdId; any state)."""
        instrument = self._instrument(params.required("instId"))
        order_id, client_id = params.text("ordId"), params.text("clOrdId")
        if order_id is None and client_id is None:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        self.ledger.match(account)
        return [self._order_view(account, self._find(account, instrument, order_id, client_id))]

    def orders_pending(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/orders-pending: open orders, newest first."""
        kind = params.inst_type(required=False)
        state = params.text("state")
        if state is not None and state not in ("live", "partially_filled"):
            raise param_error("state")
        self.ledger.match(account)
        orders = [o for o in self._orders(account, kind, params) if o.status is OrderStatus.OPEN]
        if state == "partially_filled":
            orders = []  # the ledger fills orders whole
        return [self._order_view(account, o) for o in self._page(orders, params)]

    def orders_history(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/trade/orders-history (and -archive): completed orders, newest first,
        with ``state``, ``begin`` and ``end`` filters."""
        kind = params.inst_type(required=True)
        self.ledger.match(account)
        state = params.text("state")
        if state is not None and state not in ("filled", "canceled"):
            raise param_error("state")
        begin, end = params.integer("begin"), params.integer("end")
        orders = [
            o
            for o in self._orders(account, kind, params)
            if o.status is not OrderStatus.OPEN
            and (state is None or STATE_NAMES[o.status] == state)
            and (begin is None or o.created_ms >= begin)
            and (end is None or o.created_ms <= end)
        ]
        return [self._order_view(account, o) for o in self._page(orders, params)]

    def _orders(self, account: Account, kind: Kind | str | None, params: Params) -> list[Order]:
        inst_id = params.text("instId")
        family = params.text("instFamily") or params.text("uly")
        ord_type = params.text("ordType")
        if inst_id is not None:
            self._instrument(inst_id)
        selected = [
            o
            for o in account.orders.values()
            if (kind == "" or o.instrument.kind is kind)
            and (inst_id is None or self.inst_id(o.instrument) == inst_id)
            and (family is None or f"{o.instrument.base}-{o.instrument.quote}" == family)
            and (ord_type is None or self._ord_type(o) in ord_type.split(","))
        ]
        return sorted(selected, key=lambda o: int(o.id), reverse=True)

    @staticmethod
    def _page(orders: list[Order], params: Params) -> list[Order]:
        """``after``/``before`` page by order id (older/newer than), then ``limit`` (≤ 100)."""
        after, before = params.integer("after"), params.integer("before")
        limit = params.limit(100, 100)
        picked = [
            o
            for o in orders
            if (after is None or int(o.id) < after) and (before is None or int(o.id) > before)
        ]
        return picked[-limit:] if before is not None and after is None else picked[:limit]

    def _client_id(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        return wire.cl_ord_id if wire else order.client_order_id

    def _ord_type(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        if wire:
            return wire.ord_type
        return "market" if order.type is OrderType.MARKET else "limit"

    def _order_view(self, account: Account, order: Order) -> Json:
        """One order as OKX's order queries list it."""
        instrument = order.instrument
        wire = self._wire.get(order.id)
        spot = instrument.kind is Kind.SPOT
        filled = order.status is OrderStatus.FILLED
        average = order.average if order.average is not None else None
        size = wire.sz if wire else fmt(self.size(instrument, order.amount))
        return {
            "accFillSz": fmt(self.size(instrument, order.filled)),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": fmt(average) if average is not None else "",
            "cTime": str(order.created_ms),
            "cancelSource": "1" if order.status is OrderStatus.CANCELED else "",
            "cancelSourceReason": (
                "Order canceled by user" if order.status is OrderStatus.CANCELED else ""
            ),
            "category": "normal",
            "ccy": "",
            "clOrdId": self._client_id(order),
            "fee": fmt(-order.fee),
            "feeCcy": order.fee_asset,
            "fillPx": fmt(average) if average is not None else "",
            "fillSz": fmt(self.size(instrument, order.filled)),
            "fillTime": str(order.updated_ms) if filled else "",
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "isTpLimit": "false",
            "lever": "" if spot else str(account.leverage),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": order.id,
            "ordType": self._ord_type(order),
            "pnl": "0",
            "posSide": "" if spot else "net",
            "px": fmt(order.price) if order.price is not None else "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": instrument.quote,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATE_NAMES[order.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": size,
            "tag": wire.tag if wire else "",
            "tdMode": wire.td_mode if wire else ("cash" if spot else account.margin_mode),
            "tgtCcy": wire.tgt_ccy if wire else "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": order.id if filled else "",
            "tradeQuoteCcy": instrument.quote if spot else "",
            "uTime": str(order.updated_ms),
        }

    # -- positions ----------------------------------------------------------------------------

    def account_positions(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/account/positions: open swap positions (``instId`` up to 10, commas)."""
        kind = params.inst_type(required=False)
        inst_ids = (params.text("instId") or "").split(",") if "instId" in params else []
        if len(inst_ids) > 10:
            raise OkxError("51000", "Parameter instId error")
        for inst_id in inst_ids:
            self._instrument(inst_id)
        positions = [
            p
            for p in self.ledger.positions(account)
            if (kind == "" or p.instrument.kind is kind)
            and (not inst_ids or self.inst_id(p.instrument) in inst_ids)
        ]
        return [self._position_view(account, p) for p in positions]

    def _position_view(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        contracts = self.size(instrument, position.size)
        notional = abs(position.size) * mark
        upl = position.unrealized(mark)
        margin = position.margin
        isolated = account.margin_mode == "isolated"
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        created = str(position.updated_ms or self._started_ms)
        return {
            "adl": "1",
            "availPos": fmt(abs(contracts)) if isolated else "",
            "avgPx": fmt(position.entry_price),
            "baseBal": "",
            "baseBorrowed": "",
            "baseInterest": "",
            "bePx": fmt(position.entry_price),
            "bizRefId": "",
            "bizRefType": "",
            "cTime": created,
            "ccy": QUOTE,
            "clSpotInUseAmt": "",
            "closeOrderAlgo": [],
            "deltaBS": "",
            "deltaPA": "",
            "fee": "0",
            "fundingFee": "0",
            "gammaBS": "",
            "gammaPA": "",
            "idxPx": fmt(mark),
            "imr": "" if isolated else fmt(margin),
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "interest": "",
            "last": fmt(mark),
            "lever": str(account.leverage),
            "liab": "",
            "liabCcy": "",
            "liqPenalty": "0",
            "liqPx": "",
            "margin": fmt(margin) if isolated else "",
            "markPx": fmt(mark),
            "maxSpotInUseAmt": "",
            "mgnMode": account.margin_mode,
            "mgnRatio": fmt(self._ratio(margin + upl, maintenance)) if maintenance else "",
            "mmr": fmt(maintenance),
            "notionalUsd": fmt(notional),
            "optVal": "",
            "pendingCloseOrdLiabVal": "",
            "pnl": fmt(position.realized_pnl),
            "pos": fmt(contracts),
            "posCcy": "",
            "posId": str(int(hashlib.sha256(instrument.symbol.encode()).hexdigest()[:12], 16)),
            "posSide": "net",
            "quoteBal": "",
            "quoteBorrowed": "",
            "quoteInterest": "",
            "realizedPnl": fmt(position.realized_pnl),
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "thetaBS": "",
            "thetaPA": "",
            "tradeId": "",
            "uTime": created,
            "upl": fmt(upl),
            "uplLastPx": fmt(upl),
            "uplRatio": fmt(self._ratio(upl, margin)) if margin else "0",
            "uplRatioLastPx": fmt(self._ratio(upl, margin)) if margin else "0",
            "usdPx": "",
            "vegaBS": "",
            "vegaPA": "",
        }


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order of /trade/order or /trade/batch-orders, validated as OKX validates it."""

    instrument: Instrument
    side: Side
    type: OrderType
    sz: Decimal
    price: Decimal | None
    reduce_only: bool
    contract_value: Decimal
    wire: OrderWire

    @classmethod
    def read(
        cls, params: Params, instrument: Instrument, dialect: OkxDialect, margin_mode: str
    ) -> OrderRequest:
        for name in ALGO_PARAMS:
            if name in params:
                raise OrderRefusal("51000", f"Parameter {name} error")
        spot = instrument.kind is Kind.SPOT
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(params.text("side") or "")
        if side is None:
            raise OrderRefusal("51000", "Parameter side error")
        ord_type = params.text("ordType") or ""
        if ord_type not in ORDER_TYPES or (spot and ord_type == "optimal_limit_ioc"):
            raise OrderRefusal("51000", "Parameter ordType error")
        market = ord_type in ("market", "optimal_limit_ioc")
        td_mode = params.text("tdMode") or ""
        if (spot and td_mode != "cash") or (not spot and td_mode != margin_mode):
            raise OrderRefusal("51000", "Parameter tdMode error")
        pos_side = params.text("posSide")
        if pos_side not in (None, "net") or (spot and pos_side is not None):
            raise OrderRefusal("51000", "Parameter posSide error")
        sz = cls._number(params, "sz")
        if sz is None or sz <= 0:
            raise OrderRefusal("51000", "Parameter sz error")
        price = None if market else cls._number(params, "px")
        if not market and (price is None or price <= 0):
            raise OrderRefusal("51000", "Parameter px error")
        if price is not None and price % instrument.price_tick != 0:
            raise OrderRefusal("51000", "Parameter px error")
        client_id = params.text("clOrdId") or ""
        if client_id and not CLIENT_ID.match(client_id):
            raise OrderRefusal("51000", "Parameter clOrdId error")
        tgt_ccy = cls._target(params, instrument, side, market)
        lot = instrument.amount_step if spot else LOT_SIZE
        if tgt_ccy != "quote_ccy" and sz % lot != 0:
            raise OrderRefusal("51121", f"Order quantity must be a multiple of the lot size {lot}")
        reduce_only = params.flag("reduceOnly")
        if spot and reduce_only:
            raise OrderRefusal(
                "51139",
                "Reduce-only feature is unavailable for the spot transactions by simple account",
            )
        return cls(
            instrument,
            side,
            OrderType.MARKET if market else OrderType.LIMIT,
            sz,
            price,
            reduce_only,
            Decimal(1) if spot else dialect.contract_value(instrument),
            OrderWire(
                sz=fmt(sz),
                cl_ord_id=client_id,
                tag=params.text("tag") or "",
                ord_type=ord_type,
                td_mode=td_mode,
                tgt_ccy=tgt_ccy,
            ),
        )

    @staticmethod
    def _number(params: Params, name: str) -> Decimal | None:
        try:
            return params.decimal(name)
        except OkxError:
            raise OrderRefusal("51000", f"Parameter {name} error") from None

    @staticmethod
    def _target(params: Params, instrument: Instrument, side: Side, market: bool) -> str:
        """Spot market orders count ``sz`` in the quote currency for buys unless told."""
        if instrument.kind is not Kind.SPOT or not market:
            return ""
        target = params.text("tgtCcy") or ("quote_ccy" if side is Side.BUY else "base_ccy")
        if target not in ("base_ccy", "quote_ccy"):
            raise OrderRefusal("51000", "Parameter tgtCcy error")
        return target

    def base_amount(self, bid: Decimal, ask: Decimal) -> Decimal:
        """The order's amount in the base asset (quote-sized market orders at the touch)."""
        if self.wire.tgt_ccy == "quote_ccy":
            touch = ask if self.side is Side.BUY else bid
            return self.instrument.floor_amount(self.sz / touch)
        return self.sz * self.contract_value

    def post_only_takes(self, bid: Decimal, ask: Decimal) -> bool:
        if self.wire.ord_type != "post_only" or self.price is None:
            return False
        return self.price >= ask if self.side is Side.BUY else self.price <= bid
