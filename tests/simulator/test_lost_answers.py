"""The ``lose_answers`` fault, on every dialect, through unmodified ccxt built as CTS builds it:
a state-changing request is carried out and then its answer is lost (the exchange's 5xx)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.ledger import Account, Order, OrderStatus
from server.simulator.server import Limits, Simulator

CASES = [
    ("binance", "spot"),
    ("binance", "perpetual_futures"),
    ("bybit", "spot"),
    ("bybit", "perpetual_futures"),
    ("okx", "spot"),
    ("okx", "perpetual_futures"),
]
SYMBOL = {"spot": "BTC/USDT", "perpetual_futures": "BTC/USDT:USDT"}
BTC = Decimal("0.001")  # each order buys this much BTC


Connect = Callable[[str, str, Account], Any]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=23, limits=Limits(per_second=1000, per_minute=100_000))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def connect(sim: Simulator) -> AsyncIterator[Connect]:
    made: list[Any] = []

    def make(exchange: str, api_type: str, account: Account) -> Any:
        instance = create_ccxt(
            exchange,
            api_type,
            api_key=account.api_key,
            secret=account.secret,
            passphrase=account.passphrase,
            base_url=sim.base_url,
        )
        made.append(instance)
        return instance

    yield make
    for instance in made:
        await instance.close()


def with_client_id(account: Account, client_id: str) -> list[Order]:
    return [o for o in account.orders.values() if o.client_order_id == client_id]


async def buy(exchange: Any, api_type: str, client_id: str) -> Any:
    """A market buy of 0.001 BTC (OKX swaps count contracts: one is 0.001 BTC here)."""
    amount = 1 if (exchange.id, api_type) == ("okx", "perpetual_futures") else float(BTC)
    return await exchange.create_order(
        SYMBOL[api_type], "market", "buy", amount, None, {"clientOrderId": client_id}
    )


@pytest.mark.parametrize(("exchange", "api_type"), CASES)
async def test_a_lost_answer_still_places_the_order(
    sim: Simulator, connect: Connect, exchange: str, api_type: str
) -> None:
    account = sim.open_account(exchange)
    client = connect(exchange, api_type, account)
    await client.load_markets()
    sim.faults.set({"lose_answers": 1}, api_key=account.api_key)

    with pytest.raises(ccxt.ExchangeNotAvailable):
        await buy(client, api_type, "lost1")

    # The exchange carried the order out; only its answer was lost (the dialect's own 5xx).
    [order] = with_client_id(account, "lost1")
    assert (order.status, order.filled) == (OrderStatus.FILLED, BTC)
    last = sim.requests[-1]
    assert (last.exchange, last.method, last.status) == (exchange, "POST", 503)
    # Spent: the next order is answered as usual.
    answered = await buy(client, api_type, "answered1")
    assert answered["clientOrderId"] == "answered1"
    assert answered["id"] == with_client_id(account, "answered1")[0].id
    assert len(account.orders) == 2


@pytest.mark.parametrize(("exchange", "api_type"), CASES)
async def test_lost_answers_count_down_over_state_changing_requests_only(
    sim: Simulator, connect: Connect, exchange: str, api_type: str
) -> None:
    account = sim.open_account(exchange)
    client = connect(exchange, api_type, account)
    await client.load_markets()
    sim.faults.set({"lose_answers": 2}, exchange=exchange)

    with pytest.raises(ccxt.ExchangeNotAvailable):
        await buy(client, api_type, "lost1")
    # Reads are answered and do not count.
    assert (await client.fetch_balance())["BTC"]["total"] is not None
    assert sim.faults.effective(exchange, account.api_key).lose_answers == 1
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await buy(client, api_type, "lost2")
    assert sim.faults.effective(exchange, account.api_key).lose_answers == 0
    answered = await buy(client, api_type, "answered3")

    assert answered["clientOrderId"] == "answered3"
    assert sorted(o.client_order_id for o in account.orders.values()) == [
        "answered3",
        "lost1",
        "lost2",
    ]
    assert all(o.status is OrderStatus.FILLED for o in account.orders.values())
    statuses = [(r.method, r.status) for r in sim.requests if r.method == "POST"]
    assert statuses == [("POST", 503), ("POST", 503), ("POST", 200)]


def test_lost_answers_of_a_key_and_of_its_exchange_add_up(sim: Simulator) -> None:
    sim.faults.set({"lose_answers": 2}, exchange="okx")
    sim.faults.set({"lose_answers": 1}, api_key="key-1")
    assert sim.faults.effective("okx", "key-1").lose_answers == 3
    assert sim.faults.effective("okx", "key-2").lose_answers == 2
    # The key's own are spent first.
    assert sim.faults.take_lost_answer("okx", "key-1")
    assert sim.faults.effective("okx", "key-1").lose_answers == 2
    assert sim.faults.by_key["key-1"].lose_answers == 0
    assert sim.faults.take_lost_answer("okx", "key-2")
    assert sim.faults.take_lost_answer("okx", "key-1")
    assert not sim.faults.take_lost_answer("okx", "key-1")
    assert not sim.faults.take_lost_answer("binance", None)


async def test_the_control_api_sets_lost_answers(sim: Simulator, connect: Connect) -> None:
    account = sim.open_account("okx")
    client = connect("okx", "spot", account)
    await client.load_markets()
    url = f"{sim.base_url}/__simulator/faults"
    control = {"authorization": f"Bearer {sim.control_token}"}
    async with aiohttp.ClientSession(headers=control) as http:
        async with http.post(url, json={"api_key": account.api_key, "lose_answers": 1}) as r:
            assert (r.status, await r.json()) == (200, {"ok": True})
        async with http.post(url, json={"exchange": "okx", "lose_answer": 1}) as r:
            assert r.status == 400  # a misspelt fault is refused

        assert sim.faults.effective("okx", account.api_key).lose_answers == 1
        with pytest.raises(ccxt.ExchangeNotAvailable, match="50013"):
            await buy(client, "spot", "lost1")
        assert len(with_client_id(account, "lost1")) == 1
        assert (await buy(client, "spot", "answered2"))["clientOrderId"] == "answered2"

        async with http.post(url, json={"api_key": account.api_key, "lose_answers": 1}) as r:
            assert r.status == 200
        async with http.delete(url) as r:
            assert r.status == 200
    assert sim.faults.effective("okx", account.api_key).lose_answers == 0
    assert (await buy(client, "spot", "answered3"))["clientOrderId"] == "answered3"


async def test_a_cancel_whose_answer_is_lost_still_cancels(
    sim: Simulator, connect: Connect
) -> None:
    """Binance cancels with DELETE, which counts as state-changing too."""
    account = sim.open_account("binance")
    client = connect("binance", "spot", account)
    sim.prices.set_price("BTC", "65000")
    resting = await client.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
    sim.faults.set({"lose_answers": 1}, exchange="binance")

    with pytest.raises(ccxt.ExchangeNotAvailable):
        await client.cancel_order(resting["id"], "BTC/USDT")

    assert account.orders[resting["id"]].status is OrderStatus.CANCELED
    assert (sim.requests[-1].method, sim.requests[-1].status) == ("DELETE", 503)
    assert (await client.fetch_order(resting["id"], "BTC/USDT"))["status"] == "canceled"


@pytest.mark.parametrize(("exchange", "api_type"), CASES)
async def test_an_order_whose_client_goes_away_on_the_way_is_still_carried_out(
    sim: Simulator, connect: Connect, exchange: str, api_type: str
) -> None:
    """A request received in full is carried out even if its client is killed or gives up
    while the exchange is still working on it (the latency fault): what crash tests rely on."""
    account = sim.open_account(exchange)
    client = connect(exchange, api_type, account)
    await buy(client, api_type, "warm1")  # ccxt's one-time calls before a first order are done
    sim.faults.set({"latency_ms": 1000}, api_key=account.api_key)  # 0.5 s before it is handled
    placed = asyncio.ensure_future(
        sim.answered(lambda r: r.method == "POST" and r.api_key == account.api_key)
    )
    sending = asyncio.ensure_future(buy(client, api_type, "gone1"))
    await asyncio.sleep(0.25)  # the fault's own pace: sent, and the exchange still at work
    sending.cancel()  # the client goes away before any answer
    with pytest.raises(asyncio.CancelledError):
        await sending
    async with asyncio.timeout(10):
        await placed
    [order] = with_client_id(account, "gone1")
    assert (order.status, order.filled) == (OrderStatus.FILLED, BTC)
