"""Invariants of trading, checked from the exchange simulator's ledger and CTS's storage.

After any fault, crash or restart, once the fault is lifted and the engines are back:

1. **No duplicate orders**: no client order id twice in an account's orders at the exchange; no
   CTS order that became two exchange orders; no live position with two filled opening (or
   closing) orders; no exchange order that CTS does not know.
2. **At most one open live position per (connection, symbol)**, and at most one open pseudo
   position per (connection, parameter set, symbol).
3. **Exchange holdings equal the open live positions**: on spot, each base asset's balance
   minus what the account held before CTS traded equals the summed quantity of the open live
   positions on it (the simulator charges spot fees in the quote asset); on derivatives, the
   exchange's net position per market equals the signed quantity of the open live position.
4. **No position lost or doubled**: every filled exchange order is a CTS order stored as
   filled with the same quantity, and every filled CTS order is a filled exchange order; a live
   position holds what its filled orders bought or sold; every open live position follows an
   open pseudo position (``settled``: one following a closed one is managed by nothing).
5. **No order left pending** (``settled=True``): every stored order's outcome is known.
6. **No ERROR without a matching fault**: :class:`ErrorLog` collects the log records at ERROR
   or above while a scenario runs; :meth:`ErrorLog.unexplained` leaves out those an injected
   fault explains.

Use::

    links = [Link(connection_id, "binance", account.api_key, "spot", initial={"USDT": 1000})]
    exchange = sim_thread.call(lambda: read_exchange(sim_thread.simulator, links))
    stored = read_storage(database_url)           # or a server.storage Database
    problems = violations(exchange, stored, links)  # [] when every invariant holds
    # or, all in one (reads the ledger on the simulator's loop when given a SimulatorThread):
    assert_invariants(sim_thread, database_url, links)

The ledger belongs to the simulator's event loop: read it there (``SimulatorThread.call``), or
from any thread once the simulator is stopped. Storage is read with its own short-lived
SQLAlchemy engine, so this works while the server runs, after it was killed, or with no server.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import create_engine
from sqlmodel import Session, select

from server.engine.model import OrderRecord, PositionRecord
from server.simulator.instruments import Kind
from server.simulator.ledger import Ledger
from server.simulator.server import Simulator
from server.storage.database import Database
from tests.support.simulator_thread import SimulatorThread

ZERO = Decimal(0)


# -- what is compared ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A CTS connection and the simulated exchange account (API key) it trades on.

    ``api_type`` is the connection's ("spot", "perpetual_futures", ...); ``initial`` the
    account's balances before CTS traded on it (only base assets matter, on spot)."""

    connection_id: str
    exchange: str
    api_key: str
    api_type: str
    initial: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def spot(self) -> bool:
        return self.api_type in ("spot", "margin")


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    """One order as the exchange holds it (amounts in the base asset)."""

    order_id: str
    client_order_id: str
    symbol: str  # ccxt unified: BTC/USDT, BTC/USDT:USDT
    side: str
    status: str  # open, filled, canceled
    amount: Decimal
    filled: Decimal


@dataclass(frozen=True, slots=True)
class ExchangeBooks:
    """What the exchange holds for the linked accounts (by API key)."""

    orders: Mapping[str, tuple[LedgerOrder, ...]]
    balances: Mapping[str, Mapping[str, Decimal]]  # asset → total (free + locked)
    positions: Mapping[str, Mapping[str, Decimal]]  # unified symbol → signed net size


@dataclass(frozen=True, slots=True)
class StoredPosition:
    id: uuid.UUID
    connection_id: str
    mode: str
    set_id: str
    symbol: str
    side: str
    status: str
    quantity: Decimal
    close_reason: str | None
    follows: uuid.UUID | None

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1


@dataclass(frozen=True, slots=True)
class StoredOrder:
    id: uuid.UUID
    connection_id: str
    position_id: uuid.UUID
    client_order_id: str
    symbol: str
    side: str
    intent: str
    quantity: Decimal
    status: str
    filled: Decimal | None
    error: str | None


@dataclass(frozen=True, slots=True)
class StoredBooks:
    """CTS's positions and orders (every connection)."""

    positions: tuple[StoredPosition, ...]
    orders: tuple[StoredOrder, ...]


# -- reading --------------------------------------------------------------------------------------


def read_exchange(source: Simulator | Mapping[str, Ledger], links: Iterable[Link]) -> ExchangeBooks:
    """The linked accounts' orders, balances and positions. Run it on the simulator's loop
    (``SimulatorThread.call``) or when the simulator is stopped."""
    ledgers = source.ledgers if isinstance(source, Simulator) else source
    orders: dict[str, tuple[LedgerOrder, ...]] = {}
    balances: dict[str, dict[str, Decimal]] = {}
    positions: dict[str, dict[str, Decimal]] = {}
    for link in links:
        account = ledgers[link.exchange].accounts[link.api_key]
        orders[link.api_key] = tuple(
            LedgerOrder(
                order_id=o.id,
                client_order_id=o.client_order_id,
                symbol=o.instrument.symbol,
                side=o.side.value,
                status=o.status.value,
                amount=o.amount,
                filled=o.filled,
            )
            for o in account.orders.values()
        )
        balances[link.api_key] = {a: b.total for a, b in account.balances.items()}
        positions[link.api_key] = {
            p.instrument.symbol: p.size
            for p in account.positions.values()
            if p.size and p.instrument.kind is Kind.LINEAR
        }
    return ExchangeBooks(orders, balances, positions)


def read_storage(database: str | Database) -> StoredBooks:
    """Every position and order CTS stored (``database``: a URL or an open Database)."""
    engine = database.engine if isinstance(database, Database) else create_engine(database)
    try:
        with Session(engine) as session:
            positions = tuple(
                StoredPosition(
                    id=p.id,
                    connection_id=str(p.connection_id),
                    mode=p.mode,
                    set_id=p.set_id,
                    symbol=p.symbol,
                    side=p.side,
                    status=p.status,
                    quantity=p.quantity,
                    close_reason=p.close_reason,
                    follows=p.follows,
                )
                for p in session.exec(select(PositionRecord)).all()
            )
            orders = tuple(
                StoredOrder(
                    id=o.id,
                    connection_id=str(o.connection_id),
                    position_id=o.position_id,
                    client_order_id=o.client_order_id,
                    symbol=o.symbol,
                    side=o.side,
                    intent=o.intent,
                    quantity=o.quantity,
                    status=o.status,
                    filled=o.filled,
                    error=o.error,
                )
                for o in session.exec(select(OrderRecord)).all()
            )
    finally:
        if not isinstance(database, Database):
            engine.dispose()
    return StoredBooks(positions, orders)


# -- checking -------------------------------------------------------------------------------------


def violations(
    exchange: ExchangeBooks,
    stored: StoredBooks,
    links: Sequence[Link],
    *,
    settled: bool = True,
) -> list[str]:
    """Every invariant (1-5 above) that does not hold, one message each; [] when all hold.

    ``settled``: the faults are lifted and the engines are back, so no order may be pending
    (with False, pending orders are allowed and the holdings are compared within what the
    pending orders may still change)."""
    found: list[str] = []
    for link in links:
        found.extend(_link_violations(exchange, stored, link, settled=settled))
    found.extend(_pseudo_violations(stored, {link.connection_id for link in links}))
    return found


def check(
    simulator: SimulatorThread | Simulator,
    database: str | Database,
    links: Sequence[Link],
    *,
    settled: bool = True,
) -> list[str]:
    """Read both sides and return the violations (the ledger is read on the simulator's loop
    when given a :class:`SimulatorThread`)."""
    links = list(links)
    if isinstance(simulator, SimulatorThread):
        thread = simulator
        exchange = thread.call(lambda: read_exchange(thread.simulator, links))
    else:
        exchange = read_exchange(simulator, links)
    return violations(exchange, read_storage(database), links, settled=settled)


def assert_invariants(
    simulator: SimulatorThread | Simulator,
    database: str | Database,
    links: Sequence[Link],
    *,
    settled: bool = True,
    context: str = "",
) -> None:
    """:func:`check`, raising an AssertionError that lists every violation."""
    problems = check(simulator, database, links, settled=settled)
    if problems:
        where = f" ({context})" if context else ""
        listed = "\n  - ".join(problems)
        raise AssertionError(f"{len(problems)} invariant violation(s){where}:\n  - {listed}")


def _link_violations(
    exchange: ExchangeBooks, stored: StoredBooks, link: Link, *, settled: bool
) -> Iterator[str]:
    cid = link.connection_id
    name = f"{link.exchange} {link.api_type} connection {cid}"
    orders = [o for o in stored.orders if o.connection_id == cid]
    live = {p.id: p for p in stored.positions if p.connection_id == cid and p.mode == "live"}
    by_client: dict[str, list[LedgerOrder]] = defaultdict(list)
    for placed in exchange.orders.get(link.api_key, ()):
        by_client[placed.client_order_id].append(placed)

    yield from _duplicates(name, orders, by_client)
    yield from _fills(name, orders, by_client, live, settled=settled)
    by_position: dict[uuid.UUID, list[StoredOrder]] = defaultdict(list)
    for order in orders:
        by_position[order.position_id].append(order)
    for position in live.values():
        yield from _position_violations(name, position, by_position[position.id], settled)
    open_live = [p for p in live.values() if p.status == "open"]
    yield from _one_per_symbol(name, open_live)
    if settled:
        yield from _followed(name, open_live, stored, cid)
    pending = [o for o in orders if o.status == "pending"]
    if link.spot:
        yield from _spot_holdings(name, link, exchange, open_live, pending)
    else:
        yield from _derivative_holdings(name, link, exchange, open_live, pending)


def _duplicates(
    name: str, orders: list[StoredOrder], by_client: Mapping[str, list[LedgerOrder]]
) -> Iterator[str]:
    """1. No client order id twice at the exchange or in storage; no exchange order unknown to
    CTS (an order sent twice under two ids would be one)."""
    for client_id, same in by_client.items():
        if len(same) > 1:
            yield f"{name}: client order id {client_id} is on {len(same)} exchange orders"
    known = {o.client_order_id for o in orders}
    for client_id, same in by_client.items():
        if client_id not in known:
            described = ", ".join(f"{o.side} {o.filled}/{o.amount} {o.symbol}" for o in same)
            yield f"{name}: exchange order {client_id} ({described}) is no order of CTS's"
    for client_id, count in Counter(o.client_order_id for o in orders).items():
        if count > 1:
            yield f"{name}: client order id {client_id} is stored {count} times"


def _fills(
    name: str,
    orders: list[StoredOrder],
    by_client: Mapping[str, list[LedgerOrder]],
    live: Mapping[uuid.UUID, StoredPosition],
    *,
    settled: bool,
) -> Iterator[str]:
    """4, 5. Every order's outcome the same on both sides; none pending once settled."""
    for order in orders:
        at_exchange = by_client.get(order.client_order_id, [])
        filled_there = sum((o.filled for o in at_exchange), ZERO)
        label = f"{order.intent} order {order.client_order_id} ({order.side} {order.symbol})"
        if order.position_id not in live:
            yield f"{name}: {label} belongs to no live position of the connection"
        if order.status == "pending":
            if settled:
                yield f"{name}: {label} is still pending (error: {order.error or 'none'})"
        elif order.status == "filled":
            if not at_exchange:
                yield f"{name}: {label} is stored filled but the exchange has no such order"
            elif filled_there != (order.filled or ZERO):
                yield (
                    f"{name}: {label} is stored filled {order.filled}, "
                    f"the exchange filled {filled_there}"
                )
        elif filled_there:
            yield (
                f"{name}: {label} is stored {order.status} but the exchange filled "
                f"{filled_there}: a position CTS does not know"
            )


def _one_per_symbol(name: str, open_live: list[StoredPosition]) -> Iterator[str]:
    """2. At most one open live position per symbol."""
    for symbol, count in Counter(p.symbol for p in open_live).items():
        if count > 1:
            yield f"{name}: {count} open live positions on {symbol}"


def _followed(
    name: str, open_live: list[StoredPosition], stored: StoredBooks, cid: str
) -> Iterator[str]:
    """4. No live position lost to management: each open one follows an open pseudo position
    (the engine closes a live position when the one it follows closes, and only then)."""
    open_pseudo = {
        p.id
        for p in stored.positions
        if p.connection_id == cid and p.mode == "pseudo" and p.status == "open"
    }
    for position in open_live:
        if position.follows not in open_pseudo:
            yield (
                f"{name}: live {position.side} {position.symbol} {position.id} is open but "
                f"follows {position.follows}, which is no open pseudo position: nothing will "
                "ever close it"
            )


def _position_violations(
    name: str, position: StoredPosition, orders: list[StoredOrder], settled: bool
) -> Iterator[str]:
    """1, 4. A live position holds what its filled orders bought, one filled open and at most
    one filled close (orders still pending leave it as it is until settled)."""
    label = f"live {position.side} {position.symbol} {position.id} ({position.status})"
    filled = [o for o in orders if o.status == "filled"]
    for intent in ("open", "close"):
        count = sum(1 for o in filled if o.intent == intent)
        if count > 1:
            yield f"{name}: {label} has {count} filled {intent} orders"
    bought = sum((o.filled or ZERO for o in filled if o.intent in ("open", "add")), ZERO)
    sold = sum((o.filled or ZERO for o in filled if o.intent == "close"), ZERO)
    waiting = any(o.status == "pending" for o in orders)
    if position.status == "open":
        if sold:
            yield f"{name}: {label} is open although its close order filled {sold}"
        if position.quantity != bought and not (waiting and not settled):
            yield f"{name}: {label} holds {position.quantity}, its orders filled {bought}"
    elif position.close_reason == "order_failed":
        if bought:
            yield f"{name}: {label} closed as order_failed, yet its orders filled {bought}"
    elif position.close_reason == "closed_on_exchange":
        pass  # the exchange closed it: no close order of CTS's
    elif sold != bought and not (waiting and not settled):
        yield f"{name}: {label} is closed, but its orders bought {bought} and sold {sold}"


def _spot_holdings(  # 3. on spot
    name: str,
    link: Link,
    exchange: ExchangeBooks,
    open_live: list[StoredPosition],
    pending: list[StoredOrder],
) -> Iterator[str]:
    balances = exchange.balances.get(link.api_key, {})
    live: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for position in open_live:
        live[position.symbol.split("/")[0]] += position.sign * position.quantity
    uncertain = {o.symbol.split("/")[0] for o in pending}
    assets = (
        set(live) | {a for a in balances if a != "USDT"} | {a for a in link.initial if a != "USDT"}
    )
    for asset in sorted(assets):
        held = balances.get(asset, ZERO) - Decimal(link.initial.get(asset, ZERO))
        if held != live[asset] and asset not in uncertain:
            yield (
                f"{name}: the exchange holds {held} {asset} bought by CTS, "
                f"its open live positions {live[asset]}"
            )


def _derivative_holdings(  # 3. on derivatives
    name: str,
    link: Link,
    exchange: ExchangeBooks,
    open_live: list[StoredPosition],
    pending: list[StoredOrder],
) -> Iterator[str]:
    net = exchange.positions.get(link.api_key, {})
    live: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for position in open_live:
        live[position.symbol] += position.sign * position.quantity
    uncertain = {o.symbol for o in pending}
    for symbol in sorted(set(net) | set(live)):
        there = net.get(symbol, ZERO)
        if there != live[symbol] and symbol not in uncertain:
            yield (
                f"{name}: the exchange's net position on {symbol} is {there}, "
                f"the open live positions hold {live[symbol]}"
            )


def _pseudo_violations(stored: StoredBooks, connections: set[str]) -> Iterator[str]:
    open_pseudo = Counter(
        (p.connection_id, p.set_id, p.symbol)
        for p in stored.positions
        if p.mode == "pseudo" and p.status == "open" and p.connection_id in connections
    )
    for (cid, set_id, symbol), count in open_pseudo.items():
        if count > 1:
            yield f"connection {cid}: {count} open pseudo positions of {set_id} on {symbol}"


# -- the error log --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedError:
    logger: str
    level: str
    message: str
    exception: str  # the exception's type and text, empty when none


class ErrorLog(logging.Handler):
    """Collects every log record at ERROR or above (the server runs in this process)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[LoggedError] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Records are scrubbed of secrets when created: the exception survives only as its
        # (scrubbed) text, whose last line is "Type: message".
        exception = record.exc_text.rstrip().splitlines()[-1] if record.exc_text else ""
        self.records.append(
            LoggedError(record.name, record.levelname, record.getMessage(), exception)
        )

    def unexplained(
        self, explained: Callable[[LoggedError], bool] = lambda _: False
    ) -> list[LoggedError]:
        """The records that ``explained`` (the injected fault's consequences) does not cover."""
        return [r for r in self.records if not explained(r)]


@contextmanager
def capture_errors(logger: logging.Logger | None = None) -> Iterator[ErrorLog]:
    """An :class:`ErrorLog` attached to ``logger`` (default: the root logger) meanwhile."""
    target = logger or logging.getLogger()
    handler = ErrorLog()
    target.addHandler(handler)
    try:
        yield handler
    finally:
        target.removeHandler(handler)


def describe(records: Iterable[LoggedError]) -> str:
    return "\n".join(
        f"  {r.level} {r.logger}: {r.message}" + (f" [{r.exception}]" if r.exception else "")
        for r in records
    )


__all__ = [
    "ErrorLog",
    "ExchangeBooks",
    "LedgerOrder",
    "Link",
    "LoggedError",
    "StoredBooks",
    "StoredOrder",
    "StoredPosition",
    "assert_invariants",
    "capture_errors",
    "check",
    "describe",
    "read_exchange",
    "read_storage",
    "violations",
]
