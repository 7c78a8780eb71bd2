"""The exchange adapter through ExchangeAccess, against the simulator with unmodified ccxt:
everything CTS asks of an exchange, in CTS's own units and error kinds, for each exchange."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt
import pytest

from server.errors import ErrorKind
from server.exchange.access import AccessConfig, Credentials, ExchangeAccess, Target
from server.exchange.adapter import ExchangeAdapter
from server.exchange.errors import ExchangeError, ExchangeFailure, translate
from server.exchange.model import OrderInfo
from server.simulator.ledger import Account, Order, Permissions
from server.simulator.server import Simulator
from tests.support.venues import VENUES, Venue

EXCHANGES = ("binance", "bybit", "okx")
SYMBOL = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}


@pytest.fixture
async def access(sim: Simulator) -> AsyncIterator[ExchangeAccess]:
    exchange_access = ExchangeAccess(AccessConfig(simulator_url=sim.base_url, timeout_seconds=5))
    yield exchange_access
    await exchange_access.close()


def target(exchange: str, api_type: str, account: Account) -> Target:
    return Target(
        connection_id=f"{exchange}-{api_type}-{account.api_key[-6:]}",
        exchange=exchange,
        api_type=api_type,
        simulated=True,
        credentials=Credentials(account.api_key, account.secret, account.passphrase),
    )


@pytest.mark.parametrize("exchange", EXCHANGES)
@pytest.mark.parametrize("api_type", ["spot", "perpetual_futures"])
async def test_market_data_in_decimals(
    sim: Simulator, access: ExchangeAccess, exchange: str, api_type: str
) -> None:
    where = target(exchange, api_type, sim.open_account(exchange))
    symbol = SYMBOL[api_type]

    markets = {m.symbol: m for m in await access.call(where, lambda a: a.markets())}
    tickers = await access.call(where, lambda a: a.tickers([symbol]))
    candles = await access.call(where, lambda a: a.candles(symbol, "1m", limit=5))

    btc = markets[symbol]
    assert (btc.base, btc.quote) == ("BTC", "USDT")
    assert isinstance(btc.price_precision, Decimal) and btc.price_precision > 0
    ticker = tickers[symbol]
    assert isinstance(ticker.last, Decimal)
    # The 24 h figures, from ccxt's unified ticker (percentage, quoteVolume; ccxt gives no
    # quote volume for OKX's swaps, whose volumes are in contracts and base units).
    assert isinstance(ticker.change_percent, Decimal)
    if not (exchange == "okx" and api_type == "perpetual_futures"):
        assert isinstance(ticker.quote_volume, Decimal) and ticker.quote_volume > 0
    if not (exchange == "binance" and api_type == "perpetual_futures"):
        # (Binance's USDⓈ-M 24 h ticker carries no bid and ask, on the real exchange too.)
        assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
    assert len(candles) == 5 and all(isinstance(c.close, Decimal) for c in candles)
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    assert [c.time_ms for c in candles] == sorted(c.time_ms for c in candles)


@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_a_perpetual_position_is_reported_in_base_units(
    sim: Simulator, access: ExchangeAccess, exchange: str
) -> None:
    """OKX counts swap contracts of 0.001 BTC here (0.01 on the real OKX): CTS speaks BTC."""
    account = sim.open_account(exchange)
    where = target(exchange, "perpetual_futures", account)
    symbol = SYMBOL["perpetual_futures"]

    order = await access.call(
        where,
        lambda a: a.create_order(symbol, "buy", "market", Decimal("0.02"), client_order_id="cts1"),
        retry=False,
    )
    positions = await access.call(where, lambda a: a.positions([symbol]))

    # Bybit and OKX acknowledge an order with its ids only; the position shows the fill.
    assert order.id and order.client_order_id == "cts1"
    [position] = positions
    assert (position.symbol, position.side, position.amount) == (symbol, "long", Decimal("0.02"))
    ledger_position = sim.ledgers[exchange].positions(account)[0]
    assert ledger_position.size == Decimal("0.02")
    assert position.entry_price == ledger_position.entry_price


@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_a_resting_limit_order_is_listed_and_cancelled(
    sim: Simulator, access: ExchangeAccess, exchange: str
) -> None:
    account = sim.open_account(exchange)
    where = target(exchange, "spot", account)
    symbol = SYMBOL["spot"]
    last = (await access.call(where, lambda a: a.tickers([symbol])))[symbol].last
    below = (last * Decimal("0.8")).quantize(Decimal("0.1"))

    async def rest_order(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(
            symbol, "buy", "limit", Decimal("0.01"), below, client_order_id="rest1"
        )

    placed = await access.call(where, rest_order, retry=False)
    listed = await access.call(where, lambda a: a.open_orders(symbol))
    cancelled = await access.call(where, lambda a: a.cancel_order(placed.id, symbol))

    assert [o.id for o in listed] == [placed.id]
    assert listed[0].price == below and listed[0].amount == Decimal("0.01")
    assert cancelled.id == placed.id
    assert await access.call(where, lambda a: a.open_orders(symbol)) == []


@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_exchange_refusals_become_cts_error_kinds(
    sim: Simulator, access: ExchangeAccess, exchange: str
) -> None:
    account = sim.open_account(exchange, balances={"USDT": Decimal(10)})
    where = target(exchange, "spot", account)

    with pytest.raises(ExchangeError) as poor:
        await access.call(
            where, lambda a: a.create_order("BTC/USDT", "buy", "market", Decimal(1)), retry=False
        )
    assert poor.value.failure is ExchangeFailure.INSUFFICIENT_FUNDS
    with pytest.raises(ExchangeError) as unknown:
        await access.call(where, lambda a: a.cancel_order("123456789", "BTC/USDT"), retry=False)
    assert unknown.value.failure is ExchangeFailure.ORDER_NOT_FOUND
    assert exchange in str(unknown.value)
    # CTS's own message, never the exchange's raw answer (which may echo request details).
    assert "{" not in str(poor.value) and account.api_key not in str(poor.value)
    assert isinstance(poor.value.__cause__, Exception)  # raised from ccxt's exception


@pytest.mark.parametrize("exchange", EXCHANGES)
async def test_maintenance_is_its_own_kind_and_counts_against_the_circuit(
    sim: Simulator, access: ExchangeAccess, exchange: str
) -> None:
    """The exchange's maintenance answer (Binance code 1, OKX 50001, Bybit's HTML page) is
    ``maintenance``, not a plain outage, and opens the circuit like one."""
    where = target(exchange, "spot", sim.open_account(exchange))
    sim.faults.set({"maintenance": True}, exchange=exchange)
    for _ in range(access.config.breaker_threshold):
        with pytest.raises(ExchangeError) as answered:
            await access.call(where, lambda a: a.server_time())
        assert answered.value.failure is ExchangeFailure.MAINTENANCE
        assert answered.value.kind is ErrorKind.UNAVAILABLE
        assert str(answered.value) == f"{exchange}: the exchange is under maintenance"
    with pytest.raises(ExchangeError) as paused:
        await access.call(where, lambda a: a.server_time())
    assert paused.value.failure is ExchangeFailure.CIRCUIT_OPEN


@pytest.mark.parametrize("exchange", ["bybit", "okx"])
async def test_a_read_only_key_placing_an_order_is_a_permission_failure(
    sim: Simulator, access: ExchangeAccess, exchange: str
) -> None:
    account = sim.open_account(exchange, permissions=Permissions(spot=False, derivatives=False))
    where = target(exchange, "spot", account)
    with pytest.raises(ExchangeError) as refused:
        await access.call(
            where,
            lambda a: a.create_order("BTC/USDT", "buy", "market", Decimal("0.001")),
            retry=False,
        )
    assert refused.value.failure is ExchangeFailure.PERMISSION
    assert sim.ledgers[exchange].open_orders(account) == []


def with_client_id(account: Account, client_id: str) -> list[Order]:
    return [o for o in account.orders.values() if o.client_order_id == client_id]


# Venues whose lookup by client order id gives neither the order's type nor its limit price.
LOOKUP_LEAVES_OUT = {
    "kraken-perpetual_futures": "ccxt's krakenfutures reads no type or price from orders/status",
}
# Venues that refuse a client order id only while an order carrying it is open: a blind resend
# of a filled order would be a second order there; CTS looks the id up before any resend.
REUSABLE_CLIENT_IDS = {
    "kraken-spot": "Kraken refuses a cl_ord_id only while an open order carries it",
    "kraken-perpetual_futures": "Kraken Futures refuses a cliOrdId only while an open order "
    "carries it",
}


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.id)
async def test_an_order_whose_answer_was_lost_is_found_and_never_doubled(
    sim: Simulator, access: ExchangeAccess, venue: Venue
) -> None:
    account = sim.open_account(venue.simulated_as)
    where = venue.target(account)
    symbol = venue.symbol
    client_id = uuid.uuid4().hex  # as CTS's engines make them
    await access.call(where, lambda a: a.markets())
    sim.faults.set({"lose_answers": 1}, api_key=account.api_key)

    async def place(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(
            symbol, "buy", "market", Decimal("0.002"), client_order_id=client_id
        )

    with pytest.raises(ExchangeError) as lost:
        await access.call(where, place, retry=False)
    assert lost.value.failure is ExchangeFailure.UNAVAILABLE
    [placed] = account.orders.values()  # placed all the same

    found = await access.call(where, lambda a: a.find_order(client_id, symbol))
    assert found is not None
    assert (found.client_order_id, found.symbol) == (client_id, symbol)
    kind = "" if venue.id in LOOKUP_LEAVES_OUT else "market"
    assert (found.status, found.side, found.type) == ("closed", "buy", kind)
    # In the base asset (OKX swap contracts too), as the ledger filled it.
    assert found.filled == placed.filled > 0
    assert found.average == placed.average

    if venue.id in REUSABLE_CLIENT_IDS:
        return
    # Placing it again (as a blind retry would) is refused as a duplicate: still one order.
    with pytest.raises(ExchangeError) as again:
        await access.call(where, place, retry=False)
    assert again.value.failure is ExchangeFailure.DUPLICATE_ORDER
    assert "{" not in str(again.value)
    assert len(account.orders) == 1


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.id)
async def test_find_order_by_client_id_open_cancelled_or_unknown(
    sim: Simulator, access: ExchangeAccess, venue: Venue
) -> None:
    account = sim.open_account(venue.simulated_as)
    where = venue.target(account)
    symbol = venue.symbol

    assert await access.call(where, lambda a: a.find_order("ctsNever1", symbol)) is None

    last = (await access.call(where, lambda a: a.tickers([symbol])))[symbol].last
    below = (last * Decimal("0.8")).quantize(Decimal("0.1"))

    async def rest_order(adapter: ExchangeAdapter) -> OrderInfo:
        return await adapter.create_order(
            symbol, "buy", "limit", Decimal("0.01"), below, client_order_id="ctsRest1"
        )

    placed = await access.call(where, rest_order, retry=False)
    resting = await access.call(where, lambda a: a.find_order("ctsRest1", symbol))
    assert resting is not None
    assert (resting.id, resting.status) == (placed.id, "open")
    assert resting.price == (None if venue.id in LOOKUP_LEAVES_OUT else below)
    assert (resting.amount, resting.filled) == (Decimal("0.01"), Decimal(0))

    await access.call(where, lambda a: a.cancel_order(placed.id, symbol))
    cancelled = await access.call(where, lambda a: a.find_order("ctsRest1", symbol))
    assert cancelled is not None and (cancelled.id, cancelled.status) == (placed.id, "canceled")
    # The client id names no order of another market.
    eth = symbol.replace("BTC", "ETH")
    assert await access.call(where, lambda a: a.find_order("ctsRest1", eth)) is None
    assert await access.call(where, lambda a: a.find_order("ctsNever1", symbol)) is None


def test_duplicate_order_answers_are_told_from_other_refusals() -> None:
    """Binance spot's -2010 is a duplicate only when it says so (post-only refusals share it);
    ccxt's own DuplicateOrderId is one too. (The exchanges' answers themselves are above.)"""
    duplicate = ccxt.InvalidOrder('binance {"code": -2010, "msg": "Duplicate order sent."}')
    would_take = ccxt.InvalidOrder(
        'binance {"code": -2010, "msg": "Order would immediately match and take."}'
    )
    assert translate(duplicate, exchange="binance").failure is ExchangeFailure.DUPLICATE_ORDER
    assert translate(would_take, exchange="binance").failure is ExchangeFailure.INVALID_ORDER
    generic = ccxt.DuplicateOrderId("kraken EOrder:Duplicate")
    assert translate(generic, exchange="kraken").failure is ExchangeFailure.DUPLICATE_ORDER
    assert translate(generic, exchange="kraken").kind is ErrorKind.ALREADY_EXISTS
