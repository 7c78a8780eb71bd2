"""The one publish/subscribe mechanism behind every ``Watch*`` stream.

A :class:`Topic` numbers every published change with a revision that only grows (also across
restarts: numbering starts at the start time in microseconds), keeps the most recent changes
for clients that resume, and hands each change to every subscriber without ever waiting on one:
each :class:`Subscription` has a bounded buffer, and a subscriber that falls behind has its
buffer dropped and is told to resynchronise, while the publisher and the other subscribers go on.
A subscriber that needs only each item's latest state (a stream of engine statuses) subscribes
``latest_wins``: when it still has a change of an item waiting, the newer change takes its
place, at the newer one's turn, so one that falls behind catches up with each item's latest
state instead of every state it missed (and does not overflow for want of room), while one
that keeps up misses nothing. Followers that act on transitions (alerts on an engine's error)
subscribe without it and get every change.

Publishers that commit to storage hold :meth:`Topic.ordered` around commit-and-publish, and
watchers hold it around subscribe-and-snapshot. So each item's revisions follow its commits,
and a snapshot reflects exactly the changes up to the revision it is stamped with. A publisher
of a new item (which no other change can concern yet) may commit first and hold the lock only
to publish, as long as its snapshots come from what it has published (a new connection:
``Connections.create``); new items' revisions then need not follow the order of their commits.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

T = TypeVar("T")

#: The longest a consumer of a topic works through waiting changes (rendering them for a stream,
#: applying them to a summary) before it lets the event loop run: with a thousand engines, a
#: hundred changes nobody has rendered yet held the loop, and every engine and stream behind
#: it, for 50-70 ms.
STEP_SECONDS = 0.004


@dataclass(frozen=True, slots=True, eq=False)
class Change(Generic[T]):
    """One published change of one item.

    ``previous`` is the item before the change (None when it was created) and ``current`` after
    it; a deletion has ``deleted=True`` and ``current`` holding the last state. Carrying both lets
    every watcher decide, with its own filter, whether the item entered, changed in or left its
    view, without per-watcher state.
    """

    revision: int
    time: datetime
    key: Hashable
    previous: T | None
    current: T
    deleted: bool = False
    # Per-change memo for renderings shared by all subscribers (e.g. a protobuf message).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


class Overflow:
    """Marker: the subscriber fell behind and its buffered changes were dropped."""


class Closed:
    """Marker: the topic closed (server shutdown); the stream should end."""


OVERFLOW = Overflow()
CLOSED = Closed()


class Subscription(Generic[T]):
    """One subscriber's bounded buffer of changes."""

    __slots__ = (
        "_buffer",
        "_capacity",
        "_closed",
        "_deadline",
        "_expired",
        "_latest",
        "_overflowed",
        "_timer",
        "_timer_at",
        "_topic",
        "_waiting",
        "_wakeup",
        "start_revision",
    )

    def __init__(
        self, topic: Topic[T], capacity: int, start_revision: int, *, latest_wins: bool = False
    ) -> None:
        self._topic = topic
        self._capacity = capacity
        self._buffer: deque[Change[T]] = deque()
        # latest_wins: the changes waiting, by item, oldest first (else all in _buffer)
        self._latest: OrderedDict[Hashable, Change[T]] | None = (
            OrderedDict() if latest_wins else None
        )
        self._wakeup = asyncio.Event()
        self._overflowed = False
        self._closed = False
        self.start_revision = start_revision
        # The idle timeout of next(): one timer per subscription, re-armed only when it fires
        # early (a new asyncio.timeout per change cost more than the rest of the wait).
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._waiting = False
        self._expired = False

    def offer(self, change: Change[T]) -> None:
        """Called by the publisher; never blocks."""
        if self._overflowed or self._closed:
            return
        latest = self._latest
        if latest is not None and (waiting := latest.pop(change.key, None)) is not None:
            latest[change.key] = _superseding(waiting, change)  # at the newer one's turn
        elif self._pending() >= self._capacity:
            self._drop()
            self._overflowed = True
        elif latest is not None:
            latest[change.key] = change
        else:
            self._buffer.append(change)
        self._wakeup.set()

    def _drop(self) -> None:
        self._buffer.clear()
        if self._latest is not None:
            self._latest.clear()

    def _pending(self) -> int:
        return len(self._latest) if self._latest is not None else len(self._buffer)

    def _take(self) -> Change[T]:
        if self._latest is not None:
            return self._latest.popitem(last=False)[1]
        return self._buffer.popleft()

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wakeup.set()
        self._topic.unsubscribe(self)

    def restart(self, start_revision: int) -> None:
        """Forget an overflow and buffered changes: the caller is taking a new snapshot."""
        self._drop()
        self._overflowed = False
        self.start_revision = start_revision

    def ready(self) -> int:
        """How many changes are buffered (taken at once by :meth:`take_ready`)."""
        return 0 if self._overflowed or self._closed else self._pending()

    def take_ready(self, limit: int) -> list[Change[T]]:
        """Up to ``limit`` changes already buffered, without waiting (none after an overflow or
        the close: :meth:`next` tells those)."""
        if self._overflowed or self._closed:
            return []
        return [self._take() for _ in range(min(limit, self._pending()))]

    async def next(self, timeout: float | None = None) -> Change[T] | Overflow | Closed | None:
        """The next change, OVERFLOW, CLOSED, or None when ``timeout`` passed with nothing."""
        while True:
            if self._overflowed:
                return OVERFLOW
            if self._pending():
                return self._take()
            if self._closed:
                return CLOSED
            self._wakeup.clear()
            if timeout is None:
                await self._wakeup.wait()
                continue
            if timeout <= 0:  # as before: one pass of the loop for a change to arrive
                try:
                    async with asyncio.timeout(timeout):
                        await self._wakeup.wait()
                except TimeoutError:
                    return None
                continue
            self._wait_until(asyncio.get_running_loop(), timeout)
            self._waiting = True
            try:
                await self._wakeup.wait()
            finally:
                self._waiting = False
            if self._expired:
                self._expired = False
                if not (self._overflowed or self._pending() or self._closed):
                    return None

    def _wait_until(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._deadline = loop.time() + timeout
        self._expired = False
        if self._timer is not None:
            if self._timer_at <= self._deadline:
                return  # fires first, then re-arms for the rest
            self._timer.cancel()
        self._timer_at = self._deadline
        self._timer = loop.call_at(self._deadline, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if not self._waiting:
            return  # not waiting now: the next wait arms its own deadline
        if loop.time() < self._deadline:
            self._timer_at = self._deadline
            self._timer = loop.call_at(self._deadline, self._expire, loop)
            return
        self._expired = True
        self._wakeup.set()


def _superseding(waiting: Change[T], newer: Change[T]) -> Change[T]:
    """``newer`` in place of ``waiting`` for a subscriber that has not seen ``waiting``: from
    ``waiting``'s previous state (how its filter saw the item last) to ``newer``'s. It shares
    ``newer``'s memo: what is rendered of it depends on the revision, the time, the current
    state and how a filter sees the change, all ``newer``'s own."""
    return Change(
        newer.revision,
        newer.time,
        newer.key,
        waiting.previous,
        newer.current,
        newer.deleted,
        newer.memo,
    )


class Topic(Generic[T]):
    """A stream of changes to one kind of item (connections, engines, ...)."""

    def __init__(
        self,
        name: str,
        *,
        history_size: int = 4096,
        queue_size: int = 1024,
    ) -> None:
        self.name = name
        self._revision = time.time_ns() // 1000
        self._history: deque[Change[T]] = deque(maxlen=history_size)
        # Changes after this revision are all in the history (or were not to be retained).
        self._retained_after = self._revision
        self._queue_size = queue_size
        self._subscribers: set[Subscription[T]] = set()
        self._order = asyncio.Lock()
        self._closed = False

    @property
    def revision(self) -> int:
        """The revision of the latest change (or the starting revision)."""
        return self._revision

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def closed(self) -> bool:
        return self._closed

    def ordered(self) -> asyncio.Lock:
        """Hold around commit-and-publish (publishers) and subscribe-and-snapshot (watchers)."""
        return self._order

    def publish(
        self,
        key: Hashable,
        current: T,
        *,
        previous: T | None = None,
        deleted: bool = False,
        retain: bool = True,
    ) -> Change[T]:
        """Number a change and offer it to every subscriber. Never blocks.

        ``retain=False``: a passing figure (e.g. a re-mark at the last prices) that a resuming
        client need not see again; it is not kept for replay and takes no room from the
        changes that are."""
        self._revision += 1
        change = Change(self._revision, datetime.now(UTC), key, previous, current, deleted)
        if retain:
            history = self._history
            if len(history) == history.maxlen:
                self._retained_after = history[0].revision
            history.append(change)
        for subscription in tuple(self._subscribers):
            subscription.offer(change)
        return change

    def subscribe(
        self, resume_after: int = 0, *, latest_wins: bool = False
    ) -> tuple[Subscription[T], list[Change[T]] | None]:
        """A new subscription, and the changes after ``resume_after`` when they are all retained.

        The replay list is None when the caller must start from a snapshot instead: no
        ``resume_after`` was given, or it is older than the retained history, or it is from the
        future (a revision this topic never issued).
        """
        subscription = Subscription(self, self._queue_size, self._revision, latest_wins=latest_wins)
        if self._closed:
            subscription.close()
            return subscription, None
        self._subscribers.add(subscription)
        return subscription, self._replay(resume_after) if resume_after > 0 else None

    def _replay(self, after: int) -> list[Change[T]] | None:
        if after > self._revision:
            return None
        if after == self._revision:
            return []
        if after < self._retained_after:
            return None
        return [change for change in self._history if change.revision > after]

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every subscription (used at shutdown); later subscribers end at once."""
        self._closed = True
        for subscription in tuple(self._subscribers):
            subscription.close()
