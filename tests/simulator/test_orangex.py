"""The simulator's OrangeX dialect: JSON-RPC envelopes, bearer tokens and their expiry, OrangeX's
error codes, its rate-limit answer and every fault, over real HTTP; and CTS's OrangeX ccxt class
keeping, renewing and re-fetching its token against it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest
from ccxt.base.precise import Precise

from server.exchange.venues.orangex import orangex
from server.simulator.dialects.common import day_window
from server.simulator.dialects.orangex import OrangexDialect
from server.simulator.dialects.orangex.auth import TOKEN_SECONDS
from server.simulator.ledger import Account, OrderStatus, Permissions
from server.simulator.server import Simulator
from tests.support.simulated import Instances, ccxt_instances, running_simulator

BTC = "BTC/USDT:USDT"
BTC_ID = "BTC-USDT-PERPETUAL"
Json = dict[str, Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(37, OrangexDialect) as simulator:
        yield simulator


@pytest.fixture
def account(sim: Simulator) -> Account:
    return sim.open_account("orangex", balances={"USDT": "10000"})


@pytest.fixture
async def instances(sim: Simulator, account: Account) -> AsyncIterator[Instances]:
    async with ccxt_instances(sim, "orangex", account) as made:
        yield made


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Rpc:
    """OrangeX's JSON-RPC over HTTP, by hand."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim, self.http = sim, http
        self.status = 0
        self.headers: Any = {}

    async def call(self, method: str, params: Json, token: str | None = None) -> Json:
        body = {"jsonrpc": "2.0", "id": 42, "method": method, "params": params}
        headers = {"Authorization": f"bearer {token}"} if token else {}
        url = f"{self.sim.base_url}/api/v1{method}"
        async with self.http.post(url, json=body, headers=headers) as response:
            self.status, self.headers = response.status, response.headers
            return await response.json()  # type: ignore[no-any-return]

    async def get(self, method: str, **query: str) -> Json:
        url = f"{self.sim.base_url}/api/v1{method}"
        async with self.http.get(url, params=query) as response:
            self.status, self.headers = response.status, response.headers
            return await response.json()  # type: ignore[no-any-return]

    async def token(self, account: Account) -> str:
        answer = await self.call(
            "/public/auth",
            {
                "grant_type": "client_credentials",
                "client_id": account.api_key,
                "client_secret": account.secret,
            },
        )
        return str(answer["result"]["access_token"])


@pytest.fixture
def rpc(sim: Simulator, http: aiohttp.ClientSession) -> Rpc:
    return Rpc(sim, http)


def code_of(answer: Json) -> int:
    assert "result" not in answer, answer
    return int(answer["error"]["code"])


# -- envelopes and authentication --------------------------------------------------------------


async def test_auth_hands_out_a_bearer_token_that_private_calls_carry(
    rpc: Rpc, account: Account
) -> None:
    answer = await rpc.call(
        "/public/auth",
        {
            "grant_type": "client_credentials",
            "client_id": account.api_key,
            "client_secret": account.secret,
        },
    )
    assert (answer["jsonrpc"], answer["id"], rpc.status) == ("2.0", 42, 200)
    assert answer["usIn"] <= answer["usOut"] and answer["usDiff"] >= 0
    granted = answer["result"]
    assert (granted["token_type"], granted["expires_in"]) == ("bearer", 43_199)
    assert "trade:read_write" in granted["scope"].split()
    assets = await rpc.call(
        "/private/get_assets_info", {"asset_type": ["PERPETUAL"]}, granted["access_token"]
    )
    assert assets["result"]["PERPETUAL"]["available_funds"] == "10000"
    # the refresh token gives a new access token, once
    refreshed = await rpc.call(
        "/public/auth", {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    )
    assert refreshed["result"]["access_token"] != granted["access_token"]
    again = await rpc.call(
        "/public/auth", {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    )
    assert code_of(again) == 10000


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "nobody", "client_secret": "x"},
        {"client_secret": "wrong"},
        {"grant_type": "client_signature", "signature": "00", "timestamp": "1"},
    ],
    ids=["unknown key", "wrong secret", "client signature"],
)
async def test_bad_credentials_are_authentication_failures(
    rpc: Rpc, account: Account, credentials: Json
) -> None:
    params = {"grant_type": "client_credentials", "client_id": account.api_key, **credentials}
    answer = await rpc.call("/public/auth", params)
    assert (rpc.status, code_of(answer)) == (200, 10000)
    assert answer["error"]["message"] == "Authentication Failure"


async def test_private_calls_without_a_live_token_are_refused(
    sim: Simulator, rpc: Rpc, account: Account
) -> None:
    assets = {"asset_type": ["PERPETUAL"]}
    assert code_of(await rpc.call("/private/get_assets_info", assets)) == 10000
    assert code_of(await rpc.call("/private/get_assets_info", assets, "made-up")) == 10000
    token = await rpc.token(account)
    account.revoked = True
    assert code_of(await rpc.call("/private/get_assets_info", assets, token)) == 10000
    account.revoked = False
    assert "result" in await rpc.call("/private/get_assets_info", assets, token)
    # the token expires after 43,199 s on the exchange's clock
    sim.faults.set({"clock_skew_ms": (TOKEN_SECONDS - 5) * 1000}, exchange="orangex")
    assert "result" in await rpc.call("/private/get_assets_info", assets, token)
    sim.faults.set({"clock_skew_ms": (TOKEN_SECONDS + 5) * 1000}, exchange="orangex")
    assert code_of(await rpc.call("/private/get_assets_info", assets, token)) == 10000
    fresh = await rpc.token(account)  # issued on the skewed clock: valid there
    assert "result" in await rpc.call("/private/get_assets_info", assets, fresh)


async def test_a_key_that_only_reads_is_denied_trading(sim: Simulator, rpc: Rpc) -> None:
    reader = sim.open_account("orangex", permissions=Permissions(derivatives=False))
    granted = await rpc.call(
        "/public/auth",
        {
            "grant_type": "client_credentials",
            "client_id": reader.api_key,
            "client_secret": reader.secret,
        },
    )
    token = granted["result"]["access_token"]
    assert "trade:read" in granted["result"]["scope"].split()
    assert "result" in await rpc.call("/private/get_user_position", {}, token)
    order = {"instrument_name": BTC_ID, "amount": "0.001", "type": "market"}
    answer = await rpc.call("/private/buy", order, token)
    assert (code_of(answer), answer["error"]["message"]) == (2033, "Access denied")
    assert reader.orders == {}


# -- OrangeX's error codes ---------------------------------------------------------------------


async def test_bad_requests_get_orangexs_codes(rpc: Rpc, account: Account) -> None:
    token = await rpc.token(account)
    assert code_of(await rpc.get("/public/get_order_book", instrument_name="NOPE")) == 5001
    assert code_of(await rpc.get("/public/ticker")) == 8000
    bad_depth = await rpc.get("/public/get_order_book", instrument_name=BTC_ID, depth="0")
    assert code_of(bad_depth) == 8000
    # asset_type is an array: a plain string is refused
    assert code_of(await rpc.call("/private/get_assets_info", {"asset_type": "X"}, token)) == 8000
    unknown = await rpc.call("/private/get_positions", {}, token)
    assert (rpc.status, code_of(unknown), unknown["error"]["message"]) == (
        200,
        1000,
        "No service found",
    )
    async with rpc.http.post(
        f"{rpc.sim.base_url}/api/v1/private/buy",
        data="{not json",
        headers={"Authorization": f"bearer {token}"},
    ) as response:
        assert (response.status, code_of(await response.json())) == (200, 8000)
    limit = {"instrument_name": BTC_ID, "amount": "0.001", "type": "limit"}
    assert code_of(await rpc.call("/private/buy", limit, token)) == 8000  # no price
    order = {**limit, "type": "market", "custom_order_id": "bad id with spaces"}
    assert code_of(await rpc.call("/private/buy", order, token)) == 8000
    poor = {"instrument_name": BTC_ID, "amount": "10", "type": "market"}
    assert code_of(await rpc.call("/private/buy", poor, token)) == 10009
    assert code_of(await rpc.call("/private/cancel", {"order_id": "1"}, token)) == 10004
    assert code_of(await rpc.call("/private/get_order_state", {"order_id": "1"}, token)) == 10004
    too_much = {"instrument_name": BTC_ID, "leverage": 101}
    refused = await rpc.call("/private/modify_perpetual_instrument_leverage", too_much, token)
    assert code_of(refused) == 8000 and account.leverage == 10
    assert account.orders == {}


async def test_orders_answer_their_id_only_and_keep_their_custom_order_id(
    sim: Simulator, rpc: Rpc, account: Account
) -> None:
    token = await rpc.token(account)
    price = (sim.prices.price("BTC") * Decimal("0.8")).quantize(Decimal("0.1"))
    order = {
        "instrument_name": BTC_ID,
        "amount": "0.01",
        "type": "limit",
        "price": str(price),
        "custom_order_id": "cts:label/1",
    }
    placed = await rpc.call("/private/buy", order, token)
    assert set(placed["result"]) == {"order_id"}
    order_id = placed["result"]["order_id"]
    state = (await rpc.call("/private/get_order_state", {"order_id": order_id}, token))["result"]
    assert (state["order_state"], state["custom_order_id"], state["direction"]) == (
        "open",
        "cts:label/1",
        "buy",
    )
    assert (state["amount"], state["filled_amount"]) == ("0.01", "0")
    assert Decimal(state["price"]) == price  # "65457" for a price of 65457.0
    duplicate = await rpc.call("/private/sell", {**order, "price": "1"}, token)
    assert (code_of(duplicate), duplicate["error"]["message"]) == (
        8000,
        "duplicate custom_order_id",
    )
    listed = await rpc.call(
        "/private/get_open_orders_by_instrument", {"instrument_name": BTC_ID}, token
    )
    assert [o["order_id"] for o in listed["result"]] == [order_id]
    cancelled = await rpc.call("/private/cancel", {"order_id": order_id}, token)
    assert cancelled["result"] == {"order_id": order_id}
    history = await rpc.call(
        "/private/get_order_history_by_instrument", {"instrument_name": BTC_ID}, token
    )
    assert [(o["order_id"], o["order_state"]) for o in history["result"]] == [
        (order_id, "canceled")
    ]
    assert account.orders[order_id].status is OrderStatus.CANCELED


# -- rate limits and faults --------------------------------------------------------------------


async def test_too_many_requests_answer_429_with_10028(sim: Simulator, rpc: Rpc) -> None:
    sim.faults.set({"rate_limit_burst": 1, "retry_after_seconds": 3}, exchange="orangex")
    answer = await rpc.get("/public/get_instruments", currency="PERPETUAL")
    assert (rpc.status, code_of(answer), rpc.headers["Retry-After"]) == (429, 10028, "3")
    assert "result" in await rpc.get("/public/get_instruments", currency="PERPETUAL")


async def test_a_caller_over_the_simulators_limits_gets_the_same_answer(
    sim: Simulator, rpc: Rpc
) -> None:
    await rpc.http.post(
        f"{sim.base_url}/__simulator/limits",
        json={"exchange": "orangex", "per_second": 50, "per_minute": 2},
        headers={"Authorization": f"Bearer {sim.control_token}"},
    )
    codes = [code_of_or_ok(await rpc.get("/public/ping")) for _ in range(3)]
    assert codes == [0, 0, 10028] and rpc.status == 429


def code_of_or_ok(answer: Json) -> int:
    return 0 if "result" in answer else int(answer["error"]["code"])


async def test_faults_met_by_a_key_through_its_token(
    sim: Simulator, rpc: Rpc, account: Account
) -> None:
    token = await rpc.token(account)
    other = sim.open_account("orangex")
    other_token = await rpc.token(other)
    sim.faults.set({"down": True}, api_key=account.api_key)
    assets = {"asset_type": ["PERPETUAL"]}
    answer = await rpc.call("/private/get_assets_info", assets, token)
    assert (rpc.status, code_of(answer)) == (503, 13028)
    assert "result" in await rpc.call("/private/get_assets_info", assets, other_token)
    sim.faults.clear()
    sim.faults.set({"maintenance": True}, exchange="orangex")
    answer = await rpc.get("/public/ping")
    assert (rpc.status, code_of(answer), rpc.headers["Retry-After"]) == (503, 13028, "60")
    assert "maintenance" in answer["error"]["message"]
    sim.faults.clear()
    sim.faults.set({"error_rate": 1.0}, exchange="orangex")
    assert (code_of(await rpc.get("/public/ping")), rpc.status) == (13028, 503)
    sim.faults.clear()
    sim.faults.set({"latency_ms": 200}, exchange="orangex")
    started = time.perf_counter()
    assert (await rpc.get("/public/ping"))["result"] == "pong"
    assert time.perf_counter() - started >= 0.2


async def test_a_lost_answer_leaves_the_order_placed(
    sim: Simulator, rpc: Rpc, account: Account
) -> None:
    token = await rpc.token(account)
    sim.faults.set({"lose_answers": 1}, api_key=account.api_key)
    order = {
        "instrument_name": BTC_ID,
        "amount": "0.002",
        "type": "market",
        "custom_order_id": "l1",
    }
    answer = await rpc.call("/private/buy", order, token)
    assert (rpc.status, code_of(answer)) == (503, 13028)
    [placed] = account.orders.values()
    assert (placed.client_order_id, placed.status) == ("l1", OrderStatus.FILLED)
    position = await rpc.call("/private/get_user_position", {}, token)
    [held] = position["result"]
    assert (held["instrument_name"], held["size"], held["direction"]) == (BTC_ID, "0.002", "buy")


async def test_a_hanging_exchange_times_ccxt_out(sim: Simulator, instances: Instances) -> None:
    exchange = instances.cts("perpetual_futures")
    exchange.timeout = 300
    sim.faults.set({"hang": True}, exchange="orangex")
    with pytest.raises(ccxt.RequestTimeout):
        await exchange.fetch_time()


# -- CTS's class and the token -----------------------------------------------------------------


@pytest.fixture
def exchange(instances: Instances) -> Any:
    return instances.cts("perpetual_futures")


def auth_requests(sim: Simulator, since: float) -> int:
    return sum(1 for r in sim.requests_since(since) if r.path == "/api/v1/public/auth")


async def test_the_class_keeps_its_token_and_renews_it_before_it_runs_out(
    sim: Simulator, exchange: Any
) -> None:
    since = time.time()
    await asyncio.gather(exchange.fetch_balance(), exchange.fetch_positions())
    await exchange.fetch_balance()
    assert auth_requests(sim, since) == 1  # one grant, shared by concurrent calls
    expires = exchange.options["accessTokenExpires"]
    assert abs(expires - (time.time() + TOKEN_SECONDS) * 1000) < 5000
    exchange.options["accessTokenExpires"] = exchange.milliseconds() + 30_000  # nearly out
    kept = exchange.options["accessToken"]
    await exchange.fetch_balance()
    assert auth_requests(sim, since) == 2 and exchange.options["accessToken"] != kept


async def test_a_token_the_exchange_refuses_is_fetched_anew_and_the_call_repeated_once(
    sim: Simulator, account: Account, exchange: Any
) -> None:
    await exchange.fetch_balance()
    sim.faults.set({"clock_skew_ms": (TOKEN_SECONDS + 1) * 1000}, exchange="orangex")
    since = time.time()
    placed = await exchange.create_order(BTC, "market", "buy", 0.001, None, {"clientOrderId": "r1"})
    assert auth_requests(sim, since) == 1
    paths = [r.path for r in sim.requests_since(since)]
    assert paths == ["/api/v1/private/buy", "/api/v1/public/auth", "/api/v1/private/buy"]
    assert [o.id for o in account.orders.values()] == [placed["id"]]  # refused, then placed once
    # a wrong secret is refused at the grant and not tried again
    exchange.secret = "0" * len(account.secret)
    exchange.forget_token()
    since = time.time()
    with pytest.raises(ccxt.AuthenticationError) as refused:
        await exchange.fetch_balance()
    assert account.secret not in str(refused.value) and exchange.secret not in str(refused.value)
    assert [r.path for r in sim.requests_since(since)] == ["/api/v1/public/auth"]


async def test_the_class_maps_orangexs_refusals_to_ccxt_exceptions(
    sim: Simulator, exchange: Any
) -> None:
    await exchange.load_markets()
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_get_order_book({"instrument_name": "NOPE"})
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "market", "buy", 10)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("123", BTC)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("", BTC, {"clientOrderId": "never"})
    with pytest.raises(ccxt.ArgumentsRequired):
        await exchange.fetch_open_orders()
    await exchange.create_order(BTC, "limit", "buy", 0.001, 30000, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.DuplicateOrderId):
        await exchange.create_order(BTC, "limit", "buy", 0.001, 30000, {"clientOrderId": "dup"})
    sim.faults.set({"rate_limit_burst": 1}, exchange="orangex")
    with pytest.raises(ccxt.RateLimitExceeded):
        await exchange.fetch_ticker(BTC)
    sim.faults.set({"maintenance": True}, exchange="orangex")
    with pytest.raises(ccxt.OnMaintenance):
        await exchange.fetch_ticker(BTC)
    sim.faults.clear()
    sim.faults.set({"down": True}, exchange="orangex")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_ticker(BTC)


async def test_the_class_with_its_own_defaults_starts(
    sim: Simulator, account: Account, instances: Instances
) -> None:
    """As a tool other than CTS would build it: ccxt's limiter on, no CTS options."""
    config = {"enableRateLimit": True, "apiKey": account.api_key, "secret": account.secret}
    client = instances.plain(orangex, config)
    markets = await client.load_markets()
    balance = await client.fetch_balance()
    assert BTC in markets and markets[BTC]["swap"] and balance["USDT"]["free"] == 10_000
    assert [(r.path, r.status) for r in sim.requests] == [
        ("/api/v1/public/get_instruments", 200),
        ("/api/v1/public/auth", 200),
        ("/api/v1/private/get_assets_info", 200),
    ]


def test_the_days_open_ccxt_derives_from_the_percentage_lies_within_low_and_high() -> None:
    """OrangeX gives the day's change only as a rounded percentage; ccxt's ``safe_ticker`` takes
    the open as last / (1 + percentage / 100). Over a thousand hours, among them hours whose open
    was the day's low or high, that derived open stays within the day's range, as ccxt's
    validators demand."""
    now = [0.0]
    sim = Simulator(seed=37, dialects=[OrangexDialect], clock=lambda: now[0])
    dialect = sim.dialects[0]
    assert isinstance(dialect, OrangexDialect)
    instrument = dialect.market.instrument(BTC_ID)
    open_at_an_edge = 0
    for moment in range(1_796_000_000, 1_796_000_000 + 1_000 * 3_607, 3_607):
        now[0] = float(moment)
        ticker = dialect.market._ticker(instrument)
        stats, last = ticker["stats"], ticker["last_price"]
        derived = Precise.string_div(
            last, Precise.string_add("1", Precise.string_div(stats["price_change"], "100"))
        )
        assert Precise.string_ge(derived, stats["low"]), (moment, derived, stats)
        assert Precise.string_le(derived, stats["high"]), (moment, derived, stats)
        day = day_window(sim.prices, instrument.base, now[0], Decimal(last))
        open_at_an_edge += day.open in (day.low, day.high)
    assert open_at_an_edge > 0
