"""The stream protocol shared by every ``Watch*`` RPC, independent of gRPC.

:func:`watch` turns a :class:`~server.streams.topic.Topic` into what a client sees: a snapshot
first (or a replay when resuming), then each change translated through the client's filter
into ADDED / MODIFIED / REMOVED, heartbeats while idle (and one at once after a replay: the
client is caught up, even when it missed nothing), a fresh snapshot after falling behind,
and a clean end when the topic closes.
"""

from __future__ import annotations

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


StreamItem = Snapshot[T] | ViewChange[T] | Heartbeat


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
) -> AsyncIterator[StreamItem[T]]:
    """Yield the stream of ``topic`` as seen through ``matches``.

    ``load`` reads every item from storage; it runs while the topic's order lock is held, so
    the snapshot is exactly the state at the revision it carries.
    """

    async def snapshot(reason: SnapshotReason) -> Snapshot[T]:
        async with topic.ordered():
            subscription.restart(topic.revision)
            items = await load()
        return Snapshot(subscription.start_revision, [i for i in items if matches(i)], reason)

    subscription, replay = topic.subscribe(resume_after=resume_revision)
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
                change_type = classify(item, matches)
                if change_type is not None:
                    yield ViewChange(change_type, item)
    finally:
        subscription.close()
