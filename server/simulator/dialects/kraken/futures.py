"""The Kraken Futures dialect (derivatives API v3): the USD-margined perpetuals ``PF_<base>USD``.

Kraken's futures are a separate API with separately issued keys, so this dialect has its own
accounts (exchange ``krakenfutures``). The simulator's linear perps (margined in USDT) are shown
as Kraken's multi-collateral perps quoted in USD (``PF_XBTUSD``, ccxt ``BTC/USD:USD``); the
account's USDT is its flex-account collateral.

Every answer is ``{"result": "success", ..., "serverTime": ...}`` or ``{"result": "error",
"error": "<code>", "serverTime": ...}``. Private requests carry ``APIKey`` and ``Authent`` =
base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath))), where
postData is the raw query string (ccxt sends every parameter there, POSTs included), the nonce
is the optional ``Nonce`` header and endpointPath the path without ``/derivatives``.

Deviations, on purpose: orders/status answers every order of the account (Kraken: open ones and
those closed in the last seconds); maintenance is answered 503 ``unavailable`` with a message
saying so; only mkt, lmt, post and ioc orders are taken.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict

from server.simulator.dialects.base import Dialect, retry_after
from server.simulator.dialects.kraken.futures_common import (
    FuturesError,
    authent,
    futures_code,
    iso,
    market_id,
    number,
)
from server.simulator.dialects.kraken.futures_orders import FuturesTrading
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import Account

if TYPE_CHECKING:
    from server.simulator.server import Simulator

Json = dict[str, Any]
Params = MultiDict[str]
Handler = Callable[[web.Request], Awaitable[web.Response]]
API, CHARTS = "/derivatives/api/v3/", "/api/charts/v1/"
RESOLUTIONS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400}
RESOLUTIONS |= {"12h": 43200, "1d": 86400, "1w": 604800}
MAX_CANDLES = 2000


class KrakenFuturesDialect(Dialect):
    name = "krakenfutures"
    prefixes = ("/derivatives/api/", "/api/charts/", "/api/history/")

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator)
        self.trading = FuturesTrading(self)
        self._by_id: dict[str, Instrument] | None = None

    @property
    def markets(self) -> dict[str, Instrument]:
        if self._by_id is None:
            linear = [i for i in self.ledger.instruments if i.kind is Kind.LINEAR]
            self._by_id = {market_id(i): i for i in linear}
        return self._by_id

    def instrument(self, symbol: str | None) -> Instrument:
        found = self.markets.get((symbol or "").upper())
        if found is None:
            raise FuturesError("contractNotFound")
        return found

    def server_time(self) -> str:
        return iso(self.now_ms())

    # -- the Dialect contract -----------------------------------------------------------------

    def api_key_of(self, request: web.Request) -> str | None:
        return request.headers.get("APIKey")

    def routes(self) -> Iterable[web.RouteDef]:
        trading = self.trading
        public: dict[str, Callable[[Params], Json]] = {
            "instruments": self.instruments,
            "tickers": self.tickers,
            "orderbook": self.orderbook,
            "instruments/status": self.instruments_status,
        }
        private: dict[tuple[str, str], Callable[[Account, Params], Json]] = {
            ("GET", "accounts"): trading.accounts,
            ("POST", "sendorder"): trading.send_order,
            ("POST", "cancelorder"): trading.cancel_order,
            ("GET", "openorders"): trading.open_orders,
            ("GET", "openpositions"): trading.open_positions,
            ("GET", "orders/status"): trading.orders_status,
            ("GET", "fills"): trading.fills,
            ("GET", "leveragepreferences"): self.leverage_preferences,
            ("PUT", "leveragepreferences"): self.set_leverage_preference,
        }
        routes = [web.get(API + path, self._public(h)) for path, h in public.items()]
        routes.append(web.get(API + "tickers/{symbol}", self._public_ticker))
        routes.append(web.get(CHARTS + "{price_type}/{symbol}/{interval}", self._charts))
        for (method, path), action in private.items():
            routes.append(web.route(method, API + path, self._private(action)))
        return routes

    def _answer(
        self, body: Json, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return web.json_response(
            {"result": "success", **body, "serverTime": self.server_time()},
            status=status,
            headers=headers,
        )

    def _error(self, code: str, status: int = 200, **extra: Any) -> web.Response:
        body = {"result": "error", "error": code, **extra, "serverTime": self.server_time()}
        return web.json_response(body, status=status)

    def rate_limited(self, retry_after_seconds: float) -> web.Response:
        response = self._error("apiLimitExceeded", 429)
        response.headers.update(retry_after(retry_after_seconds))
        return response

    def unavailable(self) -> web.Response:
        return self._error("unavailable", 503)

    def maintenance(self) -> web.Response:
        response = self._error("unavailable", 503, message="Kraken Futures is under maintenance")
        response.headers["Retry-After"] = "60"
        return response

    def not_found(self, request: web.Request) -> web.Response:
        return self._error("notFound", 404)

    # -- the request pipeline -----------------------------------------------------------------

    def _public(self, handler: Callable[[Params], Json]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                return self._answer(handler(MultiDict(request.query)))
            except FuturesError as error:
                return self._error(error.code, error.status)

        return serve

    def _private(self, action: Callable[[Account, Params], Json]) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            try:
                account = self._authenticate(request, await request.text())
                params = MultiDict(request.query)
                return self._answer(action(account, params))
            except FuturesError as error:
                return self._error(error.code, error.status)

        return serve

    def _authenticate(self, request: web.Request, body: str) -> Account:
        api_key = request.headers.get("APIKey", "")
        given = request.headers.get("Authent", "")
        account = self.account(api_key)
        if not api_key or account is None or account.revoked:
            raise FuturesError("authenticationError")
        _, _, query = request.raw_path.partition("?")
        post_data = body or query
        nonce = request.headers.get("Nonce", "")
        path = request.path.removeprefix("/derivatives")
        expected = authent(account.secret, post_data, nonce, path)
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            raise FuturesError("authenticationError")
        if not account.permissions.read:
            raise FuturesError("apiKeyAccessDenied")
        return account

    # -- leverage -----------------------------------------------------------------------------

    def leverage_preferences(self, account: Account, _params: Params) -> Json:
        """GET /derivatives/api/v3/leveragepreferences: the simulator keeps one leverage per
        account; it is reported for every market (Kraken lists the markets with a preference)."""
        return {
            "leveragePreferences": [
                {"symbol": symbol, "maxLeverage": account.leverage} for symbol in self.markets
            ]
        }

    def set_leverage_preference(self, account: Account, params: Params) -> Json:
        """PUT /derivatives/api/v3/leveragepreferences (``symbol``, ``maxLeverage``)."""
        if not account.permissions.derivatives:
            raise FuturesError("apiKeyAccessDenied")
        instrument = self.instrument(params.get("symbol"))
        try:
            leverage = Decimal(params.get("maxLeverage") or "")
        except InvalidOperation:
            raise FuturesError("invalidArgument: maxLeverage") from None
        if (
            not leverage.is_finite()
            or leverage != leverage.to_integral_value()
            or not 1 <= leverage <= instrument.max_leverage
        ):
            raise FuturesError("invalidArgument: maxLeverage")
        account.leverage = int(leverage)
        return {}

    # -- market data --------------------------------------------------------------------------

    def instruments(self, _params: Params) -> Json:
        """GET /derivatives/api/v3/instruments"""
        return {"instruments": [self._instrument(i) for i in self.markets.values()]}

    def instruments_status(self, _params: Params) -> Json:
        """GET /derivatives/api/v3/instruments/status: no dislocation, no extreme volatility."""
        return {
            "instrumentStatus": [
                {
                    "tradeable": symbol,
                    "experiencingDislocation": False,
                    "priceDislocationDirection": None,
                    "experiencingExtremeVolatility": False,
                    "extremeVolatilityInitialMarginMultiplier": 1,
                }
                for symbol in self.markets
            ]
        }

    @staticmethod
    def _instrument(instrument: Instrument) -> Json:
        return {
            "symbol": market_id(instrument),
            "type": "flexible_futures",
            "tradeable": True,
            "tickSize": number(instrument.price_tick),
            "contractSize": 1,
            "impactMidSize": 1,
            "maxPositionSize": 1_000_000,
            "openingDate": "2022-01-01T00:00:00.000Z",
            "marginLevels": [
                {"numNonContractUnits": 0, "initialMargin": 0.02, "maintenanceMargin": 0.01}
            ],
            "fundingRateCoefficient": 8,
            "maxRelativeFundingRate": 0.001,
            "contractValueTradePrecision": instrument.decimals(instrument.amount_step),
            "postOnly": False,
            "feeScheduleUid": "5b755fea-c5b0-4307-a66e-b392cd5bd931",
            "mtf": False,
            "base": futures_code(instrument.base),
            "quote": "USD",
            "pair": f"{futures_code(instrument.base)}:USD",
            "category": "",
            "tags": [],
            "tradfi": False,
        }

    def tickers(self, _params: Params) -> Json:
        """GET /derivatives/api/v3/tickers"""
        return {"tickers": [self._ticker(i) for i in self.markets.values()]}

    async def _public_ticker(self, request: web.Request) -> web.Response:
        """GET /derivatives/api/v3/tickers/{symbol}"""
        try:
            return self._answer(
                {"ticker": self._ticker(self.instrument(request.match_info["symbol"]))}
            )
        except FuturesError as error:
            return self._error(error.code, error.status)

    def _ticker(self, instrument: Instrument) -> Json:
        prices = self.simulator.prices
        now = self.simulator.clock()
        last = self.ledger.last_price(instrument)  # bid and ask one tick off this same read
        bid, ask = last - instrument.price_tick, last + instrument.price_tick
        day = prices.candles(instrument.base, 3600, since=now - 86400 + 3600, limit=24)
        volume = sum(c.volume for c in day)
        depth = instrument.floor_amount(10_000 / last) or instrument.min_amount
        opened = prices.price(instrument.base, at=now - 86400)
        return {
            "tag": "perpetual",
            "pair": f"{futures_code(instrument.base)}:USD",
            "symbol": market_id(instrument),
            "markPrice": number(last),
            "bid": number(bid),
            "bidSize": number(depth),
            "ask": number(ask),
            "askSize": number(depth),
            "vol24h": number(volume),
            "volumeQuote": number(sum(c.volume * c.close for c in day)),
            "openInterest": number(self.trading.open_interest(instrument)),
            "open24h": number(opened),
            "change24h": number(round((last - opened) / opened * 100, 2)),
            "high24h": number(max([c.high for c in day] + [last])),
            "low24h": number(min([c.low for c in day] + [last])),
            "indexPrice": number(last),
            "last": number(last),
            "lastTime": iso(now * 1000),
            "lastSize": number(instrument.min_amount),
            "suspended": False,
            "fundingRate": 0.0,
            "fundingRatePrediction": 0.0,
            "postOnly": False,
        }

    def orderbook(self, params: Params) -> Json:
        """GET /derivatives/api/v3/orderbook?symbol= (50 levels a side, one tick apart)."""
        instrument = self.instrument(params.get("symbol"))
        bid, ask = self.ledger.bid_ask(instrument)
        tick = instrument.price_tick

        def size(price: Any, i: int) -> float:
            amount = instrument.floor_amount((10_000 + 1_000 * i) / price)
            return number(max(amount, instrument.min_amount))

        bids = [
            [number(bid - i * tick), size(bid - i * tick, i)] for i in range(50) if bid > i * tick
        ]
        asks = [[number(ask + i * tick), size(ask + i * tick, i)] for i in range(50)]
        return {"orderBook": {"bids": bids, "asks": asks}}

    async def _charts(self, request: web.Request) -> web.Response:
        """GET /api/charts/v1/{price_type}/{symbol}/{interval}?from=&to= (seconds)."""
        info = request.match_info
        if (
            info["price_type"] not in ("trade", "mark", "spot")
            or info["interval"] not in RESOLUTIONS
        ):
            return web.json_response({"error": "Bad Request"}, status=400)
        instrument = self.markets.get(info["symbol"].upper())
        if instrument is None:
            return web.json_response({"error": "Bad Request"}, status=400)
        seconds = RESOLUTIONS[info["interval"]]
        try:
            start = float(request.query["from"]) if "from" in request.query else None
            end = float(request.query["to"]) if "to" in request.query else None
        except ValueError:
            return web.json_response({"error": "Bad Request"}, status=400)
        prices = self.simulator.prices
        candles = prices.candles(instrument.base, seconds, since=start, limit=MAX_CANDLES)
        if end is not None:
            candles = [c for c in candles if c.open_time <= end * 1000]
        rows = [
            {
                "time": c.open_time,
                "open": f"{c.open:f}",
                "high": f"{c.high:f}",
                "low": f"{c.low:f}",
                "close": f"{c.close:f}",
                "volume": number(c.volume) if info["price_type"] == "trade" else 0,
            }
            for c in candles
        ]
        return web.json_response({"candles": rows, "more_candles": False})
