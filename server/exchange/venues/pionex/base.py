"""Pionex, part one: describe(), signing, errors, public market data (spot and perpetuals).

Written against ccxt 4.5.90 (pinned in pyproject.toml): it uses the base class's request
pipeline (``sign``, ``handle_errors``, ``fetch2``), ``safe_*`` helpers and ``safe_market_structure``
/ ``safe_ticker`` / ``safe_order`` / ``safe_trade`` / ``safe_balance``, whose internals move
between versions.

Wire format (https://api.pionex.com, openapi.yaml of pionex-official/pionex-open-api):
private requests carry ``timestamp`` (ms, ±20 s) in the query and the headers ``PIONEX-KEY`` and
``PIONEX-SIGNATURE`` = hex HMAC-SHA256(secret, METHOD + PATH + "?" + query sorted by key +
JSON body for POST/DELETE). Every answer is ``{"result": true, "data": ..., "timestamp": ms}``
or ``{"result": false, "code": "...", "message": "..."}``.

What the API lacks: no server-time endpoint (``fetch_time`` reads the envelope's timestamp of a
light public call); order status is only OPEN or CLOSED (CLOSED without the whole size filled
is ccxt's ``canceled``); open orders, order history and fills need a symbol; market buys are
sized in the quote asset (ccxt's ``createMarketBuyOrderRequiresPrice`` convention, or, with
the option ``marketBuyCostFromBook``, the amount at the best ask); order lookups are
account-wide, so an order of another symbol than the one asked for is reported not found.
Insufficient funds and duplicate client order ids are told apart by Pionex's message text
(``TRADE_OPERATION_DENIED``), which its documentation does not give: the simulator's texts.

Perpetuals (openapi_futures.yaml, "Beta"): USDT-margined ``BTC_USDT_PERP`` markets, listed by
the same ``/api/v1/common/symbols`` and market-data paths with ``type=PERP`` (best bid and ask
at ``/api/v1/market/bookTicker``); the account and trading under ``/uapi/v1`` (see
``futures.py``). Which kind a call is for comes from its market, else ``options.defaultType``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ccxt.async_support.base.exchange import Exchange
from ccxt.base.decimal_to_precision import TICK_SIZE
from ccxt.base.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    DuplicateOrderId,
    ExchangeError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)

from server.exchange.venues.pionex.endpoints import ImplicitAPI

Json = dict[str, Any]


class PionexBase(Exchange, ImplicitAPI):  # type: ignore[misc]
    """Pionex's wire format and public data; :class:`pionex` adds the account and trading."""

    #: Pionex's perpetual symbols end in this (``BTC_USDT_PERP``).
    PERP_SUFFIX = "_PERP"

    def describe(self) -> Any:
        return self.deep_extend(
            super().describe(),
            {
                "id": "pionex",
                "name": "Pionex",
                "countries": ["SG"],
                "version": "v1",
                "rateLimit": 100,  # 10 requests (weight) per second per IP and per account
                "pro": False,
                "has": {
                    "CORS": None,
                    "spot": True,
                    "margin": False,
                    "swap": True,
                    "future": False,
                    "option": False,
                    "cancelOrder": True,
                    "createMarketBuyOrderWithCost": True,
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
                    "fetchOrders": True,
                    "fetchLeverage": True,
                    "fetchPositions": True,
                    "setLeverage": True,
                    "fetchTicker": True,
                    "fetchTickers": True,
                    "fetchTime": True,
                },
                "timeframes": {
                    "1m": "1M",
                    "5m": "5M",
                    "15m": "15M",
                    "30m": "30M",
                    "1h": "60M",
                    "4h": "4H",
                    "8h": "8H",
                    "12h": "12H",
                    "1d": "1D",
                    "1w": "1W",  # perpetuals only
                    "1M": "1m",  # perpetuals only: a month
                },
                "urls": {
                    "api": {
                        "public": "https://api.pionex.com",
                        "private": "https://api.pionex.com",
                    },
                    "www": "https://www.pionex.com",
                    "doc": "https://pionex-doc.gitbook.io/apidocs",
                },
                "requiredCredentials": {"apiKey": True, "secret": True},
                "fees": {
                    "trading": {
                        "tierBased": False,
                        "percentage": True,
                        "maker": self.parse_number("0.0005"),
                        "taker": self.parse_number("0.0005"),
                    }
                },
                "precisionMode": TICK_SIZE,
                "options": {
                    "defaultType": "spot",  # or "swap": calls without a market are for that
                    "fetchMarkets": {"types": ["spot"]},  # "spot" and/or "swap"
                    "swapFees": {"maker": "0.0002", "taker": "0.0005"},  # not in the API
                    "createMarketBuyOrderRequiresPrice": True,
                    "marketBuyCostFromBook": False,  # True: price a market buy at the best ask
                    "fetchTimeSymbol": "BTC_USDT",  # any listed market: its envelope has the time
                },
                "exceptions": {
                    "exact": {
                        "APIKEY_LOST": AuthenticationError,
                        "SIGNATURE_LOST": AuthenticationError,
                        "INVALID_APIKEY": AuthenticationError,
                        "INVALID_SIGNATURE": AuthenticationError,
                        "APIKEY_EXPIRED": AuthenticationError,
                        "INVALID_TIMESTAMP": InvalidNonce,
                        "IP_NOT_WHITELISTED": PermissionDenied,
                        "PERMISSION_DENIED": PermissionDenied,
                        "TRADE_INVALID_SYMBOL": BadSymbol,
                        "TRADE_PARAMETER_ERROR": BadRequest,
                        "TRADE_OPERATION_DENIED": InvalidOrder,
                        "TRADE_ORDER_NOT_FOUND": OrderNotFound,
                        "MARKET_INVALID_SYMBOL": BadSymbol,
                        "MARKET_PARAMETER_ERROR": BadRequest,
                        "MARKET_INVALID_TIME": BadRequest,
                        "RATE_LIMIT": RateLimitExceeded,  # with HTTP 429 (no code documented)
                    },
                    # Messages of TRADE_OPERATION_DENIED, read as the refusal they name.
                    "broad": {
                        "nsufficient balance": InsufficientFunds,
                        "uplicate clientOrderId": DuplicateOrderId,
                    },
                },
            },
        )

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
        base = self.urls["api"][api]
        if api == "public":
            query = self.urlencode(self.keysort(params))
            url = f"{base}/{path}" + (f"?{query}" if query else "")
            return {"url": url, "method": method, "body": None, "headers": headers}
        self.check_required_credentials()
        query_params = {"timestamp": self.milliseconds()}
        if method == "GET":
            query_params = self.extend(params, query_params)
        else:
            body = self.json(params)
        ordered = self.keysort(query_params)
        payload = f"{method}/{path}?{self.rawencode(ordered)}" + (body or "")
        signature = self.hmac(self.encode(payload), self.encode(self.secret), hashlib.sha256)
        headers = {"PIONEX-KEY": self.apiKey, "PIONEX-SIGNATURE": signature}
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = f"{base}/{path}?{self.urlencode(ordered)}"
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
        if not isinstance(response, dict) or response.get("result") is not False:
            return None  # not an envelope refusal: ccxt's HTTP status mapping applies
        error_code = self.safe_string(response, "code")
        message = self.safe_string(response, "message", "")
        feedback = f"{self.id} {error_code} {message}"
        self.throw_broadly_matched_exception(self.exceptions["broad"], message, feedback)
        self.throw_exactly_matched_exception(self.exceptions["exact"], error_code, feedback)
        if code == 429 or code >= 500:
            return None  # RateLimitExceeded / ExchangeNotAvailable by status
        raise ExchangeError(feedback)

    # -- public data --------------------------------------------------------------------------

    async def fetch_time(self, params: Any = None) -> Any:
        request = {"symbol": self.options["fetchTimeSymbol"]}
        response = await self.public_get_market_booktickers(self.extend(request, params or {}))
        return self.safe_integer(response, "timestamp")

    async def fetch_markets(self, params: Any = None) -> Any:
        types = self.safe_list(self.safe_dict(self.options, "fetchMarkets", {}), "types", ["spot"])
        markets = []
        for kind in types:
            request = self.extend({"type": "PERP" if kind == "swap" else "SPOT"}, params or {})
            response = await self.public_get_common_symbols(request)
            symbols = self.safe_list(self.safe_dict(response, "data", {}), "symbols", [])
            markets += [self.parse_market(entry) for entry in symbols]
        return markets

    def is_swap_call(self, method: str, symbol: Any, params: Any) -> tuple[bool, Json]:
        """Whether a call is for perpetuals (its market's type, else ``params['type']`` or
        ``options.defaultType``), and the params without ``type``."""
        market = self.market(symbol) if symbol is not None else None
        kind, rest = self.handle_market_type_and_params(method, market, params or {})
        return kind == "swap", rest

    def parse_market(self, market: Json) -> Any:
        if self.safe_string(market, "contractType") == "PERPETUAL":
            return self.parse_swap_market(market)  # futures.py
        market_id = self.safe_string(market, "symbol")
        base_id = self.safe_string(market, "baseCurrency")
        quote_id = self.safe_string(market, "quoteCurrency")
        base = self.safe_currency_code(base_id)
        quote = self.safe_currency_code(quote_id)
        fees = self.fees["trading"]
        return self.safe_market_structure(
            {
                "id": market_id,
                "symbol": f"{base}/{quote}",
                "base": base,
                "quote": quote,
                "baseId": base_id,
                "quoteId": quote_id,
                "type": "spot",
                "spot": True,
                "margin": False,
                "swap": False,
                "future": False,
                "option": False,
                "contract": False,
                "active": self.safe_bool(market, "enable"),
                "taker": fees["taker"],
                "maker": fees["maker"],
                "precision": {
                    "amount": self.parse_number(
                        self.parse_precision(self.safe_string(market, "basePrecision"))
                    ),
                    "price": self.parse_number(
                        self.parse_precision(self.safe_string(market, "quotePrecision"))
                    ),
                    "cost": self.parse_number(
                        self.parse_precision(self.safe_string(market, "amountPrecision"))
                    ),
                },
                "limits": {
                    "leverage": {"min": None, "max": None},
                    "amount": {
                        "min": self.safe_number(market, "minTradeSize"),
                        "max": self.safe_number(market, "maxTradeSize"),
                    },
                    "price": {"min": None, "max": None},
                    "cost": {"min": self.safe_number(market, "minAmount"), "max": None},
                },
                "created": None,
                "info": market,
            }
        )

    async def fetch_ticker(self, symbol: str, params: Any = None) -> Any:
        tickers = await self.fetch_tickers([symbol], params)
        if symbol not in tickers:
            raise BadSymbol(f"{self.id} has no ticker for {symbol}")
        return tickers[symbol]

    async def fetch_tickers(self, symbols: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        symbols = self.market_symbols(symbols)
        swap, params = self.is_swap_call("fetch_tickers", symbols[0] if symbols else None, params)
        request: Json = {"type": "PERP" if swap else "SPOT"}
        if symbols and len(symbols) == 1:
            request = {"symbol": self.market_id(symbols[0])}
        request = self.extend(request, params)
        daily = await self.public_get_market_tickers(request)
        if swap:  # the futures API names it in the singular
            books = await self.public_get_market_bookticker(request)
        else:
            books = await self.public_get_market_booktickers(request)
        book_by_id = {
            self.safe_string(b, "symbol"): b
            for b in self.safe_list(self.safe_dict(books, "data", {}), "tickers", [])
        }
        result = {}
        for entry in self.safe_list(self.safe_dict(daily, "data", {}), "tickers", []):
            book = book_by_id.get(self.safe_string(entry, "symbol"), {})
            ticker = self.parse_ticker(self.extend(entry, {"book": book}))
            result[ticker["symbol"]] = ticker
        return self.filter_by_array_tickers(result, "symbol", symbols)

    def parse_ticker(self, ticker: Json, market: Any = None) -> Any:
        market = self.market_of(self.safe_string(ticker, "symbol"), market)
        book = self.safe_dict(ticker, "book", {})
        timestamp = self.safe_integer(ticker, "time")
        close = self.safe_string(ticker, "close")
        return self.safe_ticker(
            {
                "symbol": market["symbol"],
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "high": self.safe_string(ticker, "high"),
                "low": self.safe_string(ticker, "low"),
                "bid": self.safe_string(book, "bidPrice"),
                "bidVolume": self.safe_string(book, "bidSize"),
                "ask": self.safe_string(book, "askPrice"),
                "askVolume": self.safe_string(book, "askSize"),
                "open": self.safe_string(ticker, "open"),
                "close": close,
                "last": close,
                "baseVolume": self.safe_string(ticker, "volume"),
                "quoteVolume": self.safe_string(ticker, "amount"),
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
        limit = min(limit or 100, 500)
        request: Json = {
            "symbol": market["id"],
            "interval": self.safe_string(self.timeframes, timeframe, timeframe),
            "limit": limit,
        }
        if since is not None:  # Pionex pages back from endTime only
            duration = self.parse_timeframe(timeframe) * 1000
            request["endTime"] = min(since + limit * duration - 1, self.milliseconds())
        response = await self.public_get_market_klines(self.extend(request, params or {}))
        klines = self.safe_list(self.safe_dict(response, "data", {}), "klines", [])
        return self.parse_ohlcvs(klines, market, timeframe, since, limit)

    def parse_ohlcv(self, ohlcv: Any, market: Any = None) -> Any:
        return [
            self.safe_integer(ohlcv, "time"),
            self.safe_number(ohlcv, "open"),
            self.safe_number(ohlcv, "high"),
            self.safe_number(ohlcv, "low"),
            self.safe_number(ohlcv, "close"),
            self.safe_number(ohlcv, "volume"),
        ]

    async def fetch_order_book(self, symbol: str, limit: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        request: Json = {"symbol": market["id"]}
        if limit is not None:
            request["limit"] = min(limit, 1000)
        response = await self.public_get_market_depth(self.extend(request, params or {}))
        data = self.safe_dict(response, "data", {})
        timestamp = self.safe_integer(data, "updateTime")
        return self.parse_order_book(data, market["symbol"], timestamp)

    def market_of(self, market_id: Any, market: Any = None) -> Any:
        """The market of a Pionex symbol: perpetual ids end in ``_PERP``."""
        kind = "swap" if str(market_id).endswith(self.PERP_SUFFIX) else "spot"
        return self.safe_market(market_id, market, "_", kind)

    # -- account ------------------------------------------------------------------------------

    async def fetch_balance(self, params: Any = None) -> Any:
        """The spot account's balances, or (``type`` swap) the futures account's cross-margin
        balances; isolated positions' margin is left out."""
        await self.load_markets()
        swap, params = self.is_swap_call("fetch_balance", None, params)
        if swap:
            response = await self.private_get_uapi_account_balances(params)
        else:
            response = await self.private_get_account_balances(params)
        result: Json = {"info": response}
        for entry in self.safe_list(self.safe_dict(response, "data", {}), "balances", []):
            account = self.account()
            account["free"] = self.safe_string(entry, "free")
            account["used"] = self.safe_string(entry, "frozen")
            result[self.safe_currency_code(self.safe_string(entry, "coin"))] = account
        return self.safe_balance(result)
