"""OrangeX perpetual futures, part one: describe(), the JSON-RPC wire, the bearer token, errors,
public market data.

Written against ccxt 4.5.90 (pinned in pyproject.toml): it uses the base class's request
pipeline (``request``, ``sign``, ``handle_errors``, ``fetch2``), ``safe_*`` helpers and
``safe_market_structure`` / ``safe_ticker`` / ``parse_order_book``, whose internals move
between versions.

Wire format (https://api.orangex.com/api/v1, openapi-docs.orangex.com, a Deribit-style
JSON-RPC 2.0 API): public methods are GET ``/api/v1/public/<method>?<params>``; private ones
POST ``/api/v1/private/<method>`` with the body ``{"jsonrpc": "2.0", "id": n, "method":
"/private/<method>", "params": {...}}`` and the header ``Authorization: bearer <access token>``.
The token comes from ``/public/auth`` with ``grant_type=client_credentials`` (the API key as
``client_id``, the secret as ``client_secret``, in the POST body, never in a URL) and lasts
``expires_in`` seconds (43,199); this class keeps it, fetches a new one shortly before it runs
out, and when a private call is refused as unauthenticated with a token it had kept (the
exchange may drop tokens early), fetches a new one and repeats the call once: an
unauthenticated call was not carried out, so repeating it cannot double an order. Every answer
is ``{"jsonrpc": "2.0", "id": ..., "result": ...}`` or ``{..., "error": {"code", "message"}}``
with HTTP 200, plus ``usIn``/``usOut`` (µs).

Facts at first hand (OrangeX's documentation): the methods, ``custom_order_id``, the auth
grant, codes 10000 (authentication), 2033 (access denied), 5001 (unknown instrument), 8000
(bad params). Second hand (notes of OrangeX's users): private calls take the token as a header,
not a parameter; ``asset_type`` is an array; instrument lists give base and quote currency
swapped (so the pair is read from the instrument name); ``get_user_position``,
``get_open_orders_by_instrument`` and ``cancel`` are the working names
(``modify_perpetual_instrument_leverage`` is documented, not reported tried); order states are
spelled ``canceled``; numbers travel as strings; 10 requests/s. From Deribit, whose API OrangeX
copies, where OrangeX's documentation is silent: the fields of order books, tickers' ``stats``,
positions' margins, ``get_user_trades_by_instrument`` and its ``{"trades": [...]}`` result, and
the codes 10004 (order not found), 10009 (not enough funds), 10028 (too many requests), 13028
(temporarily unavailable).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ccxt.async_support.base.exchange import Exchange
from ccxt.base.decimal_to_precision import TICK_SIZE
from ccxt.base.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    DuplicateOrderId,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    OnMaintenance,
    OrderImmediatelyFillable,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)
from ccxt.base.types import Entry

Json = dict[str, Any]
PERPETUAL = "PERPETUAL"
# A kept token is renewed this long before the exchange says it runs out.
TOKEN_MARGIN_MS = 60_000


class ImplicitAPI:
    """OrangeX's methods used here, as ccxt's generated ``abstract`` classes declare theirs."""

    public_get_ping = Entry("ping", "public", "GET", {"cost": 1})
    public_get_get_instruments = Entry("get_instruments", "public", "GET", {"cost": 1})
    public_get_ticker = Entry("ticker", "public", "GET", {"cost": 1})
    public_get_tickers = Entry("tickers", "public", "GET", {"cost": 1})
    public_get_get_tradingview_chart_data = Entry(
        "get_tradingview_chart_data", "public", "GET", {"cost": 1}
    )
    public_get_get_order_book = Entry("get_order_book", "public", "GET", {"cost": 1})
    public_post_auth = Entry("auth", "public", "POST", {"cost": 1})
    private_post_get_assets_info = Entry("get_assets_info", "private", "POST", {"cost": 1})
    private_post_buy = Entry("buy", "private", "POST", {"cost": 1})
    private_post_sell = Entry("sell", "private", "POST", {"cost": 1})
    private_post_cancel = Entry("cancel", "private", "POST", {"cost": 1})
    private_post_get_order_state = Entry("get_order_state", "private", "POST", {"cost": 1})
    private_post_get_open_orders_by_instrument = Entry(
        "get_open_orders_by_instrument", "private", "POST", {"cost": 1}
    )
    private_post_get_order_history_by_instrument = Entry(
        "get_order_history_by_instrument", "private", "POST", {"cost": 1}
    )
    private_post_get_user_trades_by_instrument = Entry(
        "get_user_trades_by_instrument", "private", "POST", {"cost": 1}
    )
    private_post_get_user_position = Entry("get_user_position", "private", "POST", {"cost": 1})
    private_post_modify_perpetual_instrument_leverage = Entry(
        "modify_perpetual_instrument_leverage", "private", "POST", {"cost": 1}
    )


class OrangexBase(Exchange, ImplicitAPI):  # type: ignore[misc]
    """OrangeX's wire format and public data; :class:`orangex` adds the account and trading."""

    def describe(self) -> Any:
        return self.deep_extend(
            super().describe(),
            {
                "id": "orangex",
                "name": "OrangeX",
                "countries": ["SC"],
                "version": "v1",
                "rateLimit": 100,  # about 10 requests per second
                "pro": False,
                "has": {
                    "CORS": None,
                    "spot": False,
                    "margin": False,
                    "swap": True,
                    "future": False,
                    "option": False,
                    "cancelOrder": True,
                    "createOrder": True,
                    "fetchBalance": True,
                    "fetchClosedOrders": True,
                    "fetchCurrencies": False,
                    "fetchMarkets": True,
                    "fetchMyTrades": True,
                    "fetchOHLCV": True,
                    "fetchOpenOrders": True,
                    "fetchOrder": True,
                    "fetchOrderBook": True,
                    "fetchOrders": False,
                    "fetchPositions": True,
                    "fetchTicker": True,
                    "fetchTickers": True,
                    "fetchTime": True,
                    "setLeverage": True,
                },
                "timeframes": {
                    "1m": "1",
                    "3m": "3",
                    "5m": "5",
                    "15m": "15",
                    "30m": "30",
                    "1h": "60",
                    "2h": "120",
                    "3h": "180",
                    "6h": "360",
                    "12h": "720",
                    "1d": "1D",
                },
                "urls": {
                    "api": {
                        "public": "https://api.orangex.com/api/v1",
                        "private": "https://api.orangex.com/api/v1",
                    },
                    "www": "https://www.orangex.com",
                    "doc": "https://openapi-docs.orangex.com",
                },
                "requiredCredentials": {"apiKey": True, "secret": True},
                "precisionMode": TICK_SIZE,
                "options": {
                    "defaultType": "swap",
                    # How many pages of 100 finished orders a lookup by custom_order_id reads.
                    "customOrderIdHistoryPages": 5,
                },
                "exceptions": {
                    "exact": {
                        "1000": BadRequest,  # No service found (an unknown method)
                        "2033": PermissionDenied,  # Access denied (the key's scope)
                        "5001": BadSymbol,
                        "8000": BadRequest,
                        "10000": AuthenticationError,
                        "10004": OrderNotFound,
                        "10009": InsufficientFunds,
                        "10028": RateLimitExceeded,
                        "13028": ExchangeNotAvailable,
                    },
                    "broad": {
                        "duplicate custom_order_id": DuplicateOrderId,
                        "maintenance": OnMaintenance,
                        "post only": OrderImmediatelyFillable,
                    },
                },
            },
        )

    # -- the bearer token ---------------------------------------------------------------------

    async def authenticate(self, params: Any = None) -> bool:
        """Make sure a live access token is kept; True when one had to be fetched now."""
        expires = self.safe_integer(self.options, "accessTokenExpires", 0)
        if self.options.get("accessToken") and self.milliseconds() < expires - TOKEN_MARGIN_MS:
            return False
        lock = self.__dict__.setdefault("_token_lock", asyncio.Lock())
        async with lock:  # one grant at a time; the others use its token
            expires = self.safe_integer(self.options, "accessTokenExpires", 0)
            if self.options.get("accessToken") and self.milliseconds() < expires - TOKEN_MARGIN_MS:
                return False
            self.check_required_credentials()
            request = {
                "grant_type": "client_credentials",
                "client_id": self.apiKey,
                "client_secret": self.secret,
            }
            response = await self.public_post_auth(self.extend(request, params or {}))
            result = self.safe_dict(response, "result", {})
            token = self.safe_string(result, "access_token")
            if not token:
                raise AuthenticationError(f"{self.id} /public/auth answered no access token")
            lifetime = self.safe_integer(result, "expires_in", 0)
            self.options["accessToken"] = token
            self.options["accessTokenExpires"] = self.milliseconds() + lifetime * 1000
            self.options["accessScope"] = self.safe_string(result, "scope", "")
            return True

    def forget_token(self) -> None:
        for key in ("accessToken", "accessTokenExpires", "accessScope"):
            self.options.pop(key, None)

    async def fetch_access_scope(self) -> str:
        """The scope of the key's access token (``trade:read_write`` for a key that trades)."""
        await self.authenticate()
        return str(self.options.get("accessScope") or "")

    async def request(
        self,
        path: str,
        api: Any = "public",
        method: str = "GET",
        params: Any = None,
        config: Any = None,
    ) -> Any:
        if api != "private":
            return await super().request(path, api, method, params or {}, config or {})
        fetched = await self.authenticate()
        try:
            return await super().request(path, api, method, params or {}, config or {})
        except AuthenticationError:
            if fetched:
                raise
            self.forget_token()  # refused with a kept token: the exchange dropped it
            await self.authenticate()
            return await super().request(path, api, method, params or {}, config or {})

    # -- the request pipeline -----------------------------------------------------------------

    def sign(
        self,
        path: str,
        api: Any = "public",
        method: str = "GET",
        params: Any = None,
        headers: Any = None,
        body: Any = None,
    ) -> Json:
        params = params or {}
        url = f"{self.urls['api'][api]}/{api}/{path}"
        if method == "GET":
            query = self.urlencode(params)
            url += f"?{query}" if query else ""
            return {"url": url, "method": method, "body": None, "headers": headers}
        rpc = {"jsonrpc": "2.0", "id": self.milliseconds(), "method": f"/{api}/{path}"}
        body = self.json(self.extend(rpc, {"params": params}))
        headers = {"Content-Type": "application/json"}
        if api == "private":
            headers["Authorization"] = f"bearer {self.options.get('accessToken', '')}"
        return {"url": url, "method": method, "body": body, "headers": headers}

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        if not isinstance(response, dict) or not isinstance(response.get("error"), dict):
            return None  # not a refusal in OrangeX's envelope: ccxt's HTTP status mapping applies
        error = response["error"]
        error_code = self.safe_string(error, "code")
        message = self.safe_string(error, "message", "")
        feedback = f"{self.id} {error_code} {message}"
        self.throw_broadly_matched_exception(self.exceptions["broad"], message, feedback)
        self.throw_exactly_matched_exception(self.exceptions["exact"], error_code, feedback)
        raise ExchangeError(feedback)

    # -- public data --------------------------------------------------------------------------

    async def fetch_time(self, params: Any = None) -> Any:
        """OrangeX has no clock method: the time its envelope says it answered (``usOut``)."""
        response = await self.public_get_ping(params or {})
        out = self.safe_integer(response, "usOut")
        return None if out is None else out // 1000

    async def fetch_markets(self, params: Any = None) -> Any:
        request = {"currency": PERPETUAL, "kind": "perpetual"}
        response = await self.public_get_get_instruments(self.extend(request, params or {}))
        instruments = self.safe_list(response, "result", [])
        return [
            self.parse_market(entry)
            for entry in instruments
            if self.safe_string(entry, "kind") == "perpetual"
        ]

    def parse_market(self, market: Json) -> Any:
        market_id = self.safe_string(market, "instrument_name", "")
        # BTC-USDT-PERPETUAL; base_currency and quote_currency come swapped at OrangeX.
        base_id, quote_id = [*market_id.split("-"), "", ""][:2]
        base = self.safe_currency_code(base_id)
        quote = self.safe_currency_code(quote_id)
        return self.safe_market_structure(
            {
                "id": market_id,
                "symbol": f"{base}/{quote}:{quote}",
                "base": base,
                "quote": quote,
                "settle": quote,
                "baseId": base_id,
                "quoteId": quote_id,
                "settleId": quote_id,
                "type": "swap",
                "spot": False,
                "margin": False,
                "swap": True,
                "future": False,
                "option": False,
                "contract": True,
                "linear": True,
                "inverse": False,
                "active": self.safe_bool(market, "is_active"),
                "contractSize": self.safe_number(market, "contract_size"),
                "expiry": None,
                "expiryDatetime": None,
                "strike": None,
                "optionType": None,
                "taker": self.safe_number(market, "taker_commission"),
                "maker": self.safe_number(market, "maker_commission"),
                "precision": {
                    "amount": self.safe_number(market, "min_trade_amount"),
                    "price": self.safe_number(market, "tick_size"),
                },
                "limits": {
                    "leverage": {"min": 1, "max": self.safe_number(market, "max_leverage")},
                    "amount": {"min": self.safe_number(market, "min_qty"), "max": None},
                    "price": {"min": None, "max": None},
                    "cost": {"min": self.safe_number(market, "min_notional"), "max": None},
                },
                "created": self.safe_integer(market, "creation_timestamp"),
                "info": market,
            }
        )

    async def fetch_ticker(self, symbol: str, params: Any = None) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        request = {"instrument_name": market["id"]}
        response = await self.public_get_ticker(self.extend(request, params or {}))
        return self.parse_ticker(self.safe_dict(response, "result", {}), market)

    async def fetch_tickers(self, symbols: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        symbols = self.market_symbols(symbols)
        request: Json = {"currency": PERPETUAL}
        if symbols and len(symbols) == 1:
            request = {"instrument_name": self.market_id(symbols[0])}
        response = await self.public_get_tickers(self.extend(request, params or {}))
        result = {}
        for entry in self.safe_list(response, "result", []):
            ticker = self.parse_ticker(entry)
            result[ticker["symbol"]] = ticker
        return self.filter_by_array_tickers(result, "symbol", symbols)

    def parse_ticker(self, ticker: Json, market: Any = None) -> Any:
        market = self.safe_market(self.safe_string(ticker, "instrument_name"), market)
        stats = self.safe_dict(ticker, "stats", {})
        timestamp = self.safe_integer(ticker, "timestamp")
        last = self.safe_string(ticker, "last_price")
        return self.safe_ticker(
            {
                "symbol": market["symbol"],
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "high": self.safe_string(stats, "high"),
                "low": self.safe_string(stats, "low"),
                "bid": self.safe_string(ticker, "best_bid_price"),
                "bidVolume": self.safe_string(ticker, "best_bid_amount"),
                "ask": self.safe_string(ticker, "best_ask_price"),
                "askVolume": self.safe_string(ticker, "best_ask_amount"),
                "close": last,
                "last": last,
                "percentage": self.safe_string(stats, "price_change"),
                "baseVolume": self.safe_string(stats, "volume"),
                "quoteVolume": self.safe_string(stats, "turnover"),
                "markPrice": self.safe_string(ticker, "mark_price"),
                "indexPrice": self.safe_string(ticker, "index_price"),
                "info": ticker,
            },
            market,
        )

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: Any = None,
        limit: Any = None,
        params: Any = None,
    ) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        limit = min(limit or 100, 1000)
        duration = self.parse_timeframe(timeframe) * 1000
        now = self.milliseconds()
        if since is None:
            start = now // duration * duration - (limit - 1) * duration
            end = now
        else:
            start = since
            end = min(since + limit * duration - 1, now)
        request = {
            "instrument_name": market["id"],
            "resolution": self.safe_string(self.timeframes, timeframe, timeframe),
            "start_timestamp": start,
            "end_timestamp": end,
        }
        response = await self.public_get_get_tradingview_chart_data(
            self.extend(request, params or {})
        )
        candles = self.safe_list(response, "result", [])
        return self.parse_ohlcvs(candles, market, timeframe, since, limit)

    def parse_ohlcv(self, ohlcv: Any, market: Any = None) -> Any:
        return [
            self.safe_integer(ohlcv, "tick"),
            self.safe_number(ohlcv, "open"),
            self.safe_number(ohlcv, "high"),
            self.safe_number(ohlcv, "low"),
            self.safe_number(ohlcv, "close"),
            self.safe_number(ohlcv, "volume"),
        ]

    async def fetch_order_book(self, symbol: str, limit: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        request: Json = {"instrument_name": market["id"]}
        if limit is not None:
            request["depth"] = min(limit, 1000)
        response = await self.public_get_get_order_book(self.extend(request, params or {}))
        result = self.safe_dict(response, "result", {})
        timestamp = self.safe_integer(result, "timestamp")
        book = self.parse_order_book(result, market["symbol"], timestamp)
        book["nonce"] = self.safe_integer(result, "change_id")
        return book
