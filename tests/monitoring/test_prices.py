"""Prices through the real pieces: the grpc.aio server with the demo connection's engine running
on the exchange simulator (ccxt), Envoy's REST routes and server-sent events, and price watches
that start a market's public feed on demand and stop it when the watcher leaves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.connection.v1 import connection_pb2_grpc
from cts.engine.v1 import engine_pb2 as epb
from cts.engine.v1 import engine_pb2_grpc
from cts.monitoring.v1 import market_pb2 as pb
from cts.monitoring.v1 import market_pb2_grpc, monitoring_pb2_grpc
from google.protobuf.json_format import MessageToDict

from server.simulator.demo import DEMO_CONNECTION_NAME, open_demo_accounts
from server.simulator.server import Simulator
from tests.conftest import TEST_TOKEN, auth, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.logs import until_logged
from tests.support.rpc import details, engine_statuses
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
WAIT = 30.0  # the failure condition of every wait, not a pace (the machines are shared)
DEMO = {"exchange": "binance", "api_type": "spot", "is_simulated": True}


class Stack:
    """Simulator (with the demo accounts), server (demo connection, engines on), Envoy."""

    def __init__(self, server: ServerThread, envoy: EnvoyProcess, sim: SimulatorThread) -> None:
        self.server, self.envoy, self.sim = server, envoy, sim
        self.http = httpx.Client(base_url=envoy.base_url, headers=HEADERS, timeout=WAIT)
        self.demo_symbols: tuple[str, ...] = ()

    def public_requests(self, exchange: str) -> int:
        """How many unauthenticated requests the simulator received for ``exchange``."""
        return self.sim.call(
            lambda: sum(
                1 for r in self.sim.simulator.requests if r.exchange == exchange and not r.api_key
            )
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    simulator = Simulator(seed=11)
    open_demo_accounts(simulator)
    sim = SimulatorThread(simulator).start()
    settings = make_settings(
        tmp_path_factory.mktemp("prices") / "data",
        simulator_url=sim.base_url,
        demo=True,
        engines=True,
        engine_cycle_seconds=0.25,
        engine_symbols=3,
        engine_history_bars=60,
        stream_heartbeat_seconds=0.5,
    )
    server = ServerThread(settings).start()
    envoy = EnvoyProcess(settings.model_copy(update={"grpc_port": server.port})).start()
    stack = Stack(server, envoy, sim)
    try:
        stack.demo_symbols = _demo_engine_symbols(server.target)
        yield stack
    finally:
        stack.http.close()
        envoy.stop()
        server.stop()
        sim.stop()


def _demo_engine_symbols(target: str) -> tuple[str, ...]:
    """The symbols of the demo connection's engine, once it runs (a blocking client: the
    module's fixture has no event loop)."""
    with grpc.insecure_channel(target) as channel:
        listed = connection_pb2_grpc.ConnectionServiceStub(channel).ListConnections(
            cpb.ListConnectionsRequest(), metadata=auth()
        )
        (demo,) = [c for c in listed.connections if c.name == DEMO_CONNECTION_NAME]
        stream = engine_pb2_grpc.EngineServiceStub(channel).WatchEngines(
            epb.WatchEnginesRequest(connection_id=demo.id), metadata=auth(), timeout=WAIT
        )
        for message in stream:
            running = [s for s in engine_statuses(message) if s.state == "running"]
            if running:
                stream.cancel()
                assert len(running[0].symbols) == 3
                return tuple(running[0].symbols)
    raise AssertionError("the engine stream ended")


@pytest.fixture
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(stack.server.target) as opened:
        yield opened


@pytest.fixture
def market(channel: grpc.aio.Channel) -> market_pb2_grpc.MarketServiceStub:
    return market_pb2_grpc.MarketServiceStub(channel)


async def feeds(channel: grpc.aio.Channel) -> dict[tuple[str, str, bool], epb.MarketFeedHealth]:
    """The market feeds by (exchange, API type, simulated), from GetCoordinatorHealth."""
    health = await engine_pb2_grpc.EngineServiceStub(channel).GetCoordinatorHealth(
        epb.GetCoordinatorHealthRequest(), metadata=auth()
    )
    return {(f.exchange, f.api_type, f.simulated): f for f in health.feeds}


class Watch:
    """A WatchPrices stream and every price it has carried (the latest per symbol)."""

    def __init__(self, market: market_pb2_grpc.MarketServiceStub, **request: Any) -> None:
        self.stream = market.WatchPrices(pb.WatchPricesRequest(**request), metadata=auth())
        self.messages: list[pb.WatchPricesResponse] = []
        self.prices: dict[str, pb.Price] = {}

    async def until(
        self, wanted: Callable[[pb.WatchPricesResponse], bool]
    ) -> pb.WatchPricesResponse:
        async with asyncio.timeout(WAIT):
            while True:
                message = await self.stream.read()
                assert message is not grpc.aio.EOF, "the price stream ended"
                self.messages.append(message)
                event = message.WhichOneof("event")
                if event in ("snapshot", "changes"):
                    for price in getattr(message, event).prices:
                        self.prices[price.symbol] = price
                if wanted(message):
                    return message

    async def priced(self, symbols: set[str]) -> None:
        await self.until(lambda _: symbols <= set(self.prices))


def assert_price(price: dict[str, Any] | pb.Price, symbol: str, exchange: str = "binance") -> None:
    """A full price of the simulator's market: decimal strings, both times."""
    p = price if isinstance(price, dict) else _as_json(price)
    assert (p["symbol"], p["exchange"], p["is_simulated"]) == (symbol, exchange, True), p
    last, bid, ask = Decimal(p["last"]), Decimal(p["bid"]), Decimal(p["ask"])
    assert 0 < bid < ask and bid <= last <= ask, p
    assert Decimal(p["quote_volume"]) > 0
    Decimal(p["change_percent"])  # a decimal string (of either sign)
    assert p["price_time"] and p["fetch_time"], p


def _as_json(price: pb.Price) -> dict[str, Any]:
    """The price as Envoy prints it (proto field names, empty fields too)."""
    printed: dict[str, Any] = MessageToDict(
        price, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return printed


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data:"):
            yield json.loads(line.removeprefix("data:").strip())


# -- the demo's prices --------------------------------------------------------------------------


async def test_prices_appear_for_the_demo_symbols_and_on_the_sse_stream(
    stack: Stack, market: market_pb2_grpc.MarketServiceStub
) -> None:
    symbols = set(stack.demo_symbols)
    # gRPC: the engine's feed prices its symbols; the watch shows them as they come.
    watch = Watch(market, **DEMO, symbols=sorted(symbols))
    await watch.priced(symbols)
    watch.stream.cancel()
    for symbol in symbols:
        assert_price(watch.prices[symbol], symbol)
    listed = await market.ListPrices(pb.ListPricesRequest(**DEMO), metadata=auth())
    assert symbols <= {p.symbol for p in listed.prices} and not listed.unpriced_symbols
    (feed,) = listed.feeds
    assert (feed.exchange, feed.api_type, feed.simulated, feed.running) == (*DEMO.values(), True)

    # REST through Envoy: the symbols comma-separated; prices are decimal strings.
    answer = stack.http.get(
        "/api/market/prices",
        params={"exchange": "binance", "apiType": "spot", "symbols": ",".join(sorted(symbols))},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {p["symbol"] for p in body["prices"]} == symbols
    for price in body["prices"]:
        assert_price(price, price["symbol"])
        assert isinstance(price["last"], str)

    # Server-sent events (the symbols repeated): the snapshot, then a round's changes.
    query: dict[str, str | list[str]] = {"exchange": "binance", "apiType": "spot"}
    query |= {"isSimulated": "true", "symbols": sorted(symbols)}
    with stack.http.stream("GET", "/v1/prices:watch", params=query) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        first = next(events)
        assert set(first) == {"event_time", "snapshot"}, first
        snapshot = first["snapshot"]
        assert {p["symbol"] for p in snapshot["prices"]} == symbols  # the feed ran already
        for price in snapshot["prices"]:
            assert_price(price, price["symbol"])
        changes = next(e["changes"] for e in events if "changes" in e)
        assert isinstance(changes["round"], int) and changes["round"] > snapshot["round"]
        assert changes["prices"] and {p["symbol"] for p in changes["prices"]} <= symbols
        for price in changes["prices"]:
            assert_price(price, price["symbol"])


async def test_list_prices_sends_no_exchange_request(
    stack: Stack, channel: grpc.aio.Channel, market: market_pb2_grpc.MarketServiceStub
) -> None:
    demo_feed = ("binance", "spot", True)
    # Rounds first, requests second (and the reverse at the end): every request counted in
    # between is then a round's, except at most the one round in flight at the start.
    rounds_before = (await feeds(channel))[demo_feed].rounds
    requests_before = stack.public_requests("binance")
    for _ in range(20):
        listed = await market.ListPrices(pb.ListPricesRequest(**DEMO), metadata=auth())
        assert set(stack.demo_symbols) <= {p.symbol for p in listed.prices}
    requests = stack.public_requests("binance") - requests_before
    rounds = (await feeds(channel))[demo_feed].rounds - rounds_before
    assert requests <= rounds + 1, (requests, rounds)


async def test_list_prices_of_a_market_nobody_watches_names_the_unpriced_symbols(
    market: market_pb2_grpc.MarketServiceStub,
) -> None:
    request = pb.ListPricesRequest(exchange="kraken", symbols=["BTC/USDT", "ETH/USDT,BTC/USDT"])
    listed = await market.ListPrices(request, metadata=auth())
    assert list(listed.prices) == [] and list(listed.feeds) == []
    assert list(listed.unpriced_symbols) == ["BTC/USDT", "ETH/USDT"]


# -- watches that start a feed ------------------------------------------------------------------


async def test_a_watch_of_a_market_no_engine_uses_starts_its_feed_until_the_watcher_leaves(
    stack: Stack, channel: grpc.aio.Channel, market: market_pb2_grpc.MarketServiceStub
) -> None:
    okx_spot = ("okx", "spot", True)
    before = await feeds(channel)
    assert okx_spot not in before or not before[okx_spot].running
    requests_before = stack.public_requests("okx")

    watch = Watch(
        market, exchange="okx", api_type="spot", is_simulated=True, symbols=["BTC/USDT", "ETH/USDT"]
    )
    first = await watch.until(lambda _: True)
    assert first.WhichOneof("event") == "snapshot"
    assert first.snapshot.round == 0 and not first.snapshot.prices  # no feed ran before
    await watch.priced({"BTC/USDT", "ETH/USDT"})
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert_price(watch.prices[symbol], symbol, exchange="okx")
    running = (await feeds(channel))[okx_spot]
    assert running.running and running.subscribers == 1 and running.symbols == 2
    assert stack.public_requests("okx") > requests_before  # the simulator's OKX was asked

    watch.stream.cancel()
    logs = monitoring_pb2_grpc.MonitoringServiceStub(channel)
    await until_logged(logs, WAIT, text="market feed feed:okx:spot:simulated stopped")
    stopped = (await feeds(channel))[okx_spot]
    assert not stopped.running and stopped.subscribers == 0


async def test_a_symbol_the_exchange_does_not_list_is_reported_not_refused(
    market: market_pb2_grpc.MarketServiceStub,
) -> None:
    watch = Watch(
        market,
        exchange="bybit",
        api_type="spot",
        is_simulated=True,
        symbols=["BTC/USDT", "NOPE/USDT"],
    )
    reported = await watch.until(
        lambda m: m.WhichOneof("event") == "changes" and list(m.changes.unknown_symbols) != []
    )
    assert list(reported.changes.unknown_symbols) == ["NOPE/USDT"]
    await watch.priced({"BTC/USDT"})
    assert_price(watch.prices["BTC/USDT"], "BTC/USDT", exchange="bybit")
    request = pb.ListPricesRequest(exchange="bybit", symbols=["BTC/USDT", "NOPE/USDT"])
    listed = await market.ListPrices(request, metadata=auth())
    assert [p.symbol for p in listed.prices] == ["BTC/USDT"]
    assert list(listed.unpriced_symbols) == ["NOPE/USDT"]
    assert [list(f.unknown_symbols) for f in listed.feeds] == [["NOPE/USDT"]]
    watch.stream.cancel()


async def test_an_idle_watch_gets_heartbeats(market: market_pb2_grpc.MarketServiceStub) -> None:
    # Only a symbol the exchange does not list: no price ever changes.
    watch = Watch(
        market, exchange="bybit", api_type="spot", is_simulated=True, symbols=["ZZZ/USDT"]
    )
    await watch.until(lambda m: m.WhichOneof("event") == "heartbeat")
    await watch.until(lambda m: m.WhichOneof("event") == "heartbeat")
    assert not watch.prices
    watch.stream.cancel()


async def test_a_watch_of_every_symbol_follows_the_running_feed(
    stack: Stack, market: market_pb2_grpc.MarketServiceStub
) -> None:
    watch = Watch(market, **DEMO)  # no symbols: what the engine's feed prices
    await watch.priced(set(stack.demo_symbols))
    watch.stream.cancel()


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/market/prices", {"exchange": "nasdaq"}, "exchange"),
        ("/api/market/prices", {"apiType": "futures"}, "api_type"),
        ("/api/market/prices", {"symbols": "BTCUSDT"}, "symbols"),
        ("/api/market/prices", {"symbols": ",".join(f"C{i}/USDT" for i in range(101))}, "symbols"),
        ("/v1/prices:watch", {"apiType": "spot", "symbols": "BTC/USDT"}, "exchange"),
        ("/v1/prices:watch", {"exchange": "okx", "symbols": "BTC/USDT"}, "api_type"),
        ("/v1/prices:watch", {"exchange": "pionex", "apiType": "options"}, "api_type"),
        ("/v1/prices:watch", {"exchange": "okx", "apiType": "spot", "symbols": "a b"}, "symbols"),
    ],
)
def test_bad_queries_answer_400_naming_the_field(
    stack: Stack, path: str, params: dict[str, str], field: str
) -> None:
    response = stack.http.get(path, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 3 and f"{field}:" in body["message"], body


async def test_refusals_over_grpc_name_the_field_or_the_reason(
    market: market_pb2_grpc.MarketServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await market.ListPrices(pb.ListPricesRequest(symbols=["BTC/USDT", "?"]), metadata=auth())
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "symbols" in details(bad.value)[1]
    # Every symbol, but no feed runs for Kraken: nothing to follow.
    stream = market.WatchPrices(
        pb.WatchPricesRequest(exchange="kraken", api_type="spot"), metadata=auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as no_feed:
        await stream.read()
    assert no_feed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(no_feed.value)[0] == "NO_MARKET_FEED"


def test_prices_need_the_token(stack: Stack) -> None:
    response = httpx.get(f"{stack.envoy.base_url}/api/market/prices", timeout=WAIT)
    assert response.status_code == 401, response.text


# -- servers of their own -----------------------------------------------------------------------


async def test_a_watch_of_the_simulator_needs_one(
    market_without_simulator: market_pb2_grpc.MarketServiceStub,
) -> None:
    stream = market_without_simulator.WatchPrices(
        pb.WatchPricesRequest(**DEMO, symbols=["BTC/USDT"]), metadata=auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stream.read()
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(refused.value)[0] == "SIMULATOR_NOT_CONFIGURED"


@pytest.fixture
async def market_without_simulator(
    tmp_path: Path,
) -> AsyncIterator[market_pb2_grpc.MarketServiceStub]:
    server = ServerThread(make_settings(tmp_path / "data")).start()
    try:
        async with grpc.aio.insecure_channel(server.target) as opened:
            yield market_pb2_grpc.MarketServiceStub(opened)
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_watch_ends_cleanly_when_the_server_stops(stack: Stack, tmp_path: Path) -> None:
    server = ServerThread(
        make_settings(tmp_path / "data", simulator_url=stack.sim.base_url, demo=False)
    ).start()
    try:
        async with grpc.aio.insecure_channel(server.target) as opened:
            watch = Watch(
                market_pb2_grpc.MarketServiceStub(opened),
                exchange="okx",
                api_type="perpetual_futures",
                is_simulated=True,
                symbols=["BTC/USDT:USDT"],
            )
            await watch.priced({"BTC/USDT:USDT"})
            await asyncio.to_thread(server.stop)
            async with asyncio.timeout(WAIT):
                while await watch.stream.read() is not grpc.aio.EOF:
                    pass
            assert await watch.stream.code() == grpc.StatusCode.OK
    finally:
        await asyncio.to_thread(server.stop)
