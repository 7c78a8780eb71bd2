"""The one interface CTS uses to talk to an exchange, and its ccxt-backed implementation.

An adapter serves one connection and owns one ccxt instance (closed by :meth:`close`). It
speaks CTS's types (:mod:`server.exchange.model`): amounts and prices are ``Decimal``, and
every ccxt exception is translated into :class:`~server.exchange.errors.ExchangeError`.
Exchanges that ccxt lacks (Pionex, OrangeX) get adapters of their own behind this interface.

Limits, retries, the circuit breaker and timeouts are not the adapter's job: every call goes
through :class:`~server.exchange.access.ExchangeAccess`, which wraps adapter calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

from server.exchange.ccxt_factory import OKX_REQUEST_WINDOW_SECONDS
from server.exchange.errors import ExchangeError, ExchangeFailure, translate
from server.exchange.lookup import order_by_client_id
from server.exchange.model import (
    AssetBalance,
    Candle,
    KeyPermissions,
    Market,
    OrderInfo,
    PositionInfo,
    ServerTime,
    Ticker,
)

T = TypeVar("T")


class ExchangeAdapter(Protocol):
    exchange: str

    async def server_time(self) -> ServerTime: ...
    async def markets(self) -> list[Market]: ...
    async def balances(self) -> list[AssetBalance]: ...
    async def key_permissions(self) -> KeyPermissions: ...
    async def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]: ...
    async def candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 100
    ) -> list[Candle]: ...
    async def create_order(
        self,
        symbol: str,
        side: str,
        order_type: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str | None = None,
        reduce_only: bool = False,
    ) -> OrderInfo: ...
    async def cancel_order(self, order_id: str, symbol: str) -> OrderInfo: ...
    async def fetch_order(self, order_id: str, symbol: str) -> OrderInfo: ...
    async def find_order(self, client_order_id: str, symbol: str) -> OrderInfo | None:
        """The order this account placed in ``symbol`` with ``client_order_id``, whatever its
        state (open, filled, cancelled), or None when the exchange knows no such order: how an
        order whose answer was lost is found (or known never to have been placed)."""
        ...

    async def open_orders(self, symbol: str | None = None) -> list[OrderInfo]: ...
    @property
    def open_orders_per_symbol(self) -> bool:
        """Whether ``open_orders`` needs a symbol (the exchange has no account-wide list)."""
        ...

    @property
    def reuses_client_ids(self) -> bool:
        """Whether the exchange takes a client order id again once no open order carries it
        (so a resend with the same id is no guard against a second order)."""
        ...

    async def positions(self, symbols: Sequence[str] | None = None) -> list[PositionInfo]: ...
    async def close(self) -> None: ...

    @property
    def receive_window_seconds(self) -> float:
        """How old a signed request may be when it reaches the exchange and still be carried
        out: an order not found once it is older than this (plus clock drift) never will be."""
        ...


def decimal(value: Any) -> Decimal | None:
    """An exchange number as a Decimal (ccxt parses to float or str; neither is kept)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(value if isinstance(value, str) else repr(value))
    except (InvalidOperation, ValueError):
        return None


def _required(value: Any, what: str, exchange: str) -> Decimal:
    number = decimal(value)
    if number is None:
        raise ExchangeError(
            ExchangeFailure.BAD_RESPONSE, f"{exchange}: no {what} in the answer", exchange=exchange
        )
    return number


# Exchanges whose requests carry no ``recvWindow`` option: how old a signed request may be on
# arrival. OKX: the ``expTime`` CTS adds (see ccxt_factory). Pionex: its ±20 s timestamp window.
# Others: a conservative minute.
RECEIVE_WINDOW_SECONDS = {"okx": OKX_REQUEST_WINDOW_SECONDS, "pionex": 20.0}
DEFAULT_RECEIVE_WINDOW_SECONDS = 60.0
# Exchanges that list open orders one symbol at a time (no account-wide query).
OPEN_ORDERS_PER_SYMBOL = frozenset({"pionex", "orangex"})
# Exchanges that refuse a client order id only while an open order carries it (Kraken's
# cl_ord_id, Kraken Futures' cliOrdId); the others refuse any id used before.
REUSES_CLIENT_IDS = frozenset({"kraken"})


class MarketCache:
    """Markets are public and the same for every connection of an exchange and API type:
    load them once (single flight) and hand them to every ccxt instance of that kind."""

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[Any, Any]] = {}
        self._loading: dict[str, asyncio.Future[tuple[Any, Any]]] = {}

    def forget(self, key: str) -> None:
        self._loaded.pop(key, None)

    async def ensure(self, key: str, instance: Any) -> None:
        if instance.markets:
            return
        cached = self._loaded.get(key)
        if cached is None:
            pending = self._loading.get(key)
            if pending is None:
                future: asyncio.Future[tuple[Any, Any]] = asyncio.get_running_loop().create_future()
                self._loading[key] = future
                try:
                    markets = await instance.load_markets()
                    cached = (markets, instance.currencies)
                    self._loaded[key] = cached
                    future.set_result(cached)
                except BaseException as exc:
                    future.set_exception(exc)
                    future.exception()  # retrieved: waiters re-raise it themselves
                    raise
                finally:
                    self._loading.pop(key, None)
                return
            cached = await asyncio.shield(pending)
        instance.set_markets(cached[0], cached[1])


class CcxtAdapter:
    """:class:`ExchangeAdapter` over one ``ccxt.async_support`` instance."""

    def __init__(self, exchange: str, instance: Any, markets: MarketCache, market_key: str) -> None:
        self.exchange = exchange
        self._ccxt = instance
        self._markets = markets
        self._market_key = market_key

    @property
    def last_response_headers(self) -> dict[str, str]:
        return dict(self._ccxt.last_response_headers or {})

    @property
    def open_orders_per_symbol(self) -> bool:
        return self.exchange in OPEN_ORDERS_PER_SYMBOL

    @property
    def reuses_client_ids(self) -> bool:
        return self.exchange in REUSES_CLIENT_IDS

    @property
    def receive_window_seconds(self) -> float:
        window = (self._ccxt.options or {}).get("recvWindow")  # Binance, Bybit: sent with each
        if window:
            return float(window) / 1000
        return RECEIVE_WINDOW_SECONDS.get(self.exchange, DEFAULT_RECEIVE_WINDOW_SECONDS)

    async def _call(self, action: Callable[[], Awaitable[T]], *, needs_markets: bool = True) -> T:
        try:
            if needs_markets:
                await self._markets.ensure(self._market_key, self._ccxt)
            return await action()
        except ExchangeError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("ccxt"):
                raise translate(
                    exc, exchange=self.exchange, retry_after=self._retry_after()
                ) from exc
            raise

    def _retry_after(self) -> float | None:
        headers = {k.lower(): v for k, v in (self._ccxt.last_response_headers or {}).items()}
        value = headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    async def server_time(self) -> ServerTime:
        value = await self._call(self._fetch_time, needs_markets=False)
        received = time.time() * 1000
        if not isinstance(value, int | float):
            raise ExchangeError(
                ExchangeFailure.BAD_RESPONSE,
                f"{self.exchange}: no server time",
                exchange=self.exchange,
            )
        # ccxt stamps each request as it goes out, after CTS's gate let it through.
        sent = float(self._ccxt.lastRestRequestTimestamp or received)
        return ServerTime(int(value), sent, received)

    async def _fetch_time(self) -> Any:
        if self._ccxt.id == "krakenfutures":
            # Kraken Futures has no clock endpoint; every answer carries its serverTime.
            answer = await self._ccxt.publicGetInstrumentsStatus()
            return self._ccxt.parse8601(answer.get("serverTime"))
        return await self._ccxt.fetch_time()

    async def markets(self) -> list[Market]:
        await self._call(_nothing)
        return [
            Market(
                symbol=m["symbol"],
                base=m["base"],
                quote=m["quote"],
                type=m["type"],
                price_precision=decimal(m["precision"].get("price")),
                amount_precision=decimal(m["precision"].get("amount")),
                min_amount=decimal((m["limits"].get("amount") or {}).get("min")),
                min_cost=decimal((m["limits"].get("cost") or {}).get("min")),
                taker_fee=decimal(m.get("taker")),
            )
            for m in self._ccxt.markets.values()
        ]

    async def balances(self) -> list[AssetBalance]:
        raw = await self._call(self._ccxt.fetch_balance)
        if not isinstance(raw, dict) or "info" not in raw:
            raise ExchangeError(
                ExchangeFailure.BAD_RESPONSE,
                f"{self.exchange}: no balance in the answer",
                exchange=self.exchange,
            )
        out = []
        for asset, total in (raw.get("total") or {}).items():
            total_d = decimal(total)
            if total_d is None:
                continue
            out.append(
                AssetBalance(
                    asset=asset,
                    free=decimal(raw["free"].get(asset)) or Decimal(0),
                    used=decimal(raw["used"].get(asset)) or Decimal(0),
                    total=total_d,
                )
            )
        return sorted(out, key=lambda b: b.asset)

    async def key_permissions(self) -> KeyPermissions:
        return await self._call(self._permissions, needs_markets=False)

    async def _permissions(self) -> KeyPermissions:
        if self.exchange == "binance":
            info = await self._ccxt.sapiGetAccountApiRestrictions()
            return KeyPermissions(
                read=bool(info.get("enableReading", True)),
                spot_trading=bool(info.get("enableSpotAndMarginTrading")),
                derivatives_trading=bool(info.get("enableFutures")),
                withdrawals=bool(info.get("enableWithdrawals")),
            )
        if self.exchange == "bybit":
            result = (await self._ccxt.private_get_v5_user_query_api()).get("result") or {}
            permissions = result.get("permissions") or {}
            read_only = str(result.get("readOnly")) == "1"
            wallet = permissions.get("Wallet") or []
            return KeyPermissions(
                read=True,
                spot_trading=not read_only and bool(permissions.get("Spot")),
                derivatives_trading=not read_only
                and bool(permissions.get("ContractTrade") or permissions.get("Derivatives")),
                withdrawals="Withdraw" in wallet,
            )
        if self.exchange == "okx":
            data = (await self._ccxt.private_get_account_config()).get("data") or [{}]
            perm = {p.strip() for p in str(data[0].get("perm", "")).split(",")}
            return KeyPermissions(
                read="read_only" in perm or bool(perm),
                spot_trading="trade" in perm,
                derivatives_trading="trade" in perm,
                withdrawals="withdraw" in perm,
            )
        if self.exchange == "bingx":
            # 1 spot trading, 2 read, 3 perpetual futures trading, 5 withdrawals.
            info = await self._ccxt.accountV1PrivateGetAccountApiPermissions()
            granted = set((info.get("data") or {}).get("permissions") or [])
            return KeyPermissions(
                read=2 in granted,
                spot_trading=1 in granted,
                derivatives_trading=3 in granted,
                withdrawals=5 in granted,
            )
        if self.exchange == "orangex":
            # The scope of the key's bearer token: "trade:read_write" trades, "trade:read"
            # only reads; "wallet:read_write" may move funds.
            scope = set((await self._ccxt.fetch_access_scope()).split())
            trades = "trade:read_write" in scope
            return KeyPermissions(
                read=True,
                spot_trading=trades,
                derivatives_trading=trades,
                withdrawals="wallet:read_write" in scope,
            )
        if self._ccxt.id == "kraken":  # spot; ccxt 4.5.90 has no call for this method
            info = await self._ccxt.request("GetApiKeyInfo", ["private"], "POST")
            named = set((info.get("result") or {}).get("permissions") or [])
            return KeyPermissions(
                read="query-funds" in named,
                spot_trading="modify-trades" in named,
                derivatives_trading=False,  # Kraken's derivatives take Kraken Futures keys
                withdrawals="withdraw-funds" in named,
            )
        # Other exchanges do not tell; an authenticated balance call proved reading works.
        return KeyPermissions(
            read=True, spot_trading=None, derivatives_trading=None, withdrawals=None
        )

    async def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        wanted = list(symbols) if symbols else None
        # A margin account trades spot markets: their tickers are the spot ones (OKX lists
        # tickers of SPOT, SWAP, FUTURES or OPTION, no MARGIN).
        margin = self._ccxt.options.get("defaultType") == "margin"
        params = {"type": "spot"} if margin and wanted is None else {}
        raw = await self._call(lambda: self._ccxt.fetch_tickers(wanted, params))
        tickers = {}
        for symbol, t in raw.items():
            last = decimal(t.get("last")) or decimal(t.get("close"))
            if last is None:
                continue
            tickers[symbol] = Ticker(
                symbol,
                last,
                decimal(t.get("bid")),
                decimal(t.get("ask")),
                t.get("timestamp"),
                _quote_volume(t, last),
                decimal(t.get("percentage")),
            )
        return tickers

    async def candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 100
    ) -> list[Candle]:
        rows = await self._call(lambda: self._ccxt.fetch_ohlcv(symbol, timeframe, since_ms, limit))
        candles = []
        for row in rows:
            if not isinstance(row, list) or len(row) < 6 or any(v is None for v in row[:5]):
                raise ExchangeError(
                    ExchangeFailure.BAD_RESPONSE,
                    f"{self.exchange}: malformed candle",
                    exchange=self.exchange,
                )
            candles.append(
                Candle(
                    int(row[0]),
                    _required(row[1], "open", self.exchange),
                    _required(row[2], "high", self.exchange),
                    _required(row[3], "low", self.exchange),
                    _required(row[4], "close", self.exchange),
                    decimal(row[5]) or Decimal(0),
                )
            )
        return candles

    async def create_order(
        self,
        symbol: str,
        side: str,
        order_type: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str | None = None,
        reduce_only: bool = False,
    ) -> OrderInfo:
        params: dict[str, Any] = {}
        if client_order_id:
            params["clientOrderId"] = client_order_id
        if reduce_only:
            params["reduceOnly"] = True

        async def place() -> Any:
            # Amounts go to ccxt as decimal strings (never floats), in the exchange's unit:
            # derivatives count contracts (OKX: 0.01 BTC each), CTS counts the base asset.
            size = amount / self._contract_size(symbol)
            limit = None if price is None else str(price)
            return await self._ccxt.create_order(symbol, order_type, side, str(size), limit, params)

        return self._order(await self._call(place))

    def _contract_size(self, symbol: str) -> Decimal:
        market = self._ccxt.market(symbol)
        if not market.get("contract"):
            return Decimal(1)
        return decimal(market.get("contractSize")) or Decimal(1)

    async def cancel_order(self, order_id: str, symbol: str) -> OrderInfo:
        return self._order(await self._call(lambda: self._ccxt.cancel_order(order_id, symbol)))

    async def fetch_order(self, order_id: str, symbol: str) -> OrderInfo:
        return self._order(await self._call(lambda: self._ccxt.fetch_order(order_id, symbol)))

    async def find_order(self, client_order_id: str, symbol: str) -> OrderInfo | None:
        try:
            found = await self._call(
                lambda: order_by_client_id(self._ccxt, self.exchange, client_order_id, symbol)
            )
        except ExchangeError as exc:
            if exc.failure is ExchangeFailure.ORDER_NOT_FOUND:
                return None
            raise
        return None if found is None else self._order(found)

    async def open_orders(self, symbol: str | None = None) -> list[OrderInfo]:
        return [
            self._order(o) for o in await self._call(lambda: self._ccxt.fetch_open_orders(symbol))
        ]

    async def positions(self, symbols: Sequence[str] | None = None) -> list[PositionInfo]:
        raw = await self._call(
            lambda: self._ccxt.fetch_positions(list(symbols) if symbols else None)
        )
        positions = []
        for p in raw:
            contracts = decimal(p.get("contracts"))
            if not contracts:
                continue
            size = decimal(p.get("contractSize")) or self._contract_size(p["symbol"])
            positions.append(
                PositionInfo(
                    symbol=p["symbol"],
                    side=p.get("side") or "",
                    contracts=contracts,
                    amount=contracts * size,
                    entry_price=decimal(p.get("entryPrice")),
                    unrealized_pnl=decimal(p.get("unrealizedPnl")),
                )
            )
        return positions

    def _order(self, raw: dict[str, Any]) -> OrderInfo:
        fee = raw.get("fee") or {}
        symbol = raw.get("symbol") or ""
        # Derivatives count contracts (OKX: 0.01 BTC each); CTS counts the base asset.
        size = self._contract_size(symbol) if symbol in (self._ccxt.markets or {}) else Decimal(1)
        return OrderInfo(
            id=str(raw.get("id")),
            client_order_id=raw.get("clientOrderId"),
            symbol=symbol,
            side=raw.get("side") or "",
            type=raw.get("type") or "",
            status=raw.get("status") or "",
            amount=(decimal(raw.get("amount")) or Decimal(0)) * size,
            filled=(decimal(raw.get("filled")) or Decimal(0)) * size,
            price=decimal(raw.get("price")),
            average=decimal(raw.get("average")),
            fee=decimal(fee.get("cost")),
            timestamp_ms=raw.get("timestamp"),
        )

    async def close(self) -> None:
        await self._ccxt.close()


def _quote_volume(ticker: dict[str, Any], last: Decimal) -> Decimal | None:
    """The 24 h volume in the quote asset; from the base volume at the average (else last)
    price where ccxt gives none (its okx and krakenfutures, for perpetuals)."""
    quote = decimal(ticker.get("quoteVolume"))
    base = decimal(ticker.get("baseVolume"))
    if quote is not None or base is None:
        return quote
    return base * (decimal(ticker.get("vwap")) or last)


async def _nothing() -> None:
    return None
