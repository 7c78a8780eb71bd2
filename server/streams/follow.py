"""Following a topic from inside the server (no snapshot): every change, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from server.streams.topic import CLOSED, OVERFLOW, Change, Subscription, Topic

T = TypeVar("T")


async def follow(
    topic: Topic[T],
    on_change: Callable[[Change[T]], Awaitable[None]],
    *,
    on_resync: Callable[[], Awaitable[None]] | None = None,
    subscription: Subscription[T] | None = None,
) -> None:
    """Hand every change of ``topic`` to ``on_change`` until the topic closes. A follower that
    fell behind (its queue overflowed) is told through ``on_resync`` and goes on from now.

    ``subscription``, when given, is one already taken on ``topic`` (say before loading a
    starting state): the changes published since it was taken are handed on too. ``follow``
    owns it from then on and closes it when it ends."""
    if subscription is None:
        subscription, _ = topic.subscribe()
    try:
        while True:
            item = await subscription.next()
            if item is CLOSED:
                return
            if item is OVERFLOW:
                subscription.restart(topic.revision)
                if on_resync is not None:
                    await on_resync()
                continue
            assert isinstance(item, Change)
            await on_change(item)
    finally:
        subscription.close()
