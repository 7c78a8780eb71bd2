"""The Overview page, the page after sign-in: every account with its money, the open positions of
all accounts, and the realised PnL across accounts over time.

Everything is kept live by streams; the page never makes the server call an exchange and never
polls:
- the connection stream: names, exchange and type, health, live trading on or off;
- the engine stream: each engine's state;
- the account summary stream (``WatchAccountSummaries``): balances as the server last read them,
  open positions, realised and unrealised PnL, pseudo and live apart; and the totals per quote
  currency made from them;
- the position stream of every connection: the open positions, and each close, after which the
  PnL history (``GetPnlHistory``) is asked for again.

Rows change one by one (a grid transaction per change, see
:mod:`webui.components.overview_accounts`); the position grid's changes go as one transaction
and the totals are redrawn, at most once per :data:`REFRESH_SECONDS`, after a burst (open
positions are re-marked many at once).
"""

from __future__ import annotations

import grpc
from cts.connection.v1 import account_pb2 as apb
from cts.connection.v1 import connection_pb2 as cpb
from nicegui import app, background_tasks, ui

from server.access.roles import Role
from webui import session
from webui.account_feeds import AccountFeeds, SummaryUpdate
from webui.backend import Backend, BackendError
from webui.coalesce import Coalesced
from webui.components.overview_accounts import AccountsTable, account_row
from webui.components.overview_chart import OverviewChart
from webui.components.overview_positions import OpenPositionsTable
from webui.feeds import EngineUpdate, Feeds, FeedUpdate, PositionUpdate, UpdateKind
from webui.frame import frame, signed_in, use

PATH = "/overview"
REFRESH_SECONDS = 0.1
# The totals follow a change in the same moment as its row: summed once per burst of messages
# that arrive together (one pass of the event loop), a millisecond for 300 accounts.
TOTALS_SECONDS = 0.0
CHART_REFRESH_SECONDS = 0.5  # closes come in bursts (stop and close): ask once after them


def unavailable(error: BackendError, what: str) -> str:
    """Why a part of the page is empty, in words: an older server without AccountService says
    UNIMPLEMENTED."""
    if error.code == grpc.StatusCode.UNIMPLEMENTED:
        return f"{what} are not available: this CTS server does not serve AccountService yet."
    return f"{what} are not available: {error.message}"


def register(backend: Backend, feeds: Feeds) -> None:
    """The page, and its own feeds (which stop with the dashboard)."""
    account_feeds = AccountFeeds(backend)
    app.on_shutdown(account_feeds.close)

    @ui.page(PATH)
    def overview_page() -> None:
        token = signed_in()
        if token is None:
            return
        client = ui.context.client
        connection_feed = feeds.connections(token)
        engine_feed = feeds.engines(token)
        summary_feed = account_feeds.summaries(token)
        position_feed = account_feeds.positions(token)
        use(connection_feed, engine_feed, summary_feed, position_feed)

        def row(connection: cpb.Connection) -> dict[str, object]:
            return account_row(
                connection,
                engine_feed.status(connection.id),
                summary_feed.summaries.get(connection.id),
            )

        def show_all() -> None:
            accounts.replace([row(c) for c in connection_feed.ordered()])

        def show_one(connection_id: str) -> None:
            connection = connection_feed.connections.get(connection_id)
            if connection is not None:
                accounts.put(row(connection))

        def on_connection(update: FeedUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.connection is None:
                show_all()
            elif update.kind is UpdateKind.UPSERT:
                accounts.put(row(update.connection))
            else:
                accounts.remove(update.connection.id)
            positions_later.soon()  # account names and choices

        def on_engine(update: EngineUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.engine is None:
                show_all()
            else:
                show_one(update.engine.connection_id)

        def on_summary(update: SummaryUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.summary is None:
                show_all()
            else:
                show_one(update.summary.connection_id)
            totals_later.soon()

        def on_refused(error: BackendError) -> None:
            accounts.show_unavailable(unavailable(error, "Balances and PnL"))

        def show_totals() -> None:
            if not client.is_deleted:
                accounts.show_totals(summary_feed.totals)

        def show_positions() -> None:
            if not client.is_deleted:
                names = {c.id: c.name for c in connection_feed.connections.values()}
                positions.show(position_feed.positions, names)

        def on_positions(update: PositionUpdate) -> None:
            positions.changed(update)
            positions_later.soon()
            if update.position is not None and update.position.status == "closed":
                chart_later.soon()

        async def load_chart() -> None:
            try:
                history: apb.PnlHistory = await backend.call(
                    backend.accounts.GetPnlHistory, apb.GetPnlHistoryRequest(), token
                )
            except BackendError as error:
                if not client.is_deleted:
                    chart.show_error(unavailable(error, "The PnL history and its chart"))
                return
            if not client.is_deleted:
                chart.show(history)

        totals_later = Coalesced(TOTALS_SECONDS, show_totals)
        positions_later = Coalesced(REFRESH_SECONDS, show_positions)
        chart_later = Coalesced(
            CHART_REFRESH_SECONDS, lambda: background_tasks.create(load_chart(), name="pnl")
        )

        def leave() -> None:
            for pending in (totals_later, positions_later, chart_later):
                pending.cancel()

        client.on_delete(leave)

        with frame("Overview", [connection_feed, engine_feed, position_feed]):
            accounts = AccountsTable()
            positions = OpenPositionsTable(backend, token, may_close=session.allows(Role.OPERATOR))
            chart = OverviewChart()
        show_all()
        show_totals()
        show_positions()
        accounts.show_stream(summary_feed.live)
        positions.show_stream(position_feed.live)
        background_tasks.create(load_chart(), name="pnl")
        connection_feed.updated.subscribe(on_connection)
        engine_feed.updated.subscribe(on_engine)
        summary_feed.updated.subscribe(on_summary)
        summary_feed.live_changed.subscribe(accounts.show_stream)
        summary_feed.refused.subscribe(on_refused)
        position_feed.updated.subscribe(on_positions)
        position_feed.live_changed.subscribe(positions.show_stream)
