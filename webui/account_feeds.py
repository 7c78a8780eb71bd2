"""The Overview page's own live copies of server state, each kept current by one stream.

An :class:`AccountSummaryFeed` holds every connection's account summary (balance, open
positions, realised and unrealised PnL, pseudo and live apart), from ``WatchAccountSummaries``:
the server reads balances through exchange access within each account's limits and pushes them;
the page never makes it call an exchange, and nothing here polls. A server that does not serve
``AccountService`` answers UNIMPLEMENTED: the feed stops and says so (``refused``) instead of
asking again forever.

An :class:`OpenPositionFeed` holds the open positions of every connection, from one
``WatchPositions`` without a connection filter. Closed positions are not kept (the page shows
only open ones), but each close is still emitted: the page's PnL chart follows closes.

Both are :class:`~webui.feeds.StreamFeed` s: one stream per token for every tab, resumed after
the last revision when it breaks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from cts.connection.v1 import account_pb2 as pb
from cts.engine.v1 import engine_pb2 as engine_pb
from cts.stream.v1 import stream_pb2
from nicegui import Event

from webui.account_totals import SummaryTotals
from webui.backend import Backend, auth_metadata
from webui.feeds import BATCH, REFUSED, PositionFeed, StreamFeed, UpdateKind


@dataclass(frozen=True, slots=True)
class SummaryUpdate:
    kind: UpdateKind
    summary: pb.AccountSummary | None = None


class AccountSummaryFeed(StreamFeed):
    """Every connection's account summary, from ``WatchAccountSummaries``."""

    name = "account-summary-feed"
    # An older server without AccountService: asking again cannot help.
    refused_codes = (*REFUSED, grpc.StatusCode.UNIMPLEMENTED)

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token)
        self.summaries: dict[str, pb.AccountSummary] = {}
        #: The totals per quote currency of every summary, kept as they change.
        self.totals = SummaryTotals()
        self.synced = False  # a snapshot has arrived
        self.updated: Event[SummaryUpdate] = Event()

    def _watch(self) -> AsyncIterator[pb.WatchAccountSummariesResponse]:
        return self._backend.accounts.WatchAccountSummaries(  # type: ignore[no-any-return]
            pb.WatchAccountSummariesRequest(resume_revision=self.revision),
            metadata=auth_metadata(self._token),
            wait_for_ready=True,
        )

    def _apply(self, message: pb.WatchAccountSummariesResponse) -> None:
        self.revision = message.revision
        event = message.WhichOneof("event")
        if event == "snapshot":
            self.summaries = {s.connection_id: s for s in message.snapshot.summaries}
            self.totals = SummaryTotals(self.summaries.values())
            self.synced = True
            self.updated.emit(SummaryUpdate(UpdateKind.RESET))
        elif event == "change":
            summary = message.change.summary
            old = self.summaries.get(summary.connection_id)
            if message.change.type == stream_pb2.CHANGE_TYPE_REMOVED:
                self.summaries.pop(summary.connection_id, None)
                self.totals.replace(old, None)
                self.updated.emit(SummaryUpdate(UpdateKind.REMOVE, summary))
            else:
                self.summaries[summary.connection_id] = summary
                self.totals.replace(old, summary)
                self.updated.emit(SummaryUpdate(UpdateKind.UPSERT, summary))


class OpenPositionFeed(PositionFeed):
    """The open positions of every connection, from ``WatchPositions`` without a filter."""

    name = "open-position-feed"
    closed_kept = 0  # a close is emitted, then forgotten

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token, connection_id="")

    def open_positions(self) -> list[engine_pb.Position]:
        """Every open position, newest opened first."""
        return self.select("pseudo", "open") + self.select("live", "open")

    def _request(self) -> engine_pb.WatchPositionsRequest:
        return engine_pb.WatchPositionsRequest(resume_revision=self.revision, max_batch=BATCH)


class AccountFeeds:
    """One :class:`AccountSummaryFeed` and one :class:`OpenPositionFeed` per token in use."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._summaries: dict[str, AccountSummaryFeed] = {}
        self._positions: dict[str, OpenPositionFeed] = {}

    def summaries(self, token: str) -> AccountSummaryFeed:
        feed = self._summaries.get(token)
        if feed is None:
            feed = self._summaries[token] = AccountSummaryFeed(self._backend, token)
        return feed

    def positions(self, token: str) -> OpenPositionFeed:
        feed = self._positions.get(token)
        if feed is None:
            feed = self._positions[token] = OpenPositionFeed(self._backend, token)
        return feed

    async def close(self) -> None:
        feeds: list[StreamFeed] = [*self._summaries.values(), *self._positions.values()]
        for feed in feeds:
            await feed.close()
        self._summaries.clear()
        self._positions.clear()
