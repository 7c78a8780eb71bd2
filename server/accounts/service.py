"""Account summaries: every connection's balance and position figures, kept current and pushed.

The summaries live in memory. They start from storage (:mod:`server.accounts.store`) and from
then on follow, without any exchange call of their own but the balance reads:
- the position stream: fills, closes and re-marks change the figures
  (:mod:`server.accounts.figures`), and a live fill asks for a balance read;
- the connection stream: a created connection gets a summary, a deleted one loses it;
- the balance reads (:mod:`server.accounts.balances`): through exchange access, within the
  account's limits and circuit; a failed read keeps the last figures and sets ``error``;
- midnight UTC: today's realised PnL starts again at zero.
Every change that changes a summary publishes it on the ``accounts`` topic — once per summary
per batch of position changes handled together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from server.accounts.balances import BalanceSchedule
from server.accounts.figures import ModeFigures
from server.accounts.history import PnlHistory, parse_connection, pnl_history
from server.accounts.model import ZERO, AccountSummary, Balance, Figures
from server.accounts.quote import DEFAULT_QUOTE, quote_from_assets, settle_of
from server.accounts.store import AccountStore
from server.accounts.valuation import PriceOf, valued
from server.connections.service import Connections
from server.connections.view import ConnectionView
from server.engine.loading import MARKET_TYPE
from server.engine.marks import PositionEvent, PositionMarks
from server.engine.positions import Mode, PositionView
from server.errors import NotFound
from server.exchange.access import ExchangeAccess, Target
from server.exchange.errors import ExchangeError, ExchangeFailure
from server.storage.database import Database
from server.streams.follow import follow
from server.streams.topic import CLOSED, OVERFLOW, STEP_SECONDS, Change, Subscription, Topic
from server.streams.watch import StreamItem, watch

log = logging.getLogger("cts.accounts")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def reads_balance(view: ConnectionView) -> bool:
    """Whose balance is read: enabled connections with credentials."""
    return view.is_enabled and view.has_credentials


class Accounts:
    def __init__(
        self,
        connections: Connections,
        access: ExchangeAccess,
        db: Database,
        topic: Topic[AccountSummary],
        position_topic: Topic[PositionEvent],
        connection_topic: Topic[ConnectionView],
        *,
        prices: Callable[[Target], PriceOf],
        interval_seconds: float = 60.0,
        fill_delay_seconds: float = 1.0,
        heartbeat_seconds: float = 15.0,
        clock: Clock = utc_now,
    ) -> None:
        self._connections = connections
        self._access = access
        self.store = AccountStore(db)
        self.topic = topic
        self._position_topic = position_topic
        self._connection_topic = connection_topic
        self._prices = prices
        self._heartbeat_seconds = heartbeat_seconds
        self._clock = clock
        self.schedule = BalanceSchedule(
            self.read_balance,
            self._readable,
            interval_seconds=interval_seconds,
            fill_delay_seconds=fill_delay_seconds,
        )
        self._summaries: dict[str, AccountSummary] = {}
        self._balances: dict[str, Balance] = {}
        self._figures: dict[tuple[str, Mode], ModeFigures] = {}
        self._position_quote: dict[str, str] = {}
        self._balance_quote: dict[str, str] = {}
        self._day = clock().date()
        self._tasks: list[asyncio.Task[None]] = []

    # -- life ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the streams, load the figures from storage, then follow."""
        positions, _ = self._position_topic.subscribe()
        connections, _ = self._connection_topic.subscribe()
        await self._load()
        self._tasks = [
            asyncio.ensure_future(self._follow_positions(positions)),
            asyncio.ensure_future(
                follow(
                    self._connection_topic,
                    self._connection_changed,
                    on_resync=self._connections_resynced,
                    subscription=connections,
                )
            ),
            asyncio.ensure_future(self._midnights()),
        ]
        self.schedule.start()

    async def stop(self) -> None:
        await self.schedule.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # -- what clients see ---------------------------------------------------------------------

    def summaries(self, connection_ids: Sequence[str] = ()) -> list[AccountSummary]:
        """The summaries of the connections named (each must exist: INVALID_ARGUMENT or
        NOT_FOUND naming ``connection_ids``), or of every connection, in connection order."""
        if connection_ids:
            wanted = [self._connections.known(c, field="connection_ids") for c in connection_ids]
            return [self._summary_of(cid) for cid in dict.fromkeys(wanted)]
        return [self._summary_of(str(v.id)) for v in self._connections.views()]

    def quote_currency(self, connection_id: str) -> str:
        return (
            self._position_quote.get(connection_id)
            or self._balance_quote.get(connection_id)
            or DEFAULT_QUOTE
        )

    def watch(self, *, resume_revision: int = 0) -> AsyncIterator[StreamItem[AccountSummary]]:
        async def load() -> list[AccountSummary]:
            return self.summaries()

        return watch(
            self.topic,
            load=load,
            matches=lambda _: True,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
        )

    async def pnl_history(
        self, *, connection_id: str, since: datetime | None, bucket_seconds: int
    ) -> PnlHistory:
        """Realised PnL over time (:mod:`server.accounts.history`) of one connection or all."""
        cid = parse_connection(connection_id)
        if cid is not None:
            self._connections.view(str(cid))  # NOT_FOUND
            quotes = {self.quote_currency(str(cid))}
        else:
            quotes = {self.quote_currency(str(v.id)) for v in self._connections.views()}
        return await pnl_history(
            self.store,
            connection_id=cid,
            since=since,
            bucket_seconds=bucket_seconds,
            now=self._clock(),
            quote_of=self.quote_currency,
            quotes=quotes,
        )

    # -- balances -----------------------------------------------------------------------------

    async def read_balance(self, connection_id: str) -> None:
        """Read the account's balance through exchange access and publish what changed."""
        view = self._connections.cached(uuid.UUID(connection_id))
        if view is None or not reads_balance(view):
            return
        try:
            target = await self._connections.target(connection_id)
        except NotFound:
            return  # deleted meanwhile
        if target.credentials is None:
            return
        before = self._balances.get(connection_id, Balance())
        try:
            assets = await self._access.call(target, lambda a: a.balances())
        except ExchangeError as exc:
            balance = replace(before, error=exc.failure.value)
        except Exception:
            log.exception("reading the balance of %s failed", connection_id)
            balance = replace(before, error=ExchangeFailure.OTHER.value)
        else:
            found = quote_from_assets(a.asset for a in assets)
            if found is not None:
                self._balance_quote[connection_id] = found
            balance = valued(
                assets,
                quote=self.quote_currency(connection_id),
                derivatives=MARKET_TYPE.get(target.api_type) == "swap",
                price_of=self._prices(target),
                read_at=self._clock(),
            )
        if self._connections.cached(uuid.UUID(connection_id)) is None:
            return  # deleted while it was read
        self._balances[connection_id] = balance
        self._publish(connection_id)

    def _readable(self) -> list[str]:
        return [str(v.id) for v in self._connections.views() if reads_balance(v)]

    # -- the day ------------------------------------------------------------------------------

    def roll_day(self) -> None:
        """Start a new day (00:00 UTC) when the clock says it is one: today's realised PnL of
        every account starts again at zero."""
        today = self._clock().date()
        if today <= self._day:
            return
        self._day = today
        changed = {cid for (cid, _), f in self._figures.items() if f.roll(today)}
        for cid in changed:
            self._publish(cid)

    async def _midnights(self) -> None:
        while True:
            now = self._clock()
            wait = midnight(now.date() + timedelta(days=1)) - now
            await asyncio.sleep(wait.total_seconds())  # the day's end itself
            self.roll_day()

    # -- following ----------------------------------------------------------------------------

    async def _load(self) -> None:
        stored = await self.store.figures(midnight(self._day))
        self._figures = {}
        for connection_id, symbol in stored.traded_symbol.items():
            self._position_quote[connection_id] = settle_of(symbol)
        for (cid, mode), total in stored.realized_total.items():
            figures = self._mode(cid, Mode(mode))
            figures.realized_total = total
            figures.realized_today = stored.realized_today.get((cid, mode), ZERO)
        for position in stored.open_positions:
            self._mode(position.connection_id, position.mode).apply(position)
        for view in self._connections.views():
            self._publish(str(view.id))

    async def _follow_positions(self, subscription: Subscription[PositionEvent]) -> None:
        try:
            while True:
                item = await subscription.next()
                self.roll_day()  # a change after midnight counts in the new day
                changed: set[str] = set()
                step_ends = perf_counter() + STEP_SECONDS
                while item is not None:  # the changes waiting: one publish per account each step
                    if item is CLOSED:
                        return
                    if item is OVERFLOW:
                        subscription.restart(self._position_topic.revision)
                        await self._load()
                    elif isinstance(item, Change):
                        event = item.current
                        if isinstance(event, PositionMarks):
                            changed.update(self._apply(p) for p in event.positions)
                        else:
                            changed.add(self._apply(event))
                    if perf_counter() >= step_ends:  # the rest after the loop has run
                        break
                    item = await subscription.next(timeout=0)
                for connection_id in changed:
                    self._publish(connection_id)
                if item is not None:
                    await asyncio.sleep(0)
        finally:
            subscription.close()

    def _apply(self, position: PositionView) -> str:
        cid = position.connection_id
        if self._connections.cached(uuid.UUID(cid)) is None:
            return cid  # its connection is gone (deleted with its positions)
        self._position_quote.setdefault(cid, settle_of(position.symbol))
        filled = self._mode(cid, position.mode).apply(position)
        if filled and position.mode is Mode.LIVE:
            self.schedule.after_fill(cid)
        return cid

    async def _connection_changed(self, change: Change[ConnectionView]) -> None:
        cid = str(change.current.id)
        if change.deleted:
            self._remove(cid)
        elif cid not in self._summaries:
            self._publish(cid)

    async def _connections_resynced(self) -> None:
        known = {str(v.id) for v in self._connections.views()}
        for gone in set(self._summaries) - known:
            self._remove(gone)
        for cid in known:
            self._publish(cid)

    # -- summaries ----------------------------------------------------------------------------

    def _mode(self, connection_id: str, mode: Mode) -> ModeFigures:
        key = (connection_id, mode)
        figures = self._figures.get(key)
        if figures is None:
            figures = self._figures[key] = ModeFigures(self._day)
        return figures

    def _figures_of(self, connection_id: str, mode: Mode) -> Figures:
        figures = self._figures.get((connection_id, mode))
        return figures.figures() if figures is not None else Figures()

    def _summary_of(self, connection_id: str) -> AccountSummary:
        summary = self._summaries.get(connection_id)
        return summary if summary is not None else self._current(connection_id)

    def _current(self, connection_id: str) -> AccountSummary:
        return AccountSummary(
            connection_id=connection_id,
            quote_currency=self.quote_currency(connection_id),
            balance=self._balances.get(connection_id, Balance()),
            pseudo=self._figures_of(connection_id, Mode.PSEUDO),
            live=self._figures_of(connection_id, Mode.LIVE),
            updated_at=self._clock(),
        )

    def _publish(self, connection_id: str) -> None:
        """Publish the account's summary when it says something new."""
        if self._connections.cached(uuid.UUID(connection_id)) is None:
            return
        previous = self._summaries.get(connection_id)
        current = self._current(connection_id)
        if current.same_figures(previous):
            return
        self._summaries[connection_id] = current
        self.topic.publish(connection_id, current, previous=previous)

    def _remove(self, connection_id: str) -> None:
        previous = self._summaries.pop(connection_id, None)
        self._balances.pop(connection_id, None)
        self._position_quote.pop(connection_id, None)
        self._balance_quote.pop(connection_id, None)
        for mode in Mode:
            self._figures.pop((connection_id, mode), None)
        self.schedule.forget(connection_id)
        if previous is not None:
            self.topic.publish(connection_id, previous, previous=previous, deleted=True)
