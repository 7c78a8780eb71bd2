"""The stream protocol shared by every ``Watch*`` RPC, independent of gRPC.

:func:`watch` turns a :class:`~server.streams.topic.Topic` into what a client sees: a snapshot
first (or a replay when resuming), then each change translated through the client's filter
into ADDED / MODIFIED / REMOVED, heartbeats while idle (and one at once after a replay: the
client is caught up, even when it missed nothing), a fresh snapshot after falling behind,
and a clean end when the topic closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from server.streams.topic import Change, Closed, Overflow, Topic

T = TypeVar("T")


class ChangeType(Enum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"


class SnapshotReason(Enum):
    INITIAL = "initial"
    RESUME_TOO_OLD = "resume_too_old"
    RESYNC = "resync"


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    revision: int
    items: Sequence[T]
    reason: SnapshotReason


@dataclass(frozen=True, slots=True)
class ViewChange(Generic[T]):
    type: ChangeType
    change: Change[T]

    @property
    def revision(self) -> int:
        return self.change.revision

    @property
    def item(self) -> T:
        return self.change.current


@dataclass(frozen=True, slots=True)
class Heartbeat:
    revision: int


@dataclass(frozen=True, slots=True)
class ViewBatch(Generic[T]):
    """Changes that were waiting together for one watcher (``batch`` > 1), oldest first."""

    changes: tuple[ViewChange[T], ...]

    @property
    def revision(self) -> int:
        return self.changes[-1].revision


StreamItem = Snapshot[T] | ViewChange[T] | Heartbeat | ViewBatch[T]


def classify(change: Change[T], matches: Callable[[T], bool]) -> ChangeType | None:
    """How ``change`` looks through a filter, or None when the filter never showed the item."""
    was = change.previous is not None and matches(change.previous)
    now = not change.deleted and matches(change.current)
    if was and now:
        return ChangeType.MODIFIED
    if now:
        return ChangeType.ADDED
    if was:
        return ChangeType.REMOVED
    return None


async def watch(
    topic: Topic[T],
    *,
    load: Callable[[], Awaitable[Sequence[T]]],
    matches: Callable[[T], bool],
    heartbeat_seconds: float,
    resume_revision: int = 0,
    batch: int = 1,
    batch_interval_seconds: float = 0.0,
    latest_wins: bool = False,
) -> AsyncIterator[StreamItem[T]]:
    """Yield the stream of ``topic`` as seen through ``matches``.

    ``load`` reads every item from storage; it runs while the topic's order lock is held, so
    the snapshot is exactly the state at the revision it carries. ``batch`` > 1: the changes
    already waiting when one is taken go out with it, up to ``batch`` of them, as one
    :class:`ViewBatch` (a watcher that fell behind catches up in fewer, larger messages), and
    ``batch_interval_seconds``: a change that comes sooner than that after the last message
    waits for the rest of the interval and goes out with what came meanwhile — unless a whole
    batch is waiting already: full batches go out back to back (a burst of thousands of fills
    drained at ``batch`` changes an interval took seconds). So a busy stream sends at most one
    message an interval that is not full, and an idle one sends a change at once. (Measured at
    1,000 engines: with a message for whatever was waiting, ~100 a second per watcher, a status
    took ~80 ms at the median from the end of the stream's write to the watcher, though it had
    waited under 1 ms in the server; fewer, larger messages brought the whole way to ~15-20 ms.
    Likely cause: each message costs gRPC's poller thread an interpreter-lock handoff.)
    ``latest_wins``: see :mod:`server.streams.topic` (a change may stand for the ones of its
    item it replaced).
    """

    async def snapshot(reason: SnapshotReason) -> Snapshot[T]:
        async with topic.ordered():
            subscription.restart(topic.revision)
            items = await load()
        return Snapshot(subscription.start_revision, [i for i in items if matches(i)], reason)

    subscription, replay = topic.subscribe(resume_after=resume_revision, latest_wins=latest_wins)
    loop = asyncio.get_running_loop()
    gather = batch > 1 and batch_interval_seconds > 0
    sent_at = -batch_interval_seconds  # (no message yet: the first change goes at once)
    caught_up = topic.revision  # where the replay ends: later changes are in the subscription
    try:
        if replay is None:
            reason = SnapshotReason.RESUME_TOO_OLD if resume_revision else SnapshotReason.INITIAL
            yield await snapshot(reason)
        else:
            for change in replay:
                change_type = classify(change, matches)
                if change_type is not None:
                    yield ViewChange(change_type, change)
            # A resumed client learns at once that its stream is up, not at the next heartbeat.
            yield Heartbeat(caught_up)
        while True:
            item = await subscription.next(timeout=heartbeat_seconds)
            if item is None:
                yield Heartbeat(topic.revision)
            elif isinstance(item, Closed):
                return
            elif isinstance(item, Overflow):
                yield await snapshot(SnapshotReason.RESYNC)
            else:
                if (
                    gather
                    and subscription.ready() + 1 < batch  # a full batch has nothing to wait for
                    and (wait := sent_at + batch_interval_seconds - loop.time()) > 0
                ):
                    await asyncio.sleep(wait)  # what comes meanwhile joins this message
                views = _seen([item], matches)
                while batch > 1 and len(views) < batch:
                    ready = subscription.take_ready(batch - len(views))
                    if not ready:
                        break
                    views.extend(_seen(ready, matches))
                if views:
                    sent_at = loop.time()
                    yield views[0] if len(views) == 1 else ViewBatch(tuple(views))
    finally:
        subscription.close()


def _seen(changes: list[Change[T]], matches: Callable[[T], bool]) -> list[ViewChange[T]]:
    """The changes a filter sees, as it sees them."""
    seen = []
    for change in changes:
        change_type = classify(change, matches)
        if change_type is not None:
            seen.append(ViewChange(change_type, change))
    return seen
