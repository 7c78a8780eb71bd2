"""The dry run of an engine's loading stages (TestEngine), against the exchange simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.loading import choose_symbols
from server.exchange.model import Market, Ticker
from tests.conftest import auth
from tests.connections.conftest import EXCHANGES, Desk
from tests.support.storage import dump

STAGES = [
    "initializing",
    "loading_symbols",
    "loading_indications",
    "loading_strategies",
    "loading_history",
    "syncing",
    "ready",
]


async def dry_run(desk: Desk, connection_id: str) -> pb.EngineTestResult:
    stub = engine_pb2_grpc.EngineServiceStub(desk.channel)
    request = pb.TestEngineRequest(connection_id=connection_id)
    return await stub.TestEngine(request, metadata=auth())  # type: ignore[no-any-return]


def storage_of(desk: Desk) -> dict[str, list[tuple[object, ...]]]:
    from sqlalchemy import create_engine

    engine = create_engine(desk.server.settings.resolved_database_url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


@pytest.fixture
def few_symbols(server_settings: dict[str, Any]) -> None:
    server_settings.update(engine_symbols=3, engine_history_bars=50)


@pytest.mark.usefixtures("few_symbols")
@pytest.mark.parametrize("exchange", EXCHANGES)
@pytest.mark.parametrize("api_type", ["spot", "perpetual_futures"])
async def test_every_stage_runs_with_its_progress_and_changes_nothing(
    desk: Desk, exchange: str, api_type: str
) -> None:
    account = desk.account(exchange)
    connection = await desk.connect(exchange, account, api_type=api_type)
    before = storage_of(desk)
    ledger = desk.simulator.ledgers[exchange]

    result = await dry_run(desk, connection.id)

    assert result.status == "success", [(s.stage, s.state, s.detail) for s in result.stages]
    assert [s.stage for s in result.stages] == STAGES
    assert all(s.state == "done" for s in result.stages)
    by_stage = {s.stage: s for s in result.stages}
    assert len(set(result.symbols)) == 3
    perpetual = api_type == "perpetual_futures"
    assert all(s.endswith(":USDT" if perpetual else "/USDT") for s in result.symbols)
    assert (by_stage["loading_symbols"].done, by_stage["loading_symbols"].total) == (1, 1)
    # Five indications and six parameter sets (entry/strategy) for each of the three symbols.
    assert (by_stage["loading_indications"].done, by_stage["loading_indications"].total) == (
        15,
        15,
    )
    assert (by_stage["loading_strategies"].done, by_stage["loading_strategies"].total) == (
        18,
        18,
    )
    assert (by_stage["loading_history"].done, by_stage["loading_history"].total) == (3, 3)
    assert result.history_bars == 3 * 50
    assert result.HasField("open_orders") and result.open_orders == 0
    assert result.HasField("positions") == perpetual
    assert result.is_simulated and result.duration_ms >= by_stage["loading_history"].duration_ms
    # A dry run: nothing stored, nothing ordered.
    assert storage_of(desk) == before
    assert desk.sim.call(lambda: ledger.open_orders(account)) == []
    assert not [r for r in desk.requests(exchange=exchange) if r.method != "GET"]


def test_symbols_are_the_most_traded_usdt_markets_of_the_api_type() -> None:
    def market(symbol: str, quote: str, kind: str) -> Market:
        return Market(symbol, symbol[:3], quote, kind, None, None, None, None)

    markets = [
        market("BTC/USDT", "USDT", "spot"),
        market("ETH/USDT", "USDT", "spot"),
        market("XRP/USDT", "USDT", "spot"),
        market("SOL/USDT", "USDT", "spot"),
        market("ETH/BTC", "BTC", "spot"),
        market("BTC/USDT:USDT", "USDT", "swap"),
    ]
    volume = {"BTC/USDT": "900", "ETH/USDT": "950", "SOL/USDT": "900", "ETH/BTC": "99999"}
    tickers = {s: Ticker(s, Decimal(1), None, None, None, Decimal(v)) for s, v in volume.items()}
    # By volume, ties by name; XRP has no ticker (volume 0); ETH/BTC is not quoted in USDT.
    assert choose_symbols(markets, tickers, "spot", 3) == ["ETH/USDT", "BTC/USDT", "SOL/USDT"]
    assert choose_symbols(markets, tickers, "spot", 10)[-1] == "XRP/USDT"
    assert choose_symbols(markets, tickers, "perpetual_futures", 3) == ["BTC/USDT:USDT"]
    # USD markets only where the type has no USDT ones (Kraken Futures' perpetuals).
    usd = [*markets, market("ETH/USD:USD", "USD", "swap")]
    assert choose_symbols(usd, tickers, "perpetual_futures", 3) == ["BTC/USDT:USDT"]
    usd_only = [m for m in usd if m.quote != "USDT"]
    assert choose_symbols(usd_only, tickers, "perpetual_futures", 3) == ["ETH/USD:USD"]


@pytest.mark.usefixtures("few_symbols")
async def test_without_credentials_the_sync_is_skipped(desk: Desk) -> None:
    connection = await desk.connect("okx")
    result = await dry_run(desk, connection.id)
    syncing = next(s for s in result.stages if s.stage == "syncing")
    assert result.status == "success" and syncing.state == "skipped"
    assert not result.HasField("open_orders") and not result.HasField("positions")


@pytest.mark.usefixtures("few_symbols")
async def test_a_failing_stage_is_reported_and_the_rest_not_run(desk: Desk) -> None:
    account = desk.account("binance")
    connection = await desk.connect("binance", account, secret="0" * len(account.secret))

    result = await dry_run(desk, connection.id)

    states = {s.stage: s.state for s in result.stages}
    assert result.status == "failed" and result.error_reason == "authentication"
    # Markets and history are public; the account sync is the first signed call.
    assert states["loading_history"] == "done" and states["syncing"] == "failed"
    assert states["ready"] == "pending"
    assert "binance" in next(s.detail for s in result.stages if s.stage == "syncing")


async def test_an_exchange_that_is_down_fails_the_first_stage(desk: Desk) -> None:
    connection = await desk.connect("bybit", desk.account("bybit"))
    desk.faults(exchange="bybit", down=True)
    result = await dry_run(desk, connection.id)
    assert result.status == "failed" and result.error_reason == "unavailable"
    assert [s.state for s in result.stages][:2] == ["failed", "pending"]


@pytest.mark.parametrize(
    ("connection_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("5b0c6a43-0000-4000-8000-000000000000", grpc.StatusCode.NOT_FOUND),
    ],
)
async def test_bad_ids_are_refused(desk: Desk, connection_id: str, code: grpc.StatusCode) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await dry_run(desk, connection_id)
    assert refused.value.code() == code
    assert desk.requests() == []


async def test_the_connection_is_still_as_it_was(desk: Desk) -> None:
    connection = await desk.connect("okx", desk.account("okx"), is_enabled=True)
    await dry_run(desk, connection.id)
    again = await desk.stub.GetConnection(
        cpb.GetConnectionRequest(id=connection.id), metadata=auth()
    )
    assert again.last_test_status == "" and again.updated_at == connection.updated_at
