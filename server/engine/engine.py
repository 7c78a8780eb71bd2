"""One trading engine: the life of one connection's engine, from loading to its cycles.

An engine walks the loading stages (:mod:`server.engine.loading`), takes back its open
positions from storage, reconciles its live orders with the exchange (with credentials), then
runs its realtime cycle on every round of its exchange's shared market feed:
1. indication cycle — the round's prices update the current bar of each symbol, and the
   indications of the connection's preset are computed for all symbols at once (vectorised);
   both are shared with every engine that sees the same bars (:mod:`server.engine.board`);
2. strategy cycle — the pseudo book (:mod:`server.engine.book`) manages every open position and,
   unless paused, opens positions on the entries that fire; the live desk
   (:mod:`server.engine.live`) follows what the optimal sets did with real orders, when live
   trading is on;
3. every fill is stored and streamed at once (storage writes are batched across engines,
   behind the cycles); open positions are re-marked (unrealised PnL) and their running state
   (best price, trailing stop) stored every ``mark_seconds``.

What it reports, and when it publishes it, is in :mod:`server.engine.report`.

Pause keeps the cycle running (open positions stay managed) and opens nothing new. A failure —
in loading or in a cycle — puts the engine in ``error`` with the reason; it retries with
exponential back-off (2 s, 4 s, ... up to a minute, or the circuit cool-down if shorter, so an
engine that failed during an exchange outage is back within that bound of its end) while its
user still wants it running, and never touches any other engine.

**Stale prices.** Only a round's own prices are acted on: a symbol the round did not price
neither opens nor exits in that cycle, and a failed round (no prices) runs no strategy cycle at
all. When no fresh round has arrived for ``stale_seconds`` (``CTS_ENGINE_STALE_CYCLES`` cycles),
the engine is *stale*: its status says so (``stale_since``, with ``prices_at`` the time of its
last fresh prices) while its state stays running or paused, the connection's health turns
degraded, and nothing opens. Exits are not decided on old prices either: they wait for the
first fresh round, which manages every open position at its fresh price — a stop passed during
the outage closes there, beyond the stop if the market moved (a gap fill, as on an exchange
reopening after a halt). The first fresh round clears the condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from server.connections.view import ConnectionView
from server.engine.board import Board, BoardKey, Fingerprint, source_of
from server.engine.book import Book
from server.engine.exposure import Allowance
from server.engine.live import LiveDesk
from server.engine.loading import MARKET_TYPE, Loaded, Loading, StageProgress
from server.engine.parts import EngineParts, PriceRound, PriceSubscription, Subscribe
from server.engine.positions import Fills, PositionView, Reason
from server.engine.presets import Preset, preset_for
from server.engine.refusals import confirmation_required, engine_not_running
from server.engine.remarks import Keeper, holdings
from server.engine.report import CycleClock, trading
from server.engine.sets import with_optimal
from server.engine.signals import Bars, Signals
from server.engine.state_log import log_staleness, log_state
from server.engine.status import Desired, EngineState, EngineStatus, TradingMetrics
from server.engine.timings import Timings
from server.errors import FailedPrecondition, Unavailable
from server.exchange.access import Target
from server.exchange.errors import ExchangeError
from server.monitoring.logs.about import concerning

log = logging.getLogger("cts.engine")


class Engine:
    def __init__(
        self,
        connection_id: str,
        parts: EngineParts,
        *,
        target: Callable[[], Awaitable[Target]],
        connection: Callable[[], ConnectionView | None],
    ) -> None:
        self.connection_id = connection_id
        self._parts = parts
        self._target = target
        self._connection = connection
        self._task: asyncio.Task[None] | None = None
        self._clock = self._new_clock()
        self.book: Book | None = None
        self.desk: LiveDesk | None = None
        self._prices: dict[str, Decimal] = {}
        self._closed_before = {"pseudo": 0, "live": 0}
        self._keeper = Keeper(
            connection_id, parts.writer, parts.publish_position, parts.mark_seconds
        )
        #: It has taken back every open position of its connection from storage (and keeps
        #: holding them, stopped too): its holdings are all of them.
        self.holds_all = False
        self._optimal: tuple[str, ...] = ()
        self._signals: Mapping[str, Signals] = MappingProxyType({})
        self._fingerprint: Fingerprint | None = None
        self._prices_at: datetime | None = None
        self._bar_start = 0.0  # the bar of the last cycle (a new one: Block may add)
        self.status = EngineStatus(connection_id, updated_at=datetime.now(UTC))

    # -- commands (idempotent) ----------------------------------------------------------------

    def run(self, desired: Desired) -> None:
        """Bring the engine to ``desired``: running, paused (both keep it going), stopped."""
        if desired is Desired.STOPPED:
            raise ValueError("use stop() to stop an engine")
        state = self.status.state
        if state is EngineState.RUNNING and desired is Desired.PAUSED:
            self._set(state=EngineState.PAUSED, desired=desired)
        elif state is EngineState.PAUSED and desired is Desired.RUNNING:
            self._set(state=EngineState.RUNNING, desired=desired)
        else:
            self._set(desired=desired)
        if self._task is None or self._task.done():
            self._set(state=EngineState.STARTING, stages=(), error="")
            self._task = asyncio.ensure_future(self._main())

    async def stop(
        self,
        desired: Desired = Desired.STOPPED,
        *,
        close_positions: bool = False,
        deadline: float | None = None,
    ) -> None:
        """Stop; ``desired`` is what its user still wants (running, when the connection was
        switched off rather than the engine stopped). With ``close_positions``, every open
        pseudo position is closed at the last prices and every live one by a market order
        before the engine stops. Live orders get until ``deadline`` (``loop.time()``; default
        ``stop_seconds`` from now): one still in flight then is abandoned and stays pending, to
        be looked up at the next start (see :meth:`LiveDesk.stop`)."""
        if deadline is None:
            deadline = self._stop_deadline()
        running = self._task is not None and not self._task.done()
        if running:
            self._set(state=EngineState.STOPPING, desired=desired, retry_at=None)
            assert self._task is not None
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if close_positions:
            await self._close_positions(deadline)
        if self.desk is not None:
            await self.desk.stop(deadline)
        await self.flush()
        final: dict[str, Any] = {}
        if self.book is not None and self.desk is not None:
            final["trading"] = self._trading()  # after any closing
        self._set(
            state=EngineState.STOPPED,
            desired=desired,
            retry_at=None,
            error="",
            stale_since=None,
            **final,
        )

    async def close_position(
        self, position_id: uuid.UUID, *, confirm_live: bool
    ) -> PositionView | None:
        """Close one open position now, as a strategy close would (close reason ``manual``);
        the closed position, or None when this engine holds no such open position.

        Pseudo: at its market's last price, booked, stored and streamed like any close — and,
        by the rule that live positions follow their pseudo positions, the live position
        following it closes too (so that needs ``confirm_live``). The booking has no ``await``
        between finding the position and closing it, so it never interleaves with a cycle.
        Live: a market order through the live desk (:meth:`LiveDesk.close_now`); its pseudo
        position stays open (the paper record of the set is not the user's to change)."""
        book, desk = self.book, self.desk
        if self.status.state not in (EngineState.RUNNING, EngineState.PAUSED):
            raise engine_not_running(self.connection_id)
        assert book is not None and desk is not None
        pseudo = next((p for p in book.open.values() if p.id == position_id), None)
        if pseudo is not None:
            if desk.exposure.holds(pseudo.id) and not confirm_live:
                raise confirmation_required("a live position follows it and closes with it")
            last = self._prices.get(pseudo.symbol)
            if last is None:
                raise FailedPrecondition(
                    f"no price of {pseudo.symbol} yet: try again", reason="NO_PRICE"
                )
            fill = book.close_one(position_id, last, Reason.MANUAL)
            assert fill is not None
            desk.follow([fill], self._optimal, self._allowance())
            self._keeper.keep([fill.position], announce=True)
            self._set(trading=self._trading())
            await self._keeper.stored()
            return fill.position
        live = desk.holding(position_id)
        if live is None:
            return None
        if not confirm_live:
            raise confirmation_required("it is a live position")
        if not desk.running:
            raise FailedPrecondition(
                "live orders cannot go out (no credentials)", reason="LIVE_DESK_STOPPED"
            )
        await desk.close_now(live, Reason.MANUAL)
        if desk.holding(position_id) is not None:
            raise Unavailable(
                f"the close order of {live.symbol} did not fill ({desk.last_error or 'unknown'});"
                " it is tried again",
                reason="CLOSE_NOT_FILLED",
            )
        return await self._parts.store.get(position_id)

    def holdings(self) -> list[PositionView]:
        """Every open position this engine holds now (pseudo and live, with their last marks):
        once ``holds_all``, every open position of its connection, newer than storage's."""
        return holdings(self.book, self.desk)

    # -- the engine's life --------------------------------------------------------------------

    async def _main(self) -> None:
        concerning(self.connection_id)  # whatever this task logs concerns this connection
        while True:
            try:
                target = await self._target()
                board, symbols = await self._prepare(target)
                try:
                    await self._cycles(target, board, symbols)
                finally:
                    self._parts.boards.leave(board)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one engine's failure never reaches the others
                reason = (
                    exc.message
                    if isinstance(exc, ExchangeError)
                    else (f"internal error ({type(exc).__name__})")
                )
                if not isinstance(exc, ExchangeError):
                    log.exception("engine %s failed", self.connection_id)
                attempts = self.status.attempts + 1
                parts = self._parts
                delay = min(parts.retry_max_seconds, parts.retry_base_seconds * 2 ** (attempts - 1))
                self._set(
                    state=EngineState.ERROR,
                    error=reason,
                    attempts=attempts,
                    retry_at=datetime.now(UTC) + timedelta(seconds=delay),
                )
                await asyncio.sleep(delay)  # the back-off itself

    async def _prepare(self, target: Target) -> tuple[Board, tuple[str, ...]]:
        """Load, take the positions back, and join the board of the loaded symbols. (The
        loaded candles are not kept: the board holds the bars.)"""
        loaded = await self._load(target)
        await self._restore(target, loaded)
        plan = self._parts.plan
        board = self._parts.boards.join(
            BoardKey(source_of(target), plan.timeframe, loaded.symbols),
            lambda: Bars.of(loaded.symbols, loaded.history, plan.timeframe),
        )
        return board, loaded.symbols

    def _new_clock(self) -> CycleClock:
        return CycleClock(
            self.connection_id,
            self._parts.status_cycles,
            Timings(observe=self._parts.on_cycle.tell),
            Timings(),
            Timings(),
        )

    async def _load(self, target: Target) -> Loaded:
        self._clock = self._new_clock()  # the figures of a run start with its loading
        self._signals, self._fingerprint, self._prices_at = MappingProxyType({}), None, None
        self._set(
            state=EngineState.STARTING,
            started_at=datetime.now(UTC),
            stages=(),
            retry_at=None,
            metrics=self._clock.metrics(),
            trading=TradingMetrics(),
            signals=self._signals,
            stale_since=None,
            prices_at=None,
        )

        def progress(stages: tuple[StageProgress, ...]) -> None:
            self._set(stages=stages)

        loading = Loading(
            self._parts.access, target, self._parts.plan, progress, self._parts.history
        )
        return await loading.run()

    async def _restore(self, target: Target, loaded: Loaded) -> None:
        """Take back the open positions (pseudo and live) and reconcile the live ones."""
        self.holds_all = False
        store, plan = self._parts.store, self._parts.plan
        positions = await store.open_positions(self.connection_id)
        closed = await store.closed_pnls(self.connection_id, per_set=200)
        counts = await store.counts(self.connection_id)
        self._closed_before = {"pseudo": counts.get("pseudo", 0), "live": counts.get("live", 0)}
        self.book = Book(
            self.connection_id,
            plan.sets,
            Fills(
                plan.slippage, {s: m.taker_fee for s, m in loaded.markets.items() if m.taker_fee}
            ),
            self._preset,
            self._volume_factor,
        )
        self.book.restore([p for p in positions if p.mode == "pseudo"], closed)
        self._keeper.taken_back(positions)
        if self.desk is not None:
            await self.desk.stop(self._stop_deadline())
        self.desk = LiveDesk(
            self.connection_id,
            access=self._parts.access,
            store=store,
            publish=self._parts.publish_position,
            changed=self._live_changed,
            retry_seconds=self._parts.live_retry_seconds,
        )
        self.desk.restore([p for p in positions if p.mode == "live"])
        self.holds_all = True
        if target.credentials is not None:
            await self.desk.start(target, self._following())

    async def _cycles(self, target: Target, board: Board, symbols: tuple[str, ...]) -> None:
        self._clock.symbols = len(symbols)
        self._bar_start = board.bar_start
        self._set(
            state=EngineState.PAUSED
            if self.status.desired is Desired.PAUSED
            else (EngineState.RUNNING),
            symbols=symbols,
            attempts=0,
            error="",
        )
        assert self.book is not None and self.desk is not None
        held = {p.symbol for p in self.book.open.values()}
        held |= {p.symbol for p in self.desk.positions.values()}
        watched = symbols + tuple(sorted(held - set(symbols)))
        subscription = self._parts.subscribe(target, watched)
        fresh_at = time.monotonic()  # loading just read the exchange: fresh until proven stale
        try:
            while True:
                if self.status.stale_since is None:
                    wait: float | None = max(
                        0.0, fresh_at + self._parts.stale_seconds - time.monotonic()
                    )
                else:
                    wait = None  # stale already: the next round, whenever it comes
                try:
                    round_ = await subscription.next(timeout=wait)
                except TimeoutError:  # no round at all (a round hangs): stale all the same
                    self._set(stale_since=datetime.now(UTC))
                    continue
                await self._parts.turns.take()  # a round wakes every engine: share the loop
                started = time.perf_counter()
                if not round_.ok:
                    clock = self._clock
                    clock.realtime.add(started)
                    clock.stale_cycles += 1
                    clock.last_cycle_at = datetime.now(UTC)
                    if self.status.stale_since is None and (
                        time.monotonic() - fresh_at >= self._parts.stale_seconds
                    ):  # turns stale now: at once
                        self._set(stale_since=datetime.now(UTC), **self._figures())
                    elif clock.due():
                        self._set(**self._figures())
                    continue
                fresh_at = time.monotonic()
                self._cycle(board, round_, started)
        finally:
            subscription.close()

    def _cycle(self, board: Board, round_: PriceRound, started: float) -> None:
        prices = round_.prices
        book, desk, clock = self.book, self.desk, self._clock
        assert book is not None and desk is not None
        preset = self._preset()
        indication_started = time.perf_counter()
        board.advance(prices, round_.round, round_.time)
        signals, fingerprint = board.signals(preset)
        new_bar = board.bar_start != self._bar_start
        self._bar_start = board.bar_start
        clock.indication.add(indication_started)

        strategy_started = time.perf_counter()
        fresh = {symbol: ticker.last for symbol, ticker in prices.items()}
        self._prices.update(fresh)
        optimal = book.optimal(preset.optimal)
        signals = with_optimal(signals, optimal)
        # Only this round's prices: a symbol it did not price neither opens nor exits now.
        fills = book.step(
            fresh,
            signals,
            opening=self.status.state is EngineState.RUNNING,
            new_bar=new_bar,
            firing_key=fingerprint,  # the same object while the signals' sides are the same
        )
        desk.follow(fills, optimal, self._allowance())
        clock.strategy.add(strategy_started)
        self._keeper.keep([f.position for f in fills], announce=True)
        self._keeper.mark(book, desk, self._prices)
        clock.realtime.add(started)
        clock.last_cycle_at = datetime.now(UTC)
        prompt = (
            bool(fills)
            or fingerprint is not self._fingerprint
            or optimal != self._optimal
            or self.status.stale_since is not None
            or clock.realtime.count == 1
        )
        self._signals, self._fingerprint, self._optimal = signals, fingerprint, optimal
        self._prices_at = datetime.fromtimestamp(round_.time, UTC)
        if prompt or clock.due():
            self._set(stale_since=None, **self._figures())

    async def flush(self) -> None:
        """Wait until every position change so far is stored (and announced)."""
        await self._keeper.flush(self.book, self.desk, self._prices)

    async def _close_positions(self, deadline: float) -> None:
        """Close every open position now ("stop, close positions")."""
        target = await self._target()
        if self.book is None:  # never got going: the positions are only in storage
            loaded = Loaded((), MappingProxyType({}), None, None)
            await self._restore(target, loaded)
        assert self.book is not None and self.desk is not None
        symbols = sorted({p.symbol for p in self.book.open.values()} - set(self._prices))
        if symbols:
            tickers = await self._parts.access.call(target, lambda a: a.tickers(symbols))
            self._prices.update({s: t.last for s, t in tickers.items()})
        following = self._following()
        fills = self.book.close_all(self._prices, Reason.ENGINE_STOP)
        self._keeper.keep([f.position for f in fills], announce=True)
        if target.credentials is not None and self.desk.positions:
            if not self.desk.running:
                await self.desk.start(target, following)
            self.desk.close_all()
            with contextlib.suppress(TimeoutError):  # the rest is abandoned by desk.stop
                async with asyncio.timeout_at(deadline):
                    await self.desk.drain()

    def _stop_deadline(self) -> float:
        """Until when (``loop.time()``) a stopping desk waits for its live orders in flight."""
        return asyncio.get_running_loop().time() + self._parts.stop_seconds

    def _following(self) -> set[Any]:
        """The ids of the open pseudo positions (what live positions may follow)."""
        return {p.id for p in self.book.open.values()} if self.book is not None else set()

    # -- what the engine reads of its connection ----------------------------------------------

    def _preset(self) -> Preset:
        view = self._connection()
        return preset_for(view.preset_type if view else "default")

    def _volume_factor(self) -> Decimal:
        view = self._connection()
        return view.volume_factor if view else Decimal(1)

    def _allowance(self) -> Allowance:
        view = self._connection()
        if view is None:
            return Allowance(False, Decimal(0), Decimal(0), spot=False)
        on = view.is_live_trade and view.has_credentials
        spot = MARKET_TYPE.get(view.api_type) == "spot"
        return Allowance(on, view.max_position_notional, view.max_total_notional, spot)

    # -- status -------------------------------------------------------------------------------

    def current(self) -> EngineStatus:
        """The status with the figures of the last cycle (published ones may be a few cycles
        older: see :mod:`server.engine.report`)."""
        if self.status.state not in (EngineState.RUNNING, EngineState.PAUSED):
            return self.status
        return replace(self.status, **self._figures())

    def _figures(self) -> dict[str, Any]:
        """The running figures: cycle metrics, signals, trading, the last prices' time."""
        figures: dict[str, Any] = {"metrics": self._clock.metrics()}
        if self.book is not None and self.desk is not None:
            figures["trading"] = self._trading()
            figures["signals"] = self._signals
            figures["prices_at"] = self._prices_at
        return figures

    def _trading(self) -> TradingMetrics:
        assert self.book is not None and self.desk is not None
        return trading(
            self.book,
            self.desk,
            closed_before=self._closed_before,
            optimal=self._optimal,
            allowance=self._allowance(),
            prices=self._prices,
        )

    def _live_changed(self) -> None:
        """A live order's outcome is known: its counts and positions go out at once."""
        if self.book is not None and self.desk is not None:
            self._set(trading=self._trading())

    def _set(self, **changes: Any) -> None:
        before = self.status
        self.status = replace(self.status, updated_at=datetime.now(UTC), **changes)
        self._parts.publish_status(self.status)
        if self.status.state is not before.state:
            log_state(self.status)
        if self.status.stale != before.stale and "state" not in changes:  # not a (re)start
            log_staleness(self.status, before.stale_since)


__all__ = ["Engine", "EngineParts", "PriceRound", "PriceSubscription", "Subscribe"]
