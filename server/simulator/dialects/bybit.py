"""The Bybit v5 dialect: spot and USDT-linear perpetuals of a unified trading account (UTA 2.0).

Every answer is Bybit's envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``.
Private requests are checked as Bybit checks them: headers ``X-BAPI-API-KEY``,
``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN``, the hex HMAC-SHA256 of
``timestamp + apiKey + recvWindow + payload`` where the payload is the raw query string (GET) or
the raw JSON body (POST); the timestamp must lie in ``[server - recvWindow, server + 1000)``.

Refusals use Bybit's own retCodes (``10001`` parameters, ``10002`` timestamp, ``10003`` key,
``10004`` signature, ``10005`` permission, ``10006`` rate limit, ``1100xx`` derivatives,
``1701xx`` spot), so that ccxt raises the same exceptions as against Bybit. Amounts and prices
are strings on the wire and :class:`~decimal.Decimal` inside.

Deviations, on purpose: the simulator's rate limit answers HTTP 429 with retCode 10006 (Bybit's
per-UID limit answers HTTP 200 with 10006, its system-level protection HTTP 429); an unknown
symbol is answered with ``10001 Not supported symbols`` on every endpoint (ccxt: BadSymbol);
conditional, TP/SL and margin orders are refused; a PostOnly order that would take liquidity is
refused instead of being accepted and then cancelled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
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

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]

DEFAULT_RECV_WINDOW = 5000
FUTURE_TOLERANCE_MS = 1000  # Bybit accepts timestamps up to 1 s ahead of its clock
MAX_ORDER_VALUE = Decimal(2_000_000)  # USDT, for the advertised maximum order quantities
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
FUNDING_RATE = "0.0001"
MAINTENANCE_MARGIN_RATE = Decimal("0.005")
KLINE_SECONDS = {
    "1": 60,
    "3": 180,
    "5": 300,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "120": 7200,
    "240": 14400,
    "360": 21600,
    "720": 43200,
    "D": 86400,
}
CATEGORIES = {"spot": Kind.SPOT, "linear": Kind.LINEAR, "inverse": None, "option": None}
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
UNSUPPORTED_ORDER_PARAMS = ("triggerPrice", "takeProfit", "stopLoss", "tpslMode", "orderIv")
STATUS_NAMES = {
    OrderStatus.OPEN: "New",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
}
PERMISSION_DENIED = "Permission denied, please check your API key permissions."
HTML_UNAVAILABLE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
HTML_MAINTENANCE = (
    "<html><head><title>Bybit system maintenance</title></head>"
    "<body><h1>The system is under maintenance.</h1>"
    "<p>Trading and API services are suspended until the maintenance is complete.</p>"
    "</body></html>"
)


class BybitError(Exception):
    """A refusal in Bybit's terms: retCode, retMsg and the HTTP status it travels with."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status


def params_error(message: str) -> BybitError:
    return BybitError(10001, message)


def not_supported_symbol() -> BybitError:
    return BybitError(10001, "Not supported symbols")


def fmt(value: Decimal) -> str:
    """A decimal as Bybit writes it: plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Params:
    """The parameters of one request (query or JSON body), read the way Bybit validates them."""

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
            raise params_error(f"Missing some parameters that must be filled in, {name}")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise params_error(f"params error: {name} invalid") from None

    def limit(self, default: int, maximum: int) -> int:
        value = self.integer("limit", default)
        assert value is not None
        if not 1 <= value <= maximum:
            raise params_error(f"params error: limit must be between 1 and {maximum}")
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise params_error(f"params error: {name} invalid") from None
        if not number.is_finite():
            raise params_error(f"params error: {name} invalid")
        return number

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def kind(self) -> Kind | None:
        """The market kind of ``category``: None for categories that list nothing here."""
        category = self.text("category")
        if category not in CATEGORIES:
            raise params_error("Illegal category")
        return CATEGORIES[category]


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What Bybit echoes about an order that the exchange-neutral ledger does not keep."""

    qty: str
    order_link_id: str
    time_in_force: str
    market_unit: str
    last_price_on_created: str


class BybitDialect(Dialect):
    name = "bybit"
    prefixes = ("/v5/",)

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self._wire: dict[str, OrderWire] = {}
        self._started_ms = int(simulator.clock() * 1000)

    @cached_property
    def _markets(self) -> dict[tuple[Kind, str], Instrument]:
        return {(i.kind, i.plain_id): i for i in self.ledger.instruments}

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("X-BAPI-API-KEY")

    def routes(self) -> Iterable[web.RouteDef]:
        public, private = self._public, self._private
        return [
            web.get("/v5/market/time", public(self.market_time)),
            web.get("/v5/market/instruments-info", public(self.instruments_info)),
            web.get("/v5/market/tickers", public(self.tickers)),
            web.get("/v5/market/kline", public(self.kline)),
            web.get("/v5/user/query-api", private(self.query_api, needs_read=False)),
            web.get("/v5/account/info", private(self.account_info)),
            web.get("/v5/account/wallet-balance", private(self.wallet_balance)),
            web.post("/v5/order/create", private(self.create_order)),
            web.post("/v5/order/cancel", private(self.cancel_order)),
            web.get("/v5/order/realtime", private(self.realtime_orders)),
            web.get("/v5/order/history", private(self.order_history)),
            web.get("/v5/position/list", private(self.position_list)),
        ]

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        now = self.now_ms()
        reset = now + math.ceil(retry_after_seconds * 1000)
        limit = self.simulator.limits[self.name].per_second
        headers = {
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit-Reset-Timestamp": str(reset),
            **retry_after(retry_after_seconds),
        }
        return self._envelope(10006, "Too many visits!", {}, status=429, headers=headers)

    def unavailable(self) -> web.Response:
        return web.Response(status=503, text=HTML_UNAVAILABLE, content_type="text/html")

    def maintenance(self) -> web.Response:
        return web.Response(
            status=503,
            text=HTML_MAINTENANCE,
            content_type="text/html",
            headers={"Retry-After": "60"},
        )

    def not_found(self, request: web.Request) -> web.Response:
        return self._envelope(10017, f"route not found: {request.path}", {}, status=404)

    # -- envelopes and the request pipeline ---------------------------------------------------

    def _envelope(
        self,
        code: int,
        message: str,
        result: Json,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        if isinstance(result, dict) and "timeNano" in result:
            now = int(result["timeNano"]) // 1_000_000  # the server time's own reading
        else:
            now = self.now_ms()
        body = {
            "retCode": code,
            "retMsg": message,
            "result": result,
            "retExtInfo": {},
            "time": now,
        }
        return web.json_response(body, status=status, headers=headers)

    def _failure(self, error: BybitError) -> web.Response:
        return self._envelope(error.code, error.message, {}, status=error.status)

    def _public(self, handler: Callable[[Params], Json]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._envelope(0, "OK", handler(Params(request.query)))
            except BybitError as error:
                return self._failure(error)

        return serve

    def _private(
        self, handler: Callable[[Account, Params], Json], *, needs_read: bool = True
    ) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account, params = await self._authenticate(request)
                if needs_read and not account.permissions.read:
                    raise BybitError(10005, PERMISSION_DENIED)
                return self._envelope(0, "OK", handler(account, params))
            except BybitError as error:
                return self._failure(error)

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[Account, Params]:
        """Bybit's gateway checks in turn: credentials, key, timestamp, signature."""
        headers = request.headers
        api_key = headers.get("X-BAPI-API-KEY", "")
        timestamp = headers.get("X-BAPI-TIMESTAMP", "")
        signature = headers.get("X-BAPI-SIGN", "")
        recv_window_text = headers.get("X-BAPI-RECV-WINDOW", "")
        if not (api_key and timestamp and signature):
            raise BybitError(10007, "User authentication failed.", status=401)
        account = self.account(api_key)
        if account is None or account.revoked:
            raise BybitError(10003, "API key is invalid.", status=401)
        self._check_timestamp(timestamp, recv_window_text)
        payload = await self._payload(request)
        origin = timestamp + api_key + recv_window_text + payload
        expected = hmac.new(account.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BybitError(10004, "Error sign, please check your signature generation algorithm.")
        return account, self._params_of(request, payload)

    def _check_timestamp(self, timestamp: str, recv_window_text: str) -> None:
        try:
            sent = int(timestamp)
            recv_window = int(recv_window_text) if recv_window_text else DEFAULT_RECV_WINDOW
        except ValueError:
            raise params_error("params error: timestamp or recv_window invalid") from None
        now = self.now_ms()
        if not now - recv_window <= sent < now + FUTURE_TOLERANCE_MS:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{recv_window}]",
            )

    @staticmethod
    async def _payload(request: web.Request) -> str:
        """What the client signed: the raw query string (GET) or the raw body (POST)."""
        if request.method == "POST":
            return await request.text()
        _, _, query = request.raw_path.partition("?")
        return query

    @staticmethod
    def _params_of(request: web.Request, payload: str) -> Params:
        if request.method != "POST":
            return Params(request.query)
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            raise params_error("params error: the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise params_error("params error: the body must be a JSON object")
        return Params(body)

    # -- markets ------------------------------------------------------------------------------

    def _instrument(self, kind: Kind | None, symbol: str | None) -> Instrument:
        instrument = self._markets.get((kind, symbol or "")) if kind is not None else None
        if instrument is None:
            raise not_supported_symbol()
        return instrument

    def _listed(self, kind: Kind | None, params: Params) -> list[Instrument]:
        """The instruments of a category, narrowed by ``symbol`` and ``baseCoin``."""
        symbol, base = params.text("symbol"), params.text("baseCoin")
        return [
            i
            for i in self.ledger.instruments
            if i.kind is kind
            and (symbol is None or i.plain_id == symbol)
            and (base is None or i.base == base)
        ]

    def _mark(self, asset: str) -> Decimal:
        """The USDT value of one unit of ``asset`` (0 for assets without a market)."""
        if asset in (QUOTE, "USDC"):
            return Decimal(1)
        if asset not in ASSET_BY_CODE:
            return ZERO
        return self.simulator.prices.price(asset)

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

    @staticmethod
    def _max_qty(instrument: Instrument) -> Decimal:
        start = ASSET_BY_CODE[instrument.base].start_price
        steps = (MAX_ORDER_VALUE / start / instrument.amount_step).to_integral_value("ROUND_FLOOR")
        return steps * instrument.amount_step

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
                "basePrecision": fmt(instrument.amount_step),
                "quotePrecision": "0.00000001",
                "minOrderQty": fmt(instrument.min_amount),
                "maxOrderQty": fmt(self._max_qty(instrument)),
                "minOrderAmt": fmt(instrument.min_notional),
                "maxOrderAmt": fmt(MAX_ORDER_VALUE),
            },
            "priceFilter": {"tickSize": fmt(instrument.price_tick)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }

    def _linear_instrument(self, instrument: Instrument) -> Json:
        max_qty = fmt(self._max_qty(instrument))
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
                "minPrice": fmt(instrument.price_tick),
                "maxPrice": fmt(instrument.round_price(start * 100)),
                "tickSize": fmt(instrument.price_tick),
            },
            "lotSizeFilter": {
                "maxOrderQty": max_qty,
                "maxMktOrderQty": max_qty,
                "minOrderQty": fmt(instrument.min_amount),
                "qtyStep": fmt(instrument.amount_step),
                "postOnlyMaxOrderQty": max_qty,
                "minNotionalValue": fmt(instrument.min_notional),
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

    def tickers(self, params: Params) -> Json:
        """GET /v5/market/tickers (one symbol, or the whole category)."""
        kind = params.kind()
        listed = self._listed(kind, params)
        if params.text("symbol") is not None and not listed:
            raise not_supported_symbol()
        return {"category": params.text("category"), "list": [self._ticker(i) for i in listed]}

    def _ticker(self, instrument: Instrument) -> Json:
        prices = self.simulator.prices
        base = instrument.base
        bid, ask = self.ledger.bid_ask(instrument)
        last = self.ledger.last_price(instrument)
        now = self.simulator.clock()
        day = prices.candles(base, 3600, since=now - 86400 + 3600, limit=24)
        previous = prices.price(base, at=now - 86400)
        volume = sum((c.volume for c in day), ZERO)
        turnover = sum((c.volume * c.close for c in day), ZERO)
        depth = max(instrument.floor_amount(Decimal(10_000) / last), instrument.min_amount)
        ticker: Json = {
            "symbol": instrument.plain_id,
            "bid1Price": fmt(bid),
            "bid1Size": fmt(depth),
            "ask1Price": fmt(ask),
            "ask1Size": fmt(depth),
            "lastPrice": fmt(last),
            "prevPrice24h": fmt(previous),
            "price24hPcnt": fmt((last / previous - 1).quantize(Decimal("0.0001"))),
            "highPrice24h": fmt(max([c.high for c in day] + [last])),
            "lowPrice24h": fmt(min([c.low for c in day] + [last])),
            "turnover24h": fmt(turnover.quantize(Decimal("0.0001"))),
            "volume24h": fmt(volume),
        }
        if instrument.kind is Kind.SPOT:
            ticker["usdIndexPrice"] = fmt(last)
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
            "indexPrice": fmt(last),
            "markPrice": fmt(last),
            "prevPrice1h": fmt(
                self.simulator.prices.price(instrument.base, at=now_ms / 1000 - 3600)
            ),
            "openInterest": fmt(open_interest),
            "openInterestValue": fmt(open_interest * last),
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
                fmt(c.open),
                fmt(c.high),
                fmt(c.low),
                fmt(c.close),
                fmt(c.volume),
                fmt((c.volume * c.close).quantize(Decimal("0.0001"))),
            ]
            for c in reversed(candles)
        ]
        return {"category": params.text("category"), "symbol": instrument.plain_id, "list": rows}

    # -- the key and the account --------------------------------------------------------------

    def query_api(self, account: Account, _params: Params) -> Json:
        """GET /v5/user/query-api: the key's permissions (any key may call it)."""
        granted = account.permissions
        user_id = int(hashlib.sha256(account.api_key.encode()).hexdigest()[:8], 16) % 10**8
        trades = granted.spot or granted.derivatives
        return {
            "id": str(user_id),
            "note": "CTS exchange simulator",
            "apiKey": account.api_key,
            "readOnly": 0 if trades or granted.withdraw else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if granted.derivatives else [],
                "Spot": ["SpotTrade"] if granted.spot else [],
                "Wallet": ["Withdraw"] if granted.withdraw else [],
                "Options": [],
                "Derivatives": ["DerivativesTrade"] if granted.derivatives else [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": iso(self._started_ms),
            "unified": 0,
            "uta": 1,
            "userID": user_id,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_1",
            "kycRegion": "",
        }

    def account_info(self, account: Account, _params: Params) -> Json:
        """GET /v5/account/info: a unified trading account (UTA 2.0 Pro)."""
        mode = "ISOLATED_MARGIN" if account.margin_mode == "isolated" else "REGULAR_MARGIN"
        return {
            "unifiedMarginStatus": 6,
            "marginMode": mode,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(self._started_ms),
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
        }

    def wallet_balance(self, account: Account, params: Params) -> Json:
        """GET /v5/account/wallet-balance (accountType UNIFIED, the only one a UTA 2.0 has)."""
        if params.required("accountType") != "UNIFIED":
            raise params_error("accountType only support UNIFIED.")
        self.ledger.match(account)
        wanted = params.text("coin")
        held = [asset for asset, b in account.balances.items() if b.total != 0]
        coins = wanted.split(",") if wanted else held
        summary = self._account_summary(account, held)
        return {"list": [summary | {"coin": [self._coin(account, asset) for asset in coins]}]}

    def _account_summary(self, account: Account, held: list[str]) -> Json:
        """The account-wide totals of a unified account, in USD(T)."""
        positions = self.ledger.positions(account)
        marks = {p.instrument: self.ledger.last_price(p.instrument) for p in positions}
        upl = sum((p.unrealized(marks[p.instrument]) for p in positions), ZERO)
        initial = sum((p.margin for p in positions), ZERO) + self._order_margin(account)
        notional = sum((abs(p.size) * marks[p.instrument] for p in positions), ZERO)
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        wallet = sum((account.balances[a].total * self._mark(a) for a in held), ZERO)
        margin_balance = wallet + upl
        return {
            "accountType": "UNIFIED",
            "accountIMRate": fmt(self._ratio(initial, margin_balance)),
            "accountMMRate": fmt(self._ratio(maintenance, margin_balance)),
            "accountLTV": "0",
            "totalEquity": fmt(margin_balance),
            "totalWalletBalance": fmt(wallet),
            "totalMarginBalance": fmt(margin_balance),
            "totalAvailableBalance": fmt(margin_balance - initial),
            "totalPerpUPL": fmt(upl),
            "totalInitialMargin": fmt(initial),
            "totalMaintenanceMargin": fmt(maintenance),
        }

    @staticmethod
    def _ratio(part: Decimal, whole: Decimal) -> Decimal:
        return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else ZERO

    @staticmethod
    def _order_margin(account: Account) -> Decimal:
        return sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN and o.instrument.kind is Kind.LINEAR
            ),
            ZERO,
        )

    def _coin(self, account: Account, asset: str) -> Json:
        balance = account.balances.get(asset)
        free = balance.free if balance else ZERO
        total = balance.total if balance else ZERO
        spot_locked = sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN
                and o.instrument.kind is Kind.SPOT
                and (o.instrument.quote if o.side is Side.BUY else o.instrument.base) == asset
            ),
            ZERO,
        )
        positions = list(account.positions.values()) if asset == QUOTE else []
        upl = sum((p.unrealized(self.ledger.last_price(p.instrument)) for p in positions), ZERO)
        equity = total + upl
        return {
            "coin": asset,
            "equity": fmt(equity),
            "usdValue": fmt(equity * self._mark(asset)),
            "walletBalance": fmt(total),
            "availableToWithdraw": fmt(free),
            "locked": fmt(spot_locked),
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": fmt(self._order_margin(account) if asset == QUOTE else ZERO),
            "totalPositionIM": fmt(sum((p.margin for p in positions), ZERO)),
            "totalPositionMM": fmt(
                sum((abs(p.size) * p.entry_price for p in positions), ZERO)
                * MAINTENANCE_MARGIN_RATE
            ),
            "unrealisedPnl": fmt(upl),
            "cumRealisedPnl": fmt(sum((p.realized_pnl for p in positions), ZERO)),
            "bonus": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
            "spotHedgingQty": "0",
            "availableToBorrow": "",
        }

    # -- orders -------------------------------------------------------------------------------

    def create_order(self, account: Account, params: Params) -> Json:
        """POST /v5/order/create: Market and Limit orders, orderLinkId honoured."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        request = OrderRequest.read(params, instrument)
        bid, ask = self.ledger.bid_ask(instrument)
        amount = request.base_amount(bid, ask)
        self._check_size(instrument, amount, request.price or self.ledger.last_price(instrument))
        if request.post_only_takes(bid, ask):
            raise self._post_only_refusal(instrument)
        try:
            order = self.ledger.place(
                account,
                instrument,
                request.side,
                request.type,
                amount,
                price=request.price,
                client_order_id=request.order_link_id or None,
                reduce_only=request.reduce_only,
            )
            if order.status is OrderStatus.OPEN and request.time_in_force in ("IOC", "FOK"):
                self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, instrument.kind, reduce_only=request.reduce_only) from None
        self._wire[order.id] = OrderWire(
            qty=fmt(request.qty),
            order_link_id=request.order_link_id,
            time_in_force=request.time_in_force,
            market_unit=request.market_unit,
            last_price_on_created=fmt(self.ledger.last_price(instrument)),
        )
        return {"orderId": order.id, "orderLinkId": request.order_link_id}

    @staticmethod
    def _check_size(instrument: Instrument, amount: Decimal, price: Decimal) -> None:
        """Bybit's quantity and order-value floors, with its spot and derivatives codes."""
        spot = instrument.kind is Kind.SPOT
        if amount < instrument.min_amount:
            if spot:
                raise BybitError(170136, "Order quantity lower than the minimum.")
            raise params_error("The number of contracts exceeds minimum limit allowed")
        if amount * price < instrument.min_notional:
            if spot:
                raise BybitError(170140, "Order value exceeded lower limit.")
            raise BybitError(
                110094, f"Order does not meet minimum order value {instrument.min_notional}USDT"
            )

    @staticmethod
    def _post_only_refusal(instrument: Instrument) -> BybitError:
        if instrument.kind is Kind.SPOT:
            return BybitError(170218, "The LIMIT-MAKER order is rejected due to invalid price.")
        return BybitError(110032, "Illegal order: a PostOnly order would take liquidity")

    @staticmethod
    def _refusal(error: LedgerError, kind: Kind, *, reduce_only: bool = False) -> BybitError:
        """A ledger refusal as Bybit's retCode for the market kind."""
        spot = kind is Kind.SPOT
        if isinstance(error, UnknownInstrument):
            return not_supported_symbol()
        if isinstance(error, InsufficientFunds):
            if spot:
                return BybitError(170131, "Insufficient balance.")
            return BybitError(110007, "ab not enough for new order")
        if isinstance(error, DuplicateClientOrderId):
            if spot:
                return BybitError(170141, "Duplicate clientOrderId.")
            return BybitError(110072, "OrderLinkedID is duplicate")
        if isinstance(error, OrderNotFound):
            if spot:
                return BybitError(170213, "Order does not exist.")
            return BybitError(110001, "order not exists or too late to cancel")
        if isinstance(error, TradingNotAllowed):
            return BybitError(10005, PERMISSION_DENIED)
        if spot:
            return BybitError(170210, "New order rejected.")
        if reduce_only:
            return BybitError(110017, "Reduce-only rule not satisfied")
        return BybitError(110032, "Illegal order")

    def cancel_order(self, account: Account, params: Params) -> Json:
        """POST /v5/order/cancel (by orderId or orderLinkId)."""
        kind = params.kind()
        instrument = self._instrument(kind, params.required("symbol"))
        order_id, link_id = params.text("orderId"), params.text("orderLinkId")
        if order_id is None and link_id is None:
            raise params_error("Missing some parameters that must be filled in, orderId")
        try:
            order = self.ledger.find(account, order_id=order_id, client_order_id=link_id)
            if order.instrument != instrument:
                raise OrderNotFound(order.id)
            self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise self._refusal(error, instrument.kind) from None
        return {"orderId": order.id, "orderLinkId": self._link_id(order)}

    def realtime_orders(self, account: Account, params: Params) -> Json:
        """GET /v5/order/realtime: open orders; any recent order when asked by id or link id;
        recent closed orders with ``openOnly=1``."""
        kind = params.kind()
        by_id = "orderId" in params or "orderLinkId" in params
        if kind is Kind.LINEAR and not by_id and not self._has_scope(params):
            raise params_error(
                "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        self.ledger.match(account)
        open_only = params.integer("openOnly", 0) == 0
        orders = [
            o
            for o in self._orders(account, kind, params)
            if by_id or (o.status is OrderStatus.OPEN) == open_only
        ]
        return self._order_page(orders, params)

    def order_history(self, account: Account, params: Params) -> Json:
        """GET /v5/order/history: orders of every status, newest first, ``orderStatus`` and
        ``startTime``/``endTime`` filters."""
        kind = params.kind()
        self.ledger.match(account)
        statuses = params.text("orderStatus")
        start, end = params.integer("startTime"), params.integer("endTime")
        orders = [
            o
            for o in self._orders(account, kind, params)
            if (statuses is None or STATUS_NAMES[o.status] in statuses.split(","))
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return self._order_page(orders, params)

    @staticmethod
    def _has_scope(params: Params) -> bool:
        return any(name in params for name in ("symbol", "settleCoin", "baseCoin"))

    def _orders(self, account: Account, kind: Kind | None, params: Params) -> list[Order]:
        """The account's orders of a category, filtered as Bybit's order queries filter."""
        symbol, base = params.text("symbol"), params.text("baseCoin")
        settle = params.text("settleCoin")
        order_id, link_id = params.text("orderId"), params.text("orderLinkId")
        selected = [
            o
            for o in account.orders.values()
            if o.instrument.kind is kind
            and (symbol is None or o.instrument.plain_id == symbol)
            and (base is None or o.instrument.base == base)
            and (settle is None or o.instrument.quote == settle)
            and (order_id is None or o.id == order_id)
            and (link_id is None or self._link_id(o) == link_id)
        ]
        return sorted(selected, key=lambda o: (o.created_ms, o.id), reverse=True)

    def _order_page(self, orders: list[Order], params: Params) -> Json:
        """One page of orders (at most 50), with an offset as Bybit's opaque cursor."""
        limit = params.limit(20, 50)
        offset = params.integer("cursor", 0) or 0
        page = orders[offset : offset + limit]
        more = offset + limit < len(orders)
        return {
            "category": params.text("category"),
            "list": [self._order_view(o) for o in page],
            "nextPageCursor": str(offset + limit) if more else "",
        }

    def _link_id(self, order: Order) -> str:
        wire = self._wire.get(order.id)
        return wire.order_link_id if wire else order.client_order_id

    def _order_view(self, order: Order) -> Json:
        """One order as Bybit's order queries list it."""
        wire = self._wire.get(order.id)
        linear = order.instrument.kind is Kind.LINEAR
        market = order.type is OrderType.MARKET
        remaining = order.remaining if order.status is OrderStatus.OPEN else ZERO
        executed_value = order.filled * (order.average or ZERO)
        view: Json = {
            "symbol": order.instrument.plain_id,
            "orderId": order.id,
            "orderLinkId": self._link_id(order),
            "blockTradeId": "",
            "side": "Buy" if order.side is Side.BUY else "Sell",
            "orderType": "Market" if market else "Limit",
            "price": "0" if market or order.price is None else fmt(order.price),
            "qty": wire.qty if wire else fmt(order.amount),
            "orderStatus": STATUS_NAMES[order.status],
            "cancelType": "CancelByUser" if order.status is OrderStatus.CANCELED else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": fmt(order.average) if order.average is not None else "",
            "leavesQty": fmt(remaining),
            "leavesValue": fmt(remaining * (order.price or ZERO)),
            "cumExecQty": fmt(order.filled),
            "cumExecValue": fmt(executed_value),
            "cumExecFee": fmt(order.fee),
            "cumFeeDetail": {order.fee_asset: fmt(order.fee)} if order.fee else {},
            "timeInForce": wire.time_in_force if wire else ("IOC" if market else "GTC"),
            "positionIdx": 0,
            "isLeverage": "" if linear else "0",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "stopOrderType": "",
            "triggerPrice": "0" if linear else "0.00",
            "triggerDirection": 0,
            "triggerBy": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "orderIv": "",
            "lastPriceOnCreated": wire.last_price_on_created if wire else "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "placeType": "",
            "createType": "CreateByUser",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }
        if linear:
            view["tpslMode"] = ""
        elif market and wire and wire.market_unit:
            view["marketUnit"] = wire.market_unit
        return view

    # -- positions ----------------------------------------------------------------------------

    def position_list(self, account: Account, params: Params) -> Json:
        """GET /v5/position/list (linear): open positions, or one symbol's even when flat."""
        category = params.text("category")
        if category not in ("linear", "inverse", "option"):
            raise params_error("Illegal category")
        if not self._has_scope(params):
            raise params_error(
                "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        symbol = params.text("symbol")
        kind = params.kind()
        if symbol is not None:
            instrument = self._instrument(kind, symbol)
            self.ledger.match(account)
            found = account.positions.get(instrument.symbol) or Position(instrument)
            positions = [found]
        else:
            listed = self._listed(kind, params) if kind is not None else []
            positions = [p for p in self.ledger.positions(account) if p.instrument in listed]
        limit = params.limit(20, 200)
        return {
            "category": category,
            "list": [self._position_view(account, p) for p in positions[:limit]],
            "nextPageCursor": "",
        }

    def _position_view(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        size = abs(position.size)
        side = "Buy" if position.size > 0 else "Sell" if position.size < 0 else ""
        entry = position.entry_price
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": instrument.plain_id,
            "side": side,
            "size": fmt(size),
            "avgPrice": fmt(entry),
            "positionValue": fmt(size * entry),
            "tradeMode": 0,
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "adlRankIndicator": 2 if size else 0,
            "leverage": str(account.leverage),
            "positionBalance": fmt(position.margin),
            "markPrice": fmt(mark),
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": fmt(position.margin),
            "positionMM": fmt(size * mark * MAINTENANCE_MARGIN_RATE),
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": fmt(position.unrealized(mark)),
            "curRealisedPnl": fmt(position.realized_pnl),
            "cumRealisedPnl": fmt(position.realized_pnl),
            "sessionAvgPrice": "",
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "seq": position.updated_ms,
            "createdTime": str(position.updated_ms or self._started_ms),
            "updatedTime": str(position.updated_ms or self._started_ms),
        }


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A /v5/order/create request, validated as Bybit validates it."""

    instrument: Instrument
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    order_link_id: str
    time_in_force: str
    market_unit: str
    reduce_only: bool

    @classmethod
    def read(cls, params: Params, instrument: Instrument) -> OrderRequest:
        for name in UNSUPPORTED_ORDER_PARAMS:
            if name in params:
                raise params_error(f"params error: {name} is not supported by the simulator")
        if params.flag("isLeverage"):
            raise params_error("params error: margin trading is not enabled for this symbol")
        if params.integer("positionIdx", 0) != 0:
            raise params_error("position idx not match position mode")
        side = {"Buy": Side.BUY, "Sell": Side.SELL}.get(params.required("side"))
        order_type = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}.get(
            params.required("orderType")
        )
        if side is None or order_type is None:
            raise params_error("params error: side or orderType invalid")
        qty = params.decimal("qty")
        if qty is None or qty <= 0:
            raise params_error("params error: qty invalid")
        price = params.decimal("price") if order_type is OrderType.LIMIT else None
        if order_type is OrderType.LIMIT and (price is None or price <= 0):
            raise params_error("params error: price invalid")
        link_id = params.text("orderLinkId") or ""
        if len(link_id) > 36:
            raise params_error("params error: orderLinkId is longer than 36 characters")
        default_tif = "IOC" if order_type is OrderType.MARKET else "GTC"
        time_in_force = params.text("timeInForce") or default_tif
        if time_in_force not in TIME_IN_FORCE:
            raise params_error("params error: timeInForce invalid")
        request = cls(
            instrument,
            side,
            order_type,
            qty,
            price,
            link_id,
            "IOC" if order_type is OrderType.MARKET else time_in_force,
            cls._market_unit(params, instrument, side, order_type),
            params.flag("reduceOnly"),
        )
        request.check_grid()
        return request

    @staticmethod
    def _market_unit(params: Params, instrument: Instrument, side: Side, kind: OrderType) -> str:
        """Spot market orders count ``qty`` in the quote coin for buys unless told otherwise."""
        if instrument.kind is not Kind.SPOT or kind is not OrderType.MARKET:
            return ""
        unit = params.text("marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
        if unit not in ("baseCoin", "quoteCoin"):
            raise params_error("params error: marketUnit invalid")
        return unit

    def check_grid(self) -> None:
        """Quantities on the lot step and prices on the tick, or Bybit's refusal."""
        spot = self.instrument.kind is Kind.SPOT
        if self.market_unit != "quoteCoin" and self.qty % self.instrument.amount_step != 0:
            if spot:
                raise BybitError(170137, "Order quantity has too many decimals.")
            raise params_error("params error: qty has too many decimals")
        if self.price is not None and self.price % self.instrument.price_tick != 0:
            if spot:
                raise BybitError(170134, "Order price has too many decimals.")
            raise params_error("params error: price has too many decimals")

    def base_amount(self, bid: Decimal, ask: Decimal) -> Decimal:
        """The order's amount in the base asset (a quote-coin market order at the touch)."""
        if self.market_unit != "quoteCoin":
            return self.qty
        touch = ask if self.side is Side.BUY else bid
        return self.instrument.floor_amount(self.qty / touch)

    def post_only_takes(self, bid: Decimal, ask: Decimal) -> bool:
        if self.time_in_force != "PostOnly" or self.price is None:
            return False
        return self.price >= ask if self.side is Side.BUY else self.price <= bid
