"""Market orders placed exactly once, and their outcome learnt, for one connection's live
positions (:mod:`server.engine.live`).

Each order is stored (status ``pending``) with a fresh client order id *before* it is sent.
When the answer is lost (unavailable, timeout, bad response) or the exchange says the client id
is a duplicate, the order is looked up at the exchange by that id: found, it is the order; not
found, it is sent again with the *same* id (the exchange refuses a second order with it). An
order whose outcome stays unknown is left ``pending``, to be looked up at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from server.engine.model import OrderRecord
from server.engine.positions import PositionView
from server.engine.store import PositionStore
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
CLOCK_DRIFT_SECONDS = 2.0  # beyond an exchange's receive window before "not found" is final
FILL_CHECKS = 5


def client_order_id() -> str:
    """A UUID's 32 hex digits: accepted by Binance (36), Bybit (36), OKX (32, alphanumeric),
    BingX, Pionex and Kraken (whose ``cl_ord_id`` must be a UUID, dashes optional, or at most 18
    characters)."""
    return uuid.uuid4().hex


class OrderExecution:
    """Places one connection's market orders exactly once; counts them and keeps the last error."""

    def __init__(
        self,
        connection_id: str,
        *,
        access: ExchangeAccess,
        store: PositionStore,
        changed: Callable[[], None],
        retry_seconds: float,
        retry_max_seconds: float,
    ) -> None:
        self.connection_id = connection_id
        self._access = access
        self._store = store
        self._changed = changed  # told after every order's outcome
        self._retry_seconds = retry_seconds
        self._retry_max_seconds = max(retry_seconds, retry_max_seconds)
        self.orders = 0
        self.failed_orders = 0
        # Orders whose outcome could not be learnt (left pending, or still being looked up
        # after every send): each one needs the operator's eye on the exchange.
        self.unresolved_orders = 0
        self._unresolved_ids: set[str] = set()
        self.last_error = ""

    async def place(
        self, target: Target, position: PositionView, side: str, amount: Decimal, intent: str
    ) -> tuple[OrderInfo | None, bool]:
        """Place one market order exactly once: its fill (None: it did not happen) and whether
        the outcome is known."""
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
            extra=self.about(record),
        )
        return await self.settle(target, record, send=True)

    def about(self, order: OrderRecord, **context: object) -> dict[str, object]:
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

    async def settle(
        self, target: Target, order: OrderRecord, *, send: bool
    ) -> tuple[OrderInfo | None, bool]:
        """Learn the order's outcome: the fill (None: no order) and whether it is known.

        With ``send``, the order is sent — again with the same client order id after an
        uncertain failure that a lookup could not settle — up to ``MAX_ATTEMPTS`` times; on an
        exchange that takes a client order id again once no open order carries it (Kraken), it
        is never sent twice: after an uncertain failure it is only looked up. From
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
                        extra=self.about(order, failure=exc.failure.value),
                    )
                    self._unresolved(order, exc.message)
                    return None, False  # stays pending: looked up again on the next start
                self.last_error = exc.message
                await self._store.update_order(order.id, attempts=attempt, error=exc.message[:300])
                if sending and uncertain:
                    with contextlib.suppress(ExchangeError):
                        info = await self._find(target, order)
                    if info is not None:
                        break
                    if await self._access.reuses_client_ids(target):
                        # The exchange would take the same id again once the first order (still
                        # on its way, perhaps) is filled: never send again; look it up until it
                        # is found or can no longer arrive.
                        send = False
                if send and attempt == MAX_ATTEMPTS:
                    log.warning(
                        "order %s: outcome unknown; looking it up until known",
                        order.id,
                        extra=self.about(order, failure=exc.failure.value),
                    )
                    self._unresolved(order, exc.message)
            if info is None:
                await asyncio.sleep(self.backoff(attempt))
        try:
            info = await self._filled(target, order, info)
        except ExchangeError as exc:  # the order exists; its fill cannot be learned now
            log.warning(
                "order %s: its fill cannot be looked up (%s)",
                order.id,
                exc.failure.value,
                extra=self.about(order, failure=exc.failure.value),
            )
            await self._store.update_order(order.id, error=exc.message[:300])
            self._unresolved(order, exc.message)
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
                extra=self.about(order, exchange_order_id=info.id, filled=info.filled),
            )
        else:
            log.warning(
                "live order not filled: %s %s (%s)",
                order.side,
                order.symbol,
                info.status,
                extra=self.about(order, exchange_order_id=info.id, status=info.status),
            )
        return info, True

    def backoff(self, attempt: int, longest: float | None = None) -> float:
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
                await asyncio.sleep(self.backoff(unanswered))
                continue
            checks += 1
            if found is not None:
                info = found
        return info

    def _unresolved(self, order: OrderRecord, reason: str) -> None:
        """Counted once per order, however many times its outcome stays unknown."""
        self.last_error = reason
        if order.client_order_id in self._unresolved_ids:
            return
        self._unresolved_ids.add(order.client_order_id)
        self.unresolved_orders += 1
        self._changed()

    async def _fail(self, order: OrderRecord, reason: str) -> tuple[None, bool]:
        log.error("live order failed: %s", reason, extra=self.about(order))
        self.failed_orders += 1
        self.last_error = reason
        await self._store.update_order(order.id, status="failed", error=reason[:300])
        self._changed()
        return None, True


def _now() -> datetime:
    return datetime.now(UTC)
