"""Live positions: real orders that follow the pseudo positions of optimal sets.

A live position *follows* one pseudo position: it opens when that pseudo position opens (real
market order), adds when it adds, and closes when it closes. It opens only when the pseudo
position's set is optimal at that moment and the connection's exposure rule admits it
(:mod:`server.engine.exposure`: live trading on with credentials, one live position per symbol
and the notional limits, all counting orders in flight; long only on spot). Switching live
trading off opens nothing new; live positions already open keep following their pseudo
positions to their exits (or close at once with "stop engine, close positions").

**No order is ever doubled.** Each order is stored (status ``pending``) with a fresh client
order id *before* it is sent. When the answer is lost (unavailable, timeout, bad response) or
the exchange says the client id is a duplicate, the order is looked up at the exchange by that
id: found, it is the order; not found, it is sent again with the *same* id (the exchange refuses
a second order with it). After a restart, pending orders are looked up the same way before the
engine trades (reconciliation), and live positions of derivatives that the exchange no longer
holds are closed as ``closed_on_exchange``.

Orders run one at a time on a per-engine worker, so a slow exchange delays the live orders but
never the engine's cycle. Stopping the desk drops the queued orders (none was sent) and gives
the order in hand until a deadline; past it the order is abandoned mid-flight and stays
``pending`` in storage, to be looked up at the next start exactly as after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from server.engine.book import Fill, Mode, PositionView, Reason, Status, money
from server.engine.exposure import Allowance, Exposure, Ticket
from server.engine.model import OrderRecord
from server.engine.store import PositionStore
from server.engine.strategies import Position
from server.exchange.access import ExchangeAccess, Target
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.exchange.model import OrderInfo
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category

log = logging.getLogger("cts.engine.live")

# The order may or may not have reached the exchange: look it up before sending again.
UNCERTAIN = frozenset(
    {
        ExchangeFailure.UNAVAILABLE,
        ExchangeFailure.MAINTENANCE,
        ExchangeFailure.TIMEOUT,
        ExchangeFailure.BAD_RESPONSE,
        ExchangeFailure.DUPLICATE_ORDER,
    }
)
# Lookups of an order known to exist that got no answer: repeated with back-off.
UNANSWERED = UNCERTAIN | {ExchangeFailure.CIRCUIT_OPEN, ExchangeFailure.RATE_LIMITED}
MAX_ATTEMPTS = 5
CLOSE_RETRY_MAX_SECONDS = 30.0  # a close that did not happen is tried again, at most this apart
CLOCK_DRIFT_SECONDS = 2.0  # beyond an exchange's receive window before "not found" is final
FILL_CHECKS = 5


@dataclass(frozen=True, slots=True)
class Job:
    """One queued live order: open, add or close of the live position following ``followed``."""

    intent: str
    followed: uuid.UUID
    run: Callable[[], Awaitable[None]]
    ticket: Ticket | None = None  # opens and adds: their reserved exposure


def client_order_id() -> str:
    """A UUID's 32 hex digits: accepted by Binance (36), Bybit (36), OKX (32, alphanumeric),
    BingX, Pionex and Kraken (whose ``cl_ord_id`` must be a UUID, dashes optional, or at most 18
    characters)."""
    return uuid.uuid4().hex


class LiveDesk:
    def __init__(
        self,
        connection_id: str,
        *,
        access: ExchangeAccess,
        store: PositionStore,
        publish: Callable[[PositionView], None],
        changed: Callable[[], None] = lambda: None,
        retry_seconds: float = 0.5,
        retry_max_seconds: float = 2.0,
    ) -> None:
        self.connection_id = connection_id
        self._access = access
        self._store = store
        self._publish = publish
        self._changed = changed  # told after every order's outcome
        self._retry_seconds = retry_seconds
        self._retry_max_seconds = max(retry_seconds, retry_max_seconds)
        self.positions: dict[uuid.UUID, PositionView] = {}  # by the pseudo position followed
        self.exposure = Exposure()
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()  # closes waiting for their next try
        self._target: Target | None = None
        self.orders = 0
        self.closed = 0  # live positions closed since the desk started
        self.failed_orders = 0
        self.last_error = ""

    # -- life ---------------------------------------------------------------------------------

    def restore(self, positions: list[PositionView]) -> None:
        for position in positions:
            if position.follows is not None:
                self.positions[position.follows] = position
                self._hold(position)

    async def start(self, target: Target, following: Collection[uuid.UUID]) -> None:
        """Reconcile with the exchange, then take orders. ``following``: the pseudo positions
        open now; a live position following none of them is closed first."""
        self._target = target
        await self._reconcile(target)
        for followed, live in list(self.positions.items()):
            if followed not in following and live.state.quantity:
                self._enqueue(
                    Job("close", followed, partial(self._close, followed, Reason.FOLLOWED_CLOSED))
                )
        self._worker = asyncio.ensure_future(self._work())

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def skipped(self) -> int:
        """Opens and adds refused by a notional limit."""
        return self.exposure.refused

    async def stop(self, deadline: float) -> None:
        """Drop the queued opens and adds (none of them was sent), then finish the order in hand
        and the queued closes (decisions already taken) — until ``deadline``
        (``loop.time()``); past it the order in flight is abandoned and stays pending, and a
        live position whose close did not go out is closed at the next start."""
        if self._worker is None:
            return
        kept: list[Job] = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            self._queue.task_done()
            if job.intent == "close":
                kept.append(job)
                continue
            if job.ticket is not None:
                self.exposure.settle(job.ticket)
            if job.intent == "open" and job.followed not in self.positions:
                self.exposure.release(job.followed)
        for job in kept:
            self._enqueue(job)
        try:
            async with asyncio.timeout_at(deadline):
                await self._queue.join()
        except TimeoutError:
            log.warning(
                "live orders of %s: shutting down with an order in flight; it stays pending "
                "and is looked up at the next start",
                self.connection_id,
                extra=about(self.connection_id, Category.ORDER),
            )
        for retry in list(self._retries):  # their positions are closed at the next start
            retry.cancel()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def drain(self) -> None:
        """Wait until every queued order is done."""
        await self._queue.join()

    # -- following the pseudo book ------------------------------------------------------------

    def follow(self, fills: list[Fill], optimal: tuple[str, ...], allowance: Allowance) -> None:
        for fill in fills:
            pseudo = fill.position
            followed = pseudo.id
            notional = fill.quantity * fill.price
            if fill.kind == "close":
                if self.exposure.holds(followed):
                    reason = Reason(pseudo.close_reason or Reason.ENGINE_STOP)
                    self._enqueue(Job("close", followed, partial(self._close, followed, reason)))
            elif fill.kind == "open":
                if pseudo.set_id not in optimal:
                    continue
                ticket = self.exposure.admit_open(
                    followed,
                    pseudo.symbol,
                    short=pseudo.side < 0,
                    notional=notional,
                    allowance=allowance,
                )
                if ticket is not None:
                    run = partial(self._open, pseudo, fill.quantity, ticket)
                    self._enqueue(Job("open", followed, run, ticket))
            else:  # add
                ticket = self.exposure.admit_add(followed, notional=notional, allowance=allowance)
                if ticket is not None:
                    run = partial(self._add, pseudo, fill.quantity, ticket)
                    self._enqueue(Job("add", followed, run, ticket))

    def close_all(self) -> None:
        for followed in list(self.positions):
            self._enqueue(
                Job("close", followed, partial(self._close, followed, Reason.ENGINE_STOP))
            )

    def _enqueue(self, job: Job) -> None:
        self._queue.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one order's failure never stops the desk
                self.last_error = exc.message if isinstance(exc, ExchangeError) else repr(exc)
                log.exception(
                    "live order failed for %s",
                    self.connection_id,
                    extra=about(self.connection_id, Category.ORDER),
                )
            finally:
                self._queue.task_done()

    # -- orders -------------------------------------------------------------------------------

    async def _open(self, pseudo: PositionView, amount: Decimal, ticket: Ticket) -> None:
        side = pseudo.side
        notional = ticket.notional
        # Stored before the order (which refers to it): quantity 0 until the order fills.
        live = PositionView(
            id=uuid.uuid4(),
            connection_id=self.connection_id,
            mode=Mode.LIVE,
            set_id=pseudo.set_id,
            symbol=pseudo.symbol,
            state=Position(side, Decimal(0), Decimal(0), Decimal(0), notional, Decimal(0)),
            fees=Decimal(0),
            follows=pseudo.id,
        )
        self.positions[pseudo.id] = live
        await self._store.save([live])
        info, known = await self._order(live, "buy" if side > 0 else "sell", amount, "open")
        await self._settled(live, "open", info, known=known, ticket=ticket)

    async def _add(self, pseudo: PositionView, amount: Decimal, ticket: Ticket) -> None:
        live = self.positions.get(pseudo.id)
        if live is None or not live.state.quantity:
            self.exposure.settle(ticket)  # nothing to add to: no order
            return
        info, known = await self._order(live, "buy" if live.side > 0 else "sell", amount, "add")
        await self._settled(live, "add", info, known=known, ticket=ticket)

    async def _close(self, followed: uuid.UUID, reason: Reason, retry: int = 0) -> None:
        live = self.positions.get(followed)
        if live is None or not live.state.quantity:
            return
        side = "sell" if live.side > 0 else "buy"
        info, known = await self._order(live, side, live.state.quantity, "close")
        await self._settled(live, "close", info, reason, known=known)
        if known and (info is None or not info.filled) and followed in self.positions:
            # The close did not happen (refused, or it never reached the exchange): the decision
            # stands, and it is tried again after a back-off.
            delay = self._backoff(retry + 1, CLOSE_RETRY_MAX_SECONDS)
            again = Job("close", followed, partial(self._close, followed, reason, retry + 1))
            task = asyncio.ensure_future(self._later(delay, again))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _later(self, delay: float, job: Job) -> None:
        await asyncio.sleep(delay)  # the back-off of a close that did not happen
        self._enqueue(job)

    async def _settled(
        self,
        live: PositionView,
        intent: str,
        info: OrderInfo | None,
        reason: Reason = Reason.ENGINE_STOP,
        *,
        known: bool = True,
        ticket: Ticket | None = None,
    ) -> None:
        """Apply an order's outcome to its live position, store and publish it.

        ``info`` None with ``known``: the order did not happen (an open leaves nothing open; an
        add or close changes nothing). Not ``known``: the outcome is still unknown, the position
        stays as it is until the order is looked up again, and its ticket stays reserved.
        """
        followed = live.follows
        assert followed is not None
        if ticket is not None and known:
            self.exposure.settle(ticket)
        if info is None or not info.filled:
            if known and intent == "open":
                self.positions.pop(followed, None)
                self.exposure.release(followed)
                await self._save(
                    replace(
                        live,
                        status=Status.CLOSED,
                        realized_pnl=Decimal(0),
                        close_reason=Reason.ORDER_FAILED.value,
                        closed_at=_now(),
                    )
                )
            return
        updated = applied(live, intent, info, reason)
        if updated.status is Status.CLOSED:
            self.positions.pop(followed, None)
            self.exposure.release(followed)
            self.closed += 1
        else:
            self.positions[followed] = updated
            self._hold(updated)
        await self._save(updated)

    async def _order(
        self, position: PositionView, side: str, amount: Decimal, intent: str
    ) -> tuple[OrderInfo | None, bool]:
        """Place one market order exactly once: its fill (None: it did not happen) and whether
        the outcome is known."""
        assert self._target is not None
        record = OrderRecord(
            connection_id=uuid.UUID(self.connection_id),
            position_id=position.id,
            client_order_id=client_order_id(),
            symbol=position.symbol,
            side=side,
            intent=intent,
            quantity=amount,
            status="pending",
        )
        await self._store.add_order(record)
        self.orders += 1
        log.info(
            "live order: %s %s %s %s (%s)",
            side,
            record.quantity,
            record.symbol,
            "market",
            intent,
            extra=self._about(record),
        )
        return await self._settle(self._target, record, send=True)

    def _about(self, order: OrderRecord, **context: object) -> dict[str, object]:
        return about(
            self.connection_id,
            Category.ORDER,
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            intent=order.intent,
            **context,
        )

    async def _settle(
        self, target: Target, order: OrderRecord, *, send: bool
    ) -> tuple[OrderInfo | None, bool]:
        """Learn the order's outcome: the fill (None: no order) and whether it is known.

        With ``send``, the order is sent — again with the same client order id after an
        uncertain failure that a lookup could not settle — up to ``MAX_ATTEMPTS`` times. From
        then on (and from the start without ``send``) it is only looked up, with back-off, until
        the exchange answers: found, its fill; not found, it never happened. An answer that is
        neither (the key was revoked, say) leaves it pending, to be looked up at the next start.
        The caller waits all along: no other order of the desk goes out before this one is known.
        """
        reduce_only = order.intent == "close" and target.api_type != "spot"
        info: OrderInfo | None = None
        attempt = 0
        while info is None:
            attempt += 1
            sending = send and attempt <= MAX_ATTEMPTS
            try:
                if sending:
                    info = await self._access.call(
                        target,
                        lambda a: a.create_order(
                            order.symbol,
                            order.side,
                            "market",
                            order.quantity,
                            client_order_id=order.client_order_id,
                            reduce_only=reduce_only,
                        ),
                    )
                else:
                    info = await self._find(target, order)
                    if info is None and not await self._may_still_arrive(target, order):
                        return await self._fail(order, "not found at the exchange")
            except ExchangeError as exc:
                uncertain = exc.failure in UNCERTAIN
                if not uncertain and exc.failure is not ExchangeFailure.CIRCUIT_OPEN:
                    if sending:
                        return await self._fail(order, exc.message)
                    log.warning(
                        "order %s: cannot be looked up (%s)",
                        order.id,
                        exc.failure.value,
                        extra=self._about(order, failure=exc.failure.value),
                    )
                    return None, False  # stays pending: looked up again on the next start
                self.last_error = exc.message
                await self._store.update_order(order.id, attempts=attempt, error=exc.message[:300])
                if sending and uncertain:
                    with contextlib.suppress(ExchangeError):
                        info = await self._find(target, order)
                    if info is not None:
                        break
                if send and attempt == MAX_ATTEMPTS:
                    log.warning(
                        "order %s: outcome unknown; looking it up until known",
                        order.id,
                        extra=self._about(order, failure=exc.failure.value),
                    )
            if info is None:
                await asyncio.sleep(self._backoff(attempt))
        try:
            info = await self._filled(target, order, info)
        except ExchangeError as exc:  # the order exists; its fill cannot be learned now
            log.warning(
                "order %s: its fill cannot be looked up (%s)",
                order.id,
                exc.failure.value,
                extra=self._about(order, failure=exc.failure.value),
            )
            await self._store.update_order(order.id, error=exc.message[:300])
            return None, False  # stays pending: looked up again on the next start
        await self._store.update_order(
            order.id,
            status="filled" if info.filled else "failed",
            exchange_order_id=info.id,
            filled=info.filled,
            average_price=info.average or info.price,
            fee=info.fee,
        )
        if info.filled:
            log.info(
                "live order filled: %s %s %s at %s",
                order.side,
                info.filled,
                order.symbol,
                info.average or info.price,
                extra=self._about(order, exchange_order_id=info.id, filled=info.filled),
            )
        else:
            log.warning(
                "live order not filled: %s %s (%s)",
                order.side,
                order.symbol,
                info.status,
                extra=self._about(order, exchange_order_id=info.id, status=info.status),
            )
        return info, True

    def _backoff(self, attempt: int, longest: float | None = None) -> float:
        """The wait before try ``attempt + 1``: ``retry_seconds`` doubling from the first, up
        to ``longest`` (default ``retry_max_seconds``)."""
        delay = self._retry_seconds * 2.0 ** min(attempt - 1, 16)
        return min(delay, self._retry_max_seconds if longest is None else longest)

    async def _may_still_arrive(self, target: Target, order: OrderRecord) -> bool:
        """Could the order, not found at the exchange, still reach it? Until it is older than
        the exchange's receive window (plus clock drift), its request may be under way."""
        window = await self._access.receive_window(target) + CLOCK_DRIFT_SECONDS
        created = order.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return (_now() - created).total_seconds() < window

    async def _find(self, target: Target, order: OrderRecord) -> OrderInfo | None:
        return await self._access.call(
            target, lambda a: a.find_order(order.client_order_id, order.symbol)
        )

    async def _filled(self, target: Target, order: OrderRecord, info: OrderInfo) -> OrderInfo:
        """Exchanges that only acknowledge (Bybit, OKX) are asked for the fill. The order is
        known to exist: a lookup that gets no answer (the exchange unwell, a circuit open, a
        rate limit) is repeated with back-off, and only answers count as checks."""
        checks = unanswered = 0
        while info.status == "open" or (info.status != "canceled" and not info.filled):
            if checks >= FILL_CHECKS:
                break
            try:
                found = await self._find(target, order)
            except ExchangeError as exc:
                if exc.failure not in UNANSWERED:
                    raise
                unanswered += 1
                self.last_error = exc.message
                await asyncio.sleep(self._backoff(unanswered))
                continue
            checks += 1
            if found is not None:
                info = found
        return info

    async def _fail(self, order: OrderRecord, reason: str) -> tuple[None, bool]:
        log.error("live order failed: %s", reason, extra=self._about(order))
        self.failed_orders += 1
        self.last_error = reason
        await self._store.update_order(order.id, status="failed", error=reason[:300])
        self._changed()
        return None, True

    async def _save(self, position: PositionView) -> None:
        await self._store.save([position])
        self._publish(position)
        self._changed()

    # -- reconciliation -----------------------------------------------------------------------

    async def _reconcile(self, target: Target) -> None:
        """Settle orders whose outcome is unknown; drop live positions the exchange closed."""
        by_id = {p.id: p for p in self.positions.values()}
        for order in await self._store.pending_orders(self.connection_id):
            info, known = await self._settle(target, order, send=False)
            live = by_id.get(order.position_id)
            if live is not None:
                await self._settled(live, order.intent, info, Reason.ENGINE_STOP, known=known)
        if target.api_type == "spot":
            return
        holding = [p for p in self.positions.values() if p.state.quantity]
        if not holding:
            return
        held = {
            p.symbol
            for p in await self._access.call(
                target, lambda a: a.positions([p.symbol for p in holding])
            )
        }
        for live in holding:
            if live.symbol not in held and live.follows is not None:
                del self.positions[live.follows]
                self.exposure.release(live.follows)
                await self._save(
                    replace(
                        live,
                        status=Status.CLOSED,
                        close_reason=Reason.CLOSED_ON_EXCHANGE.value,
                        closed_at=_now(),
                    )
                )

    def _hold(self, position: PositionView) -> None:
        """Count a live position in the exposure: filled notional, or — while its opening order
        is pending (quantity 0) — that order's value."""
        assert position.follows is not None
        notional = position.notional if position.state.quantity else position.state.order_value
        self.exposure.hold(position.follows, position.symbol, notional)


def applied(live: PositionView, intent: str, info: OrderInfo, reason: Reason) -> PositionView:
    """A live position after one of its orders filled (at the order's average price)."""
    price = info.average or info.price or live.state.average_price
    fee = info.fee or Decimal(0)
    state = live.state
    if intent == "open":
        opened = Position(live.side, info.filled, price, price, info.filled * price, price)
        return replace(live, state=opened, fees=fee, mark_price=price)
    if intent == "add":
        total = state.quantity + info.filled
        average = (state.quantity * state.average_price + info.filled * price) / total
        return replace(
            live,
            state=replace(state, quantity=total, average_price=average, adds=state.adds + 1),
            fees=live.fees + fee,
            mark_price=price,
        )
    fees = live.fees + fee
    return replace(
        live,
        status=Status.CLOSED,
        fees=fees,
        exit_price=price,
        realized_pnl=money(live.side * (price - state.average_price) * info.filled - fees),
        close_reason=reason.value,
        closed_at=_now(),
        mark_price=price,
    )


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["LiveDesk", "client_order_id"]
