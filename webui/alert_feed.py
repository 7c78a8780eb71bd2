"""The alerts one token may see, kept current by ``WatchAlerts``: the unacknowledged ones and
the most recent, with the unacknowledged count, each alert raised or acknowledged as it happens.

:attr:`AlertFeed.raised` fires only for alerts raised while the stream runs (never for those of a
snapshot), so a page shows a toast for what is new, not for what was already there when it
opened or reconnected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from cts.monitoring.v1 import alerts_pb2 as pb
from cts.stream.v1 import stream_pb2
from nicegui import Event

from webui.backend import Backend, auth_metadata
from webui.feeds import StreamFeed, UpdateKind


@dataclass(frozen=True, slots=True)
class AlertUpdate:
    kind: UpdateKind
    alert: pb.Alert | None = None


class AlertFeed(StreamFeed):
    """The token's alerts from ``WatchAlerts``; at most :attr:`kept` are held (the oldest
    acknowledged go first)."""

    name = "alert-feed"
    kept = 500

    def __init__(self, backend: Backend, token: str) -> None:
        super().__init__(backend, token)
        self.alerts: dict[str, pb.Alert] = {}
        self.unacknowledged = 0
        self.synced = False
        self.updated: Event[AlertUpdate] = Event()
        self.raised: Event[pb.Alert] = Event()

    def newest_first(self) -> list[pb.Alert]:
        return sorted(
            self.alerts.values(), key=lambda a: (a.raised_at.ToNanoseconds(), a.id), reverse=True
        )

    def _watch(self) -> AsyncIterator[pb.WatchAlertsResponse]:
        return self._backend.alerts.WatchAlerts(  # type: ignore[no-any-return]
            pb.WatchAlertsRequest(resume_revision=self.revision),
            metadata=auth_metadata(self._token),
            wait_for_ready=True,
        )

    def _apply(self, message: pb.WatchAlertsResponse) -> None:
        self.revision = message.revision
        event = message.WhichOneof("event")
        if event == "snapshot":
            self.alerts = {a.id: a for a in message.snapshot.alerts}
            self.unacknowledged = message.snapshot.unacknowledged_count
            self.synced = True
            self._trim()
            self.updated.emit(AlertUpdate(UpdateKind.RESET))
        elif event == "change":
            alert = message.change.alert
            self.unacknowledged = message.change.unacknowledged_count
            if message.change.type == stream_pb2.CHANGE_TYPE_REMOVED:
                self.alerts.pop(alert.id, None)
                self.updated.emit(AlertUpdate(UpdateKind.REMOVE, alert))
                return
            new = (
                alert.id not in self.alerts and message.change.type == stream_pb2.CHANGE_TYPE_ADDED
            )
            self.alerts[alert.id] = alert
            self._trim()
            self.updated.emit(AlertUpdate(UpdateKind.UPSERT, alert))
            if new:
                self.raised.emit(alert)

    def _trim(self) -> None:
        if len(self.alerts) <= self.kept:
            return
        # Oldest acknowledged first, then oldest.
        order = sorted(
            self.alerts.values(),
            key=lambda a: (not a.acknowledged, a.raised_at.ToNanoseconds(), a.id),
        )
        for alert in order[: len(self.alerts) - self.kept]:
            del self.alerts[alert.id]


class AlertFeeds:
    """One :class:`AlertFeed` per token in use (every page's bell shares it)."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._feeds: dict[str, AlertFeed] = {}

    def of(self, token: str) -> AlertFeed:
        feed = self._feeds.get(token)
        if feed is None:
            feed = self._feeds[token] = AlertFeed(self._backend, token)
        return feed

    async def close(self) -> None:
        for feed in self._feeds.values():
            await feed.close()
        self._feeds.clear()
