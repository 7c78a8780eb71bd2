"""Building ccxt instances for a connection: the right class, options and endpoints.

One ccxt instance per connection, async, with ccxt's own rate limiter switched off (its token
bucket knows per-IP weights, not the account limits). :func:`gate_requests` sends every HTTP
request of the instance through CTS's account throttle (``server.exchange.throttle``), the one
place that spaces requests, so the two never stack delays and every request counts, including
the several that ``load_markets`` makes.

Calls that ``load_markets`` would make by default and CTS does not need (currencies, margin
pairs, market types of other API types) are cut.

For a connection on the exchange simulator, every API URL of the instance is rewritten to the
simulator's base URL, keeping its path, so that unmodified ccxt talks to it as to the exchange.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ssl
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt_async
import certifi

from server.exchange.catalogue import DIALECTS
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.venues import CCXT_CLASSES


class UnsupportedConnection(Exception):
    """No ccxt mapping for this exchange and API type."""


def rewrite_urls(urls: Any, base_url: str) -> Any:
    """Every URL string in ``urls`` (nested dicts too) moved to ``base_url``, paths kept."""
    if isinstance(urls, dict):
        return {key: rewrite_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        parts = urlsplit(urls)
        return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return urls


class HttpPool:
    """One HTTP client (connection pool and TLS context) for every ccxt instance of a server.

    On its own each ccxt instance builds a TLS context (loading the CA bundle: about 30 ms of
    CPU) and a connection pool on first use; with hundreds of connections that is seconds of
    blocked event loop, and no connection reuse between connections to the same exchange.
    Create it inside the running loop; :meth:`close` it after the instances that use it.
    """

    def __init__(self) -> None:
        self.ssl_context = ssl.create_default_context(cafile=certifi.where())
        # No pool-wide cap: the account throttles decide how many requests are in flight.
        connector = aiohttp.TCPConnector(ssl=self.ssl_context, limit=0, enable_cleanup_closed=True)
        self.session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        await self.session.close()


# How long an OKX order request stays valid: OKX signs no window into its requests, so CTS sends
# the ``expTime`` header with every trade request (placing, cancelling, amending orders; the
# exchange refuses the request after that moment). An order not found at the exchange once this
# has passed can no longer arrive there. Reads keep OKX's own 30-s timestamp tolerance.
OKX_REQUEST_WINDOW_SECONDS = 10.0
_OKX_TRADE_PATH = "/api/v5/trade/"


def expire_signed_requests(instance: Any, window_seconds: float) -> None:
    """Give every OKX trade request of ``instance`` an ``expTime`` ``window_seconds`` ahead."""
    fetch = instance.fetch

    async def fetch_until(
        url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        if method == "POST" and _OKX_TRADE_PATH in url and headers and "expTime" not in headers:
            deadline = int((time.time() + window_seconds) * 1000)
            headers = {**headers, "expTime": str(deadline)}
        return await fetch(url, method, headers, body)

    instance.fetch = fetch_until


def gate_requests(instance: Any, gate: Callable[[], AbstractAsyncContextManager[None]]) -> None:
    """Send each of ``instance``'s HTTP requests inside ``gate()``, in place of ccxt's limiter.

    ``fetch2`` is where every ccxt request passes (limiter, then signing, then sending), so the
    gate's wait comes before the signature's timestamp is taken; the instance attribute set here
    takes the place of that method, and ccxt itself is unchanged.
    """
    send = instance.fetch2

    async def fetch2(*args: Any, **kwargs: Any) -> Any:
        async with gate():
            return await send(*args, **kwargs)

    instance.fetch2 = fetch2


def create_ccxt(
    exchange: str,
    api_type: str,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    passphrase: str | None = None,
    base_url: str | None = None,
    testnet: bool = False,
    timeout_seconds: float = 10.0,
    http: HttpPool | None = None,
) -> Any:
    """A new async ccxt instance for one connection. The caller closes it.

    With ``http``, the instance sends through that shared pool instead of opening its own."""
    dialect = DIALECTS.get((exchange, api_type))
    if dialect is None:
        raise UnsupportedConnection(f"{exchange} {api_type} is not supported")
    config: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": int(timeout_seconds * 1000),
        "options": {
            "defaultType": dialect.default_type,
            "fetchMarkets": {"types": list(dialect.market_types)},
            **dict(dialect.options),
        },
    }
    if dialect.has_off:
        config["has"] = {name: False for name in dialect.has_off}
    if api_key:
        config["apiKey"] = api_key
    if secret:
        config["secret"] = secret
    if passphrase:
        config["password"] = passphrase
    if http is not None:
        config["session"] = http.session
        config["ssl_context"] = http.ssl_context
    ccxt_class = CCXT_CLASSES.get(dialect.ccxt_class) or getattr(ccxt_async, dialect.ccxt_class)
    instance = ccxt_class(config)
    if base_url:
        instance.urls["api"] = rewrite_urls(instance.urls["api"], base_url)
    elif testnet:
        if not instance.urls.get("test"):  # e.g. Pionex: no testnet
            raise UnsupportedConnection(f"{exchange} {api_type} has no testnet")
        instance.set_sandbox_mode(True)
    instance.timeout_on_exit = 0
    if dialect.order_params:
        with_order_params(instance, dict(dialect.order_params))
    if exchange == "okx":
        expire_signed_requests(instance, OKX_REQUEST_WINDOW_SECONDS)
    if exchange == "kraken":
        kraken_errors(instance, secret)
        if instance.id == "kraken" and api_key:
            increasing_nonces(instance, api_key)
    return instance


def with_order_params(instance: Any, order_params: dict[str, Any]) -> None:
    """Give every ``create_order`` of ``instance`` ``order_params`` (the caller's own params
    win): what makes a margin connection's orders margin orders."""
    create_order = instance.create_order

    async def create_with_params(
        symbol: str,
        type: str,
        side: str,
        amount: Any,
        price: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return await create_order(
            symbol, type, side, amount, price, {**order_params, **(params or {})}
        )

    instance.create_order = create_with_params


# The last nonce signed per Kraken key (by its hash), shared by every instance of that key.
_KRAKEN_NONCES: dict[str, int] = {}


def increasing_nonces(instance: Any, api_key: str) -> None:
    """Kraken needs each signed request's nonce above the key's last one; ccxt's is the
    millisecond, which two requests of one key (two connections with the same key, or one
    instance's requests in quick succession) can share. Every instance of the key draws from
    one increasing sequence: the millisecond, or one above the last nonce if that is higher."""
    key = hashlib.sha256(api_key.encode()).hexdigest()

    def nonce() -> int:
        value = max(int(instance.milliseconds()), _KRAKEN_NONCES.get(key, 0) + 1)
        _KRAKEN_NONCES[key] = value
        return value

    instance.nonce = nonce


def kraken_errors(instance: Any, secret: str | None) -> None:
    """Kraken's secrets are base64 (ccxt would fail with a decoding error at the first signed
    call), and its answer to a wrong secret, ``EAPI:Invalid signature``, is one ccxt leaves
    unmapped (a plain ExchangeError): it is an authentication failure."""
    if secret and not _is_base64(secret):
        raise ExchangeError(
            ExchangeFailure.AUTHENTICATION,
            "kraken: the API secret is not valid base64 (Kraken's secrets are base64)",
            exchange="kraken",
        )
    exact = {
        **instance.exceptions["exact"],
        "EAPI:Invalid signature": ccxt_async.AuthenticationError,
    }
    instance.exceptions = {**instance.exceptions, "exact": exact}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
