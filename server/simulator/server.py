"""The exchange simulator: one HTTP server that speaks the Binance, Bybit and OKX dialects.

It is clearly a simulator: every response carries ``X-Simulator: CTS exchange simulator``, and
its control API lives under ``/__simulator/``. The control API (all but ``health``) needs
``authorization: Bearer <control token>`` and refuses cross-origin requests (any ``Origin``
header) and bodies that are not JSON, so a web page cannot inject faults; its request log shows
API keys masked as CTS shows them (the last four characters). Run it with ``cts simulator`` or
start it in process (``await Simulator(...).start()``) in tests.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from server.simulator.dialects.base import Dialect
from server.simulator.faults import FaultBoard
from server.simulator.ledger import Account, Ledger, Permissions
from server.simulator.prices import PriceBook

log = logging.getLogger("cts.simulator")

SIMULATOR_HEADER = ("X-Simulator", "CTS exchange simulator")
CONTROL_PREFIX = "/__simulator/"
# The methods of requests that change state (orders placed or cancelled): the ones whose answers
# the ``lose_answers`` fault loses.
STATE_CHANGING = frozenset({"POST", "DELETE"})
DEMO_BALANCES: dict[str, Decimal | str | int] = {
    "USDT": Decimal(10_000),
    "BTC": Decimal("0.25"),
    "ETH": Decimal(2),
}


def masked_key(api_key: str | None) -> str | None:
    """A key as CTS shows it: its last four characters (keys of 12+ characters), else ****."""
    if not api_key:
        return api_key
    return f"****{api_key[-4:]}" if len(api_key) >= 12 else "****"


def all_dialects() -> list[type[Dialect]]:
    from server.simulator.dialects.binance import BinanceDialect
    from server.simulator.dialects.bingx import BingxDialect
    from server.simulator.dialects.bybit import BybitDialect
    from server.simulator.dialects.kraken import KrakenDialect, KrakenFuturesDialect
    from server.simulator.dialects.okx import OkxDialect
    from server.simulator.dialects.orangex import OrangexDialect
    from server.simulator.dialects.pionex import PionexDialect

    return [
        BinanceDialect,
        BybitDialect,
        OkxDialect,
        BingxDialect,
        KrakenDialect,
        KrakenFuturesDialect,
        PionexDialect,
        OrangexDialect,
    ]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the simulator received it (for tests and the control API)."""

    time: float
    exchange: str
    method: str
    path: str
    api_key: str | None
    status: int


@dataclass
class Limits:
    """The simulator's own rate limits per exchange and key (or client address)."""

    per_second: int = 50
    per_minute: int = 2400


class Windows:
    """Sliding one-second and one-minute windows of request times per caller."""

    def __init__(self) -> None:
        self._times: dict[tuple[str, str], deque[float]] = {}

    def admit(self, exchange: str, caller: str, limits: Limits, now: float) -> bool:
        times = self._times.setdefault((exchange, caller), deque())
        while times and times[0] <= now - 60:
            times.popleft()
        in_second = sum(1 for t in reversed(times) if t > now - 1)
        if in_second >= limits.per_second or len(times) >= limits.per_minute:
            return False
        times.append(now)
        return True


class Simulator:
    def __init__(
        self,
        *,
        seed: int = 0,
        volatility: float = 5e-4,
        clock: Callable[[], float] = time.time,
        dialects: Iterable[type[Dialect]] | None = None,
        limits: Limits | None = None,
        control_token: str | None = None,
    ) -> None:
        #: Guards the control API; a fresh random one unless given (``cts simulator`` keeps it
        #: in ``$CTS_DATA_DIR/simulator.token``).
        self.control_token = control_token or secrets.token_urlsafe(32)
        self.clock = clock
        self.prices = PriceBook(seed, volatility=volatility, clock=clock)
        self.faults = FaultBoard()
        self.requests: deque[RequestRecord] = deque(maxlen=50_000)
        self._windows = Windows()
        self.dialects = [cls(self) for cls in (dialects or all_dialects())]
        self.ledgers = {d.name: Ledger(d.name, self.prices, clock) for d in self.dialects}
        self.limits = {d.name: limits or Limits() for d in self.dialects}
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._answered = asyncio.Event()  # set (and replaced) whenever a request is recorded
        self.base_url = ""

    # -- control ------------------------------------------------------------------------------

    def open_account(
        self,
        exchange: str,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
        balances: dict[str, Decimal | str | int] | None = None,
        permissions: Permissions | None = None,
    ) -> Account:
        """A new account; keys are generated unless given. OKX accounts always get a passphrase."""
        if exchange == "okx" and passphrase is None:
            passphrase = secrets.token_urlsafe(12)
        return self.ledgers[exchange].open_account(
            api_key or f"sim-{exchange}-{secrets.token_hex(12)}",
            secret or secrets.token_hex(24),
            passphrase=passphrase,
            balances=DEMO_BALANCES if balances is None else balances,
            permissions=permissions,
        )

    def account(self, api_key: str) -> Account:
        for ledger in self.ledgers.values():
            if api_key in ledger.accounts:
                return ledger.accounts[api_key]
        raise KeyError(api_key)

    def exchange_time_ms(self, exchange: str) -> int:
        skew = self.faults.effective(exchange, None).clock_skew_ms
        return int(self.clock() * 1000) + skew

    def requests_since(self, since: float, *, exchange: str | None = None) -> list[RequestRecord]:
        return [
            r
            for r in self.requests
            if r.time >= since and (exchange is None or r.exchange == exchange)
        ]

    # -- serving ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        for dialect in self.dialects:
            app.add_routes(list(dialect.routes()))
        app.add_routes(self._control_routes())
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); returns the base URL."""
        self._stopping.clear()
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_port=False)
        await site.start()
        server = site._server
        assert server is not None
        bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://{host}:{bound}"
        log.info("exchange simulator listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _dialect_for(self, path: str) -> Dialect | None:
        """The dialect with the longest prefix of ``path`` (Pionex's /api/v1/trade/ is inside
        Binance's /api/v1/)."""
        found = [(len(p), d) for d in self.dialects for p in d.prefixes if path.startswith(p)]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            refusal = self._control_refusal(request)
            response = refusal if refusal is not None else await handler(request)
            response.headers[SIMULATOR_HEADER[0]] = SIMULATOR_HEADER[1]
            return response
        received = self.clock()
        dialect = self._dialect_for(request.path)
        if dialect is None:
            return web.json_response(
                {"error": f"no simulated exchange serves {request.path}"}, status=404
            )
        api_key = dialect.api_key_of(request)
        response = await self._answer(dialect, api_key, request, handler, received)
        latency_ms = self.faults.effective(dialect.name, api_key).latency_ms
        if latency_ms > 0:
            await asyncio.sleep(latency_ms / 2000)  # the way back
        response.headers[SIMULATOR_HEADER[0]] = SIMULATOR_HEADER[1]
        self.requests.append(
            RequestRecord(
                received, dialect.name, request.method, request.path, api_key, response.status
            )
        )
        answered, self._answered = self._answered, asyncio.Event()
        answered.set()
        return response

    async def answered(self, accept: Callable[[RequestRecord], bool]) -> RequestRecord:
        """The first request recorded from now on (answered, or carried out for a client that
        went away) that ``accept`` accepts; waits for it (use a timeout)."""
        seen = len(self.requests)
        while True:
            recent = list(self.requests)[seen:] if seen <= len(self.requests) else []
            for record in recent:
                if accept(record):
                    return record
            seen = len(self.requests)
            await self._answered.wait()

    async def _answer(
        self,
        dialect: Dialect,
        api_key: str | None,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        received: float,
    ) -> web.StreamResponse:
        faults = self.faults.effective(dialect.name, api_key)
        if request.body_exists:
            # Received in full before any delay: a client that goes away after sending (killed,
            # timed out) has still placed its order, as on a real exchange.
            await request.read()
        if faults.latency_ms > 0:
            # Half on the way in, half on the way out (see _middleware): the exchange's clock is
            # read in the middle of the round trip, as on a real network.
            await asyncio.sleep(faults.latency_ms / 2000)
        if faults.hang:
            # Until the client gives up (the request is cancelled) or the simulator stops.
            await self._stopping.wait()
            return dialect.unavailable()
        if faults.maintenance:
            return dialect.maintenance()
        if faults.down or self.faults.random_error(faults.error_rate):
            return dialect.unavailable()
        if self.faults.take_rate_limit(dialect.name, api_key):
            return dialect.rate_limited(faults.retry_after_seconds)
        caller = api_key or (request.remote or "anonymous")
        ban = dialect.banned(caller, received)
        if ban is not None:
            return ban
        if not self._windows.admit(dialect.name, caller, self.limits[dialect.name], received):
            return dialect.over_limit(caller, received)
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            return dialect.not_found(request)
        if request.method in STATE_CHANGING and self.faults.take_lost_answer(dialect.name, api_key):
            # Carried out, but the answer never reaches the client (a gateway lost it).
            return dialect.unavailable()
        return response

    # -- the control API ----------------------------------------------------------------------

    def _control_refusal(self, request: web.Request) -> web.Response | None:
        """Why a control request is refused (None: it may go on). Health is open."""
        if request.path == CONTROL_PREFIX + "health":
            return None
        if "Origin" in request.headers:
            return web.json_response(
                {"error": "cross-origin control requests are refused"}, status=403
            )
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self.control_token.encode()
        ):
            return web.json_response(
                {"error": "the control API needs 'authorization: Bearer <control token>'"},
                status=401,
            )
        if (
            request.method in ("POST", "PUT", "PATCH")
            and request.content_type != "application/json"
        ):
            return web.json_response({"error": "control requests carry JSON"}, status=415)
        return None

    def _control_routes(self) -> list[web.RouteDef]:
        p = CONTROL_PREFIX
        return [
            web.get(p + "health", self._health),
            web.post(p + "accounts", self._open_account),
            web.post(p + "accounts/{api_key}/revoke", self._revoke),
            web.post(p + "accounts/{api_key}/restore", self._restore),
            web.post(p + "faults", self._set_faults),
            web.delete(p + "faults", self._clear_faults),
            web.post(p + "prices", self._set_prices),
            web.post(p + "limits", self._set_limits),
            web.get(p + "requests", self._list_requests),
        ]

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "exchanges": [d.name for d in self.dialects]})

    async def _open_account(self, request: web.Request) -> web.Response:
        body = await request.json()
        permissions = Permissions(**body["permissions"]) if "permissions" in body else None
        account = self.open_account(
            body["exchange"],
            api_key=body.get("api_key"),
            secret=body.get("secret"),
            passphrase=body.get("passphrase"),
            balances=body.get("balances"),
            permissions=permissions,
        )
        return web.json_response(
            {
                "exchange": account.exchange,
                "api_key": account.api_key,
                "secret": account.secret,
                "passphrase": account.passphrase,
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        self.account(request.match_info["api_key"]).revoked = True
        return web.json_response({"revoked": True})

    async def _restore(self, request: web.Request) -> web.Response:
        self.account(request.match_info["api_key"]).revoked = False
        return web.json_response({"revoked": False})

    async def _set_faults(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        exchange, api_key = body.pop("exchange", None), body.pop("api_key", None)
        try:
            self.faults.set(body, exchange=exchange, api_key=api_key)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _clear_faults(self, _request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"ok": True})

    async def _set_prices(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.prices.script(
            body["base"], body["prices"], step_seconds=float(body.get("step_seconds", 1))
        )
        return web.json_response({"ok": True})

    async def _set_limits(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.limits[body["exchange"]] = Limits(int(body["per_second"]), int(body["per_minute"]))
        return web.json_response({"ok": True})

    async def _list_requests(self, request: web.Request) -> web.Response:
        since = float(request.query.get("since", 0))
        return web.json_response(
            [{**asdict(r), "api_key": masked_key(r.api_key)} for r in self.requests_since(since)]
        )
