"""An engine trading against the exchange simulator with unmodified ccxt, round by round.

The market feed is the only part these tests drive themselves (``tests/support/stepping.py``).

Prices: every simulated asset is held flat at 100 before the engine loads, so its history is
flat; the test then moves the traded symbol's price one round at a time. With the default
preset and flat history at 100, a current close ``p`` gives (see indications.py):
Direction fraction ``0.15 (p - 100) / p`` (long above 101.35), Active volatility
``|p/100 - 1| * sqrt(0.95 / 19)`` (active beyond ±0.447 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from server.engine.positions import Mode, Status
from server.engine.status import Desired, EngineState
from server.engine.store import PositionStore
from server.engine.strategies import Side
from tests.support.stepping import SLIPPAGE, Bench

FEE = Decimal("0.001")  # Binance spot taker fee, as ccxt lists it
D = Decimal


def quantity(value: Decimal, price: Decimal) -> Decimal:
    return (value / price).quantize(D("1e-12"), rounding=ROUND_DOWN)


def money(value: Decimal) -> Decimal:
    return value.quantize(D("1e-12"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Trade:
    """A hand-computed pseudo position: one buy of 10 USDT, one sell."""

    entry: Decimal  # fill: last * (1 + slippage)
    exit: Decimal  # fill: last * (1 - slippage)
    reason: str

    @property
    def quantity(self) -> Decimal:
        return quantity(D(10), self.entry)

    @property
    def fees(self) -> Decimal:
        return money(self.quantity * self.entry * FEE) + money(self.quantity * self.exit * FEE)

    @property
    def pnl(self) -> Decimal:
        return money((self.exit - self.entry) * self.quantity - self.fees)


# Path 102, 103, 104, 103.4, 101.8, 105, 100 with trend/trailing (default preset: take-profit
# 3 %, stop-loss 1.5 % from the entry, trailing stop arms at +1 % and trails 0.5 %):
# 102    Direction 0.3/102 = 0.29 % > 0.2 %, Active: open long at 102 * 1.0005 = 102.051
# 103    best 103 < arm level 102.051 * 1.01 = 103.07151: nothing
# 104    best 104 arms the trailing stop at 104 * 0.995 = 103.48; 104 is above: nothing
# 103.4  at or below 103.48: trailing stop, sell at 103.4 * 0.9995 = 103.3483; the entry still
#        fires (0.15 * 3.4 / 103.4 = 0.49 %): open again at 103.4517
# 101.8  stop-loss level 103.4517 * 0.985 = 101.8999...: stop-loss, sell at 101.7491; the entry
#        fires (0.15 * 1.8 / 101.8 = 0.265 %): open at 101.8509
# 105    take-profit level 101.8509 * 1.03 = 104.906...: take-profit, sell at 104.9475; open at
#        105.0525
# 100    stop-loss level 103.4767...: stop-loss, sell at 99.95; Direction 0: nothing opens
EXPECTED = [
    Trade(D("102.051"), D("103.3483"), "trailing_stop"),
    Trade(D("103.4517"), D("101.7491"), "stop_loss"),
    Trade(D("101.8509"), D("104.9475"), "take_profit"),
    Trade(D("105.0525"), D("99.95"), "stop_loss"),
]
PATH = ["102", "103", "104", "103.4", "101.8", "105", "100"]


async def test_a_scripted_price_path_makes_exactly_the_expected_pseudo_trades(
    bench: Bench,
) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    connection_id = await bench.connect(account)
    engine = bench.engine(connection_id)
    symbol = await bench.running(engine)

    await bench.prices(symbol, PATH)
    await engine.flush()

    store = PositionStore(bench.book.db)
    stored = await store.find(connection_id=connection_id, status=None, mode=None, limit=100)
    trades = sorted(stored, key=lambda p: p.opened_at)
    assert [(p.state.entry_price, p.exit_price, p.close_reason) for p in trades] == [
        (t.entry, t.exit, t.reason) for t in EXPECTED
    ]
    for position, trade in zip(trades, EXPECTED, strict=True):
        assert position.status is Status.CLOSED
        assert (position.symbol, position.set_id, position.side) == (
            symbol,
            "trend/trailing",
            Side.LONG,
        )
        assert position.state.quantity == trade.quantity
        assert position.fees == trade.fees
        assert position.realized_pnl == trade.pnl
    trading = engine.status.trading
    assert (trading.trades, trading.open_pseudo, trading.closed_pseudo) == (8, 0, 4)
    assert trading.realized_pnl == sum((t.pnl for t in EXPECTED), D(0))
    # Every fill was streamed as it happened: 4 opens and 4 closes.
    assert [p.status for p in bench.published] == [Status.OPEN, Status.CLOSED] * 4
    # The orders were paper: nothing reached the exchange's books.
    assert bench.sim.ledgers["binance"].accounts[account.api_key].orders == {}
    await engine.stop()


async def test_pause_manages_open_positions_and_opens_nothing(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102"])  # opens at 102.051
    engine.run(Desired.PAUSED)

    await bench.prices(symbol, ["104", "103.4", "102"])  # trailing stop at 103.4; no re-open
    await engine.flush()

    store = PositionStore(bench.book.db)
    stored = await store.find(connection_id=engine.connection_id, status=None, mode=None, limit=9)
    assert [(p.status, p.close_reason) for p in stored] == [(Status.CLOSED, "trailing_stop")]
    await engine.stop()


async def test_a_restarted_engine_takes_its_open_positions_back(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    connection_id = await bench.connect(account)
    engine = bench.engine(connection_id, sets=("trend/trailing", "trend/dca"))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102", "101.5"])  # both open at 102.051; DCA's first safety
    # order is at 102.051 * 0.99 = 101.03049, so 101.5 changes nothing
    held = {p.id: p for p in engine.book.open.values()} if engine.book else {}
    assert len(held) == 2
    await engine.stop()

    again = bench.engine(connection_id, sets=("trend/trailing", "trend/dca"))
    bench.feed.idle.clear()
    await bench.running(again)
    assert again.book is not None
    assert {p.id: (p.set_id, p.state) for p in again.book.open.values()} == {
        p.id: (p.set_id, p.state) for p in held.values()
    }
    # Still held, so the entry (still firing) opens nothing new; DCA buys its safety order.
    await bench.prices(symbol, ["101"])
    dca = next(p for p in again.book.open.values() if p.set_id == "trend/dca")
    assert dca.id in held and dca.state.adds == 1
    assert len(again.book.open) == 2
    await again.stop()


async def test_stop_with_close_positions_closes_them_at_the_last_price(bench: Bench) -> None:
    account = bench.sim.open_account("binance", balances={"USDT": 1000})
    engine = bench.engine(await bench.connect(account))
    symbol = await bench.running(engine)
    await bench.prices(symbol, ["102", "102.5"])

    await engine.stop(close_positions=True)

    store = PositionStore(bench.book.db)
    (position,) = await store.find(
        connection_id=engine.connection_id, status=None, mode=None, limit=9
    )
    expected = Trade(D("102.051"), D("102.5") * (1 - SLIPPAGE), "engine_stop")
    assert (position.status, position.close_reason, position.exit_price) == (
        Status.CLOSED,
        "engine_stop",
        expected.exit,
    )
    assert position.realized_pnl == expected.pnl
    assert engine.status.state is EngineState.STOPPED


# -- live trading -------------------------------------------------------------------------------


async def test_live_trading_follows_the_optimal_set_and_never_doubles_an_order(
    bench: Bench,
) -> None:
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing", "trend/dca"), ["trend/trailing"], volume_factor="5"
    )  # 50 USDT per order
    connection_id = engine.connection_id
    assert engine.desk is not None
    # The exchange carries out the next order but its answer is lost on the way back.
    bench.sim.faults.set({"lose_answers": 1}, api_key=account.api_key)

    await bench.prices(symbol, ["102"])  # both sets open; only trend/trailing is optimal
    await engine.desk.drain()

    orders = list(bench.sim.ledgers["binance"].accounts[account.api_key].orders.values())
    assert len(orders) == 1, [(o.client_order_id, o.side) for o in orders]
    (bought,) = orders
    assert (bought.side.value, bought.type.value, bought.status.value) == (
        "buy",
        "market",
        "filled",
    )
    # The pseudo position's quantity, in the market's amount steps (ccxt rounds down).
    step = bought.instrument.amount_step
    assert (
        bought.amount == (quantity(D(50), D("102.051")) / step).to_integral_value(ROUND_DOWN) * step
    )
    (live,) = engine.desk.positions.values()
    pseudo = next(p for p in engine.book.open.values() if p.set_id == "trend/trailing")  # type: ignore[union-attr]
    assert (live.follows, live.state.quantity, live.state.average_price) == (
        pseudo.id,
        bought.filled,
        bought.average,
    )
    # Stored before it was sent; one attempt whose answer was lost, then found by its id.
    stored_orders = await PositionStore(bench.book.db).orders(live.id)
    assert [(o.client_order_id, o.status, o.attempts) for o in stored_orders] == [
        (bought.client_order_id, "filled", 1)
    ]

    await bench.prices(symbol, ["104", "103.4"])  # trailing stop: the live position closes too
    await engine.desk.drain()

    orders = list(bench.sim.ledgers["binance"].accounts[account.api_key].orders.values())
    assert [(o.side.value, o.amount) for o in orders] == [
        ("buy", bought.amount),
        ("sell", bought.filled),
    ]
    assert engine.desk.positions == {}
    closed = await PositionStore(bench.book.db).find(
        connection_id=connection_id, status=Status.CLOSED, mode=Mode.LIVE, limit=9
    )
    assert [(p.close_reason, p.exit_price) for p in closed] == [
        ("trailing_stop", orders[1].average)
    ]
    assert engine.status.trading.live_orders == 2
    await engine.stop()


async def test_live_trading_respects_the_notional_limits(bench: Bench) -> None:
    account, engine, symbol = await bench.live_engine(
        ["trend/trailing"],
        ["trend/trailing"],
        volume_factor="5",
        max_position_notional="40",
        max_total_notional="40",
    )

    await bench.prices(symbol, ["102"])  # 50 USDT > 40: refused
    assert engine.desk is not None
    await engine.desk.drain()

    assert bench.sim.ledgers["binance"].accounts[account.api_key].orders == {}
    assert engine.desk.skipped == 1
    assert len(engine.book.open) == 1  # type: ignore[union-attr]  # the pseudo position opened
    await engine.stop()
