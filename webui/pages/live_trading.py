"""The Live trading page: one connection's engine in detail — its commands, what it traded, the
signals of its symbols, its positions pseudo (paper) and live (real orders) apart, and its
realised PnL over time — and every engine at a glance.

Everything is kept live by streams; nothing polls:
- the engine stream: state, stages, cycle metrics, trading metrics and the signals of every
  symbol, with each cycle of a running engine;
- the connection stream: names, and which connections exist;
- the position stream of the picked connection (a :class:`~webui.feeds.PositionFeed`, filtered
  by the server; picking another connection switches to that connection's feed). Open positions
  come again re-marked every few seconds, many at once, so the position tables and the chart
  are redrawn at most once per :data:`REFRESH_SECONDS`, after the burst.

Stop offers "Stop and close positions" too (after a confirmation): the server closes every open
position first, pseudo at the last prices and live by market orders.
"""

from __future__ import annotations

import asyncio

from cts.engine.v1 import engine_pb2 as pb
from nicegui import app, ui

from server.access.roles import Role
from webui import session
from webui.backend import CALL_TIMEOUT_SECONDS, Backend, BackendError
from webui.components.confirm import confirm
from webui.components.engine_overview import EngineOverview
from webui.components.engine_panel import EnginePanel
from webui.components.pnl_chart import PnlChart
from webui.components.positions_panel import PositionsPanel, realized_total
from webui.components.signals_table import SignalsTable
from webui.components.trading_summary import TradingSummary
from webui.feeds import (
    EngineUpdate,
    Feeds,
    FeedUpdate,
    PositionFeed,
    PositionUpdate,
    UpdateKind,
)
from webui.frame import frame, signed_in, use

PICKED_KEY = "live_trading_connection"  # the connection last picked, per browser
RPCS = {
    "start": ("StartEngine", "started"),
    "pause": ("PauseEngine", "paused"),
    "resume": ("ResumeEngine", "resumed"),
    "stop": ("StopEngine", "stopped"),
    "stop_close": ("StopEngine", "stopped, its positions closed"),
}
# Closing live positions waits for their market orders to fill.
CLOSE_TIMEOUT_SECONDS = 120.0
REFRESH_SECONDS = 0.1


def register(backend: Backend, feeds: Feeds) -> None:
    @ui.page("/live-trading")
    def live_trading_page() -> None:
        token = signed_in()
        if token is None:
            return
        client = ui.context.client
        connection_feed = feeds.connections(token)
        engine_feed = feeds.engines(token)
        use(connection_feed, engine_feed)
        picked: str | None = app.storage.user.get(PICKED_KEY)
        options: dict[str, str] = {}
        position_feed: PositionFeed | None = None
        refresh: asyncio.TimerHandle | None = None
        chart_stale = True
        # From the position feed, for the panel and the summary (kept between refreshes).
        open_counts = {"pseudo": 0, "live": 0}
        live_realized = "0"

        async def command(name: str) -> None:
            connection = connection_feed.connections.get(picked or "")
            if connection is None:
                return
            method, verb = RPCS[name]
            close = name == "stop_close"
            if close and not await confirm(
                f"Stop {connection.name} and close its positions?",
                f"Open now: {open_counts['pseudo']} pseudo and {open_counts['live']} live. "
                "Pseudo positions close at the last prices; live ones by market orders on the "
                "exchange.",
                action="Stop and close",
                danger=True,
            ):
                return
            request = pb.EngineCommand(connection_id=connection.id, close_positions=close)
            try:
                await backend.call(
                    getattr(backend.engines, method),
                    request,
                    token,
                    timeout=CLOSE_TIMEOUT_SECONDS if close else CALL_TIMEOUT_SECONDS,
                )
            except BackendError as error:
                ui.notify(error.message, type="negative", multi_line=True)
                return
            ui.notify(f"{connection.name}: engine {verb}", type="positive")

        def pick(connection_id: str | None) -> None:
            nonlocal picked
            picked = connection_id if connection_id in connection_feed.connections else None
            app.storage.user[PICKED_KEY] = picked
            if chooser.value != picked:
                chooser.set_value(picked)  # calls pick again, with the same id
            show_panel()

        def show_panel() -> None:
            connection = connection_feed.connections.get(picked or "")
            details.set_visibility(connection is not None)
            nothing_picked.set_visibility(connection is None)
            follow_positions(connection.id if connection is not None else None)
            if connection is not None:
                status = engine_feed.status(connection.id)
                panel.update(connection, status, sum(open_counts.values()))
                chart.name(connection.name)
                summary.update(status, live_realized)
                signals.update(status)

        # -- the picked connection's positions ----------------------------------------------

        def follow_positions(connection_id: str | None) -> None:
            """Switch to the position feed of ``connection_id`` (none: no feed)."""
            nonlocal position_feed, chart_stale
            if (position_feed.connection_id if position_feed else None) == connection_id:
                return
            if position_feed is not None:
                position_feed.updated.unsubscribe(on_positions)
                position_feed.live_changed.unsubscribe(positions.show_stream)
                position_feed.detach()
            position_feed = feeds.positions(token, connection_id) if connection_id else None
            if position_feed is not None:
                position_feed.attach()
                position_feed.updated.subscribe(on_positions)
                position_feed.live_changed.subscribe(positions.show_stream)
            chart_stale = True
            show_positions()

        def on_positions(update: PositionUpdate) -> None:
            nonlocal refresh, chart_stale
            if update.position is None or update.position.status == "closed":
                chart_stale = True  # a snapshot, or a close
            if refresh is None:
                refresh = asyncio.get_running_loop().call_later(REFRESH_SECONDS, refreshed)

        def refreshed() -> None:
            nonlocal refresh
            refresh = None
            if not client.is_deleted:
                show_positions()
                show_panel()  # the open positions enable "Stop and close"; the live PnL

        def show_positions() -> None:
            nonlocal chart_stale, live_realized
            feed = position_feed
            positions.show(feed)
            if chart_stale:
                chart.show(feed)
                chart_stale = False
            for mode in open_counts:
                open_counts[mode] = len(feed.select(mode, "open")) if feed else 0
            live_realized = realized_total(feed.select("live", "closed")) if feed else "0"

        def leave() -> None:
            if refresh is not None:
                refresh.cancel()
            if position_feed is not None:
                position_feed.detach()

        client.on_delete(leave)

        # -- connections and engines --------------------------------------------------------

        def show_options() -> None:
            wanted = {c.id: c.name for c in connection_feed.ordered()}
            if wanted != options:  # health updates change nothing here
                options.clear()
                options.update(wanted)
                chooser.set_options(dict(options), value=picked if picked in options else None)

        def show_all() -> None:
            overview.clear()
            for connection in connection_feed.ordered():
                overview.show(connection, engine_feed.status(connection.id))

        def on_connection(update: FeedUpdate) -> None:
            show_options()
            connection = update.connection
            if update.kind is UpdateKind.RESET or connection is None:
                show_all()
            elif update.kind is UpdateKind.UPSERT:
                overview.show(connection, engine_feed.status(connection.id))
            else:
                overview.remove(connection.id)
            if picked is not None and picked not in connection_feed.connections:
                pick(None)
            elif update.kind is UpdateKind.RESET or (connection and connection.id == picked):
                show_panel()

        def on_engine(update: EngineUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.engine is None:
                show_all()
                show_panel()
                return
            connection = connection_feed.connections.get(update.engine.connection_id)
            if connection is not None:
                overview.show(connection, engine_feed.status(connection.id))
                if connection.id == picked:
                    show_panel()

        with frame("Live trading", [connection_feed, engine_feed]):
            with ui.row().classes("w-full items-end gap-3"):
                chooser = (
                    ui.select(
                        {}, label="Connection", on_change=lambda e: pick(e.value), with_input=True
                    )
                    .classes("w-80")
                    .mark("engine-connection")
                )
            nothing_picked = ui.label("Pick a connection to see its engine.").classes(
                "text-gray-600"
            )
            with ui.column().classes("w-full gap-4 p-0") as details:
                panel = EnginePanel(command, may_command=session.allows(Role.OPERATOR))
                summary = TradingSummary()
                signals = SignalsTable()
                positions = PositionsPanel()
                chart = PnlChart()
            overview = EngineOverview(pick)
        show_options()
        show_all()
        show_panel()
        connection_feed.updated.subscribe(on_connection)
        engine_feed.updated.subscribe(on_engine)
