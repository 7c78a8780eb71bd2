"""Live positions: real orders that follow the pseudo positions of optimal sets.

A live position *follows* one pseudo position: it opens when that pseudo position opens (real
market order), adds when it adds, and closes when it closes. It opens only when the pseudo
position's set is optimal at that moment and the connection's exposure rule admits it
(:mod:`server.engine.exposure`: live trading on with credentials, one live position per symbol
and the notional limits, all counting orders in flight; long only on spot). Switching live
trading off opens nothing new; live positions already open keep following their pseudo
positions to their exits (or close at once with "stop engine, close positions").

**No order is ever doubled** (:mod:`server.engine.execution`: stored before it is sent, looked
up by its client order id whenever its answer is lost). After a restart, pending orders are
looked up the same way before the engine trades (reconciliation), and live positions of
derivatives that the exchange no longer holds are closed as ``closed_on_exchange``.

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

from server.engine.execution import OrderExecution
from server.engine.exposure import Allowance, Exposure, Ticket
from server.engine.positions import Fill, Mode, PositionView, Reason, Status, money
from server.engine.store import PositionStore
from server.engine.strategies import Position
from server.exchange.access import ExchangeAccess, Target
from server.exchange.errors import ExchangeError
from server.exchange.model import OrderInfo
from server.monitoring.logs.about import about
from server.monitoring.logs.entry import Category

log = logging.getLogger("cts.engine.live")

CLOSE_RETRY_MAX_SECONDS = 30.0  # a close that did not happen is tried again, at most this apart


@dataclass(frozen=True, slots=True)
class Job:
    """One queued live order: open, add or close of the live position following ``followed``."""

    intent: str
    followed: uuid.UUID
    run: Callable[[], Awaitable[None]]
    ticket: Ticket | None = None  # opens and adds: their reserved exposure


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
        self._execution = OrderExecution(
            connection_id,
            access=access,
            store=store,
            changed=changed,
            retry_seconds=retry_seconds,
            retry_max_seconds=retry_max_seconds,
        )
        self.positions: dict[uuid.UUID, PositionView] = {}  # by the pseudo position followed
        self.exposure = Exposure()
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()  # closes waiting for their next try
        self._target: Target | None = None
        self.closed = 0  # live positions closed since the desk started

    @property
    def orders(self) -> int:
        return self._execution.orders

    @property
    def failed_orders(self) -> int:
        return self._execution.failed_orders

    @property
    def unresolved_orders(self) -> int:
        return self._execution.unresolved_orders

    @property
    def last_error(self) -> str:
        return self._execution.last_error

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

    def holding(self, position_id: uuid.UUID) -> PositionView | None:
        """The open live position with this id (its opening order filled), if held here."""
        return next(
            (p for p in self.positions.values() if p.id == position_id and p.state.quantity),
            None,
        )

    async def close_now(self, live: PositionView, reason: Reason) -> None:
        """Close one live position by a market order (reduce-only on derivatives), queued with
        the desk's other orders — so exactly once, never beside another order of the desk, and
        a close the engine decides meanwhile finds it closed and sends nothing. Returns when
        the order's first outcome is known (a close that did not happen is retried as any)."""
        if self._worker is None:
            raise RuntimeError("the live desk is not taking orders")
        followed = live.follows
        assert followed is not None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                await self._close(followed, reason)
            finally:
                if not done.done():
                    done.set_result(None)

        self._enqueue(Job("close", followed, run))
        worker = self._worker
        await asyncio.wait({done, worker}, return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            raise RuntimeError("the live desk stopped before the close went out")

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
                failure = exc.message if isinstance(exc, ExchangeError) else repr(exc)
                self._execution.last_error = failure
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
            delay = self._execution.backoff(retry + 1, CLOSE_RETRY_MAX_SECONDS)
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
        assert self._target is not None
        return await self._execution.place(self._target, position, side, amount, intent)

    async def _save(self, position: PositionView) -> None:
        await self._store.save([position])
        self._publish(position)
        self._changed()

    # -- reconciliation -----------------------------------------------------------------------

    async def _reconcile(self, target: Target) -> None:
        """Settle orders whose outcome is unknown; drop live positions the exchange closed."""
        by_id = {p.id: p for p in self.positions.values()}
        for order in await self._store.pending_orders(self.connection_id):
            info, known = await self._execution.settle(target, order, send=False)
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


__all__ = ["LiveDesk"]
