"""The publish/subscribe mechanism behind every stream, exercised on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from server.streams.topic import CLOSED, OVERFLOW, Change, Topic
from server.streams.watch import (
    ChangeType,
    Heartbeat,
    Snapshot,
    SnapshotReason,
    StreamItem,
    ViewBatch,
    ViewChange,
    classify,
    watch,
)


@dataclass(frozen=True)
class Item:
    key: str
    colour: str


class Store:
    """A stand-in for storage: what ``load`` returns is what was committed."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    async def load(self) -> Sequence[Item]:
        return list(self.items.values())

    async def put(self, topic: Topic[Item], item: Item) -> None:
        async with topic.ordered():
            previous = self.items.get(item.key)
            self.items[item.key] = item
            topic.publish(item.key, item, previous=previous)

    async def delete(self, topic: Topic[Item], key: str) -> None:
        async with topic.ordered():
            item = self.items.pop(key)
            topic.publish(key, item, previous=item, deleted=True)


def red(item: Item) -> bool:
    return item.colour == "red"


async def take(stream: AsyncIterator[StreamItem[Item]], count: int) -> list[StreamItem[Item]]:
    return [await anext(stream) for _ in range(count)]


async def test_revisions_only_grow_and_start_after_previous_runs() -> None:
    first = Topic[Item]("t")
    second = Topic[Item]("t")  # a later process start
    a = first.publish("a", Item("a", "red"))
    b = first.publish("a", Item("a", "blue"))
    assert b.revision == a.revision + 1
    assert second.revision >= a.revision  # numbering starts at the start time in microseconds


async def test_subscriber_gets_every_change_in_order() -> None:
    topic = Topic[Item]("t")
    subscription, replay = topic.subscribe()
    assert replay is None
    published = [topic.publish(str(i), Item(str(i), "red")) for i in range(5)]
    received = [await subscription.next() for _ in range(5)]
    assert received == published


async def test_slow_subscriber_overflows_without_blocking_publisher_or_others() -> None:
    topic = Topic[Item]("t", queue_size=3)
    slow, _ = topic.subscribe()
    fast, _ = topic.subscribe()
    for i in range(3):
        topic.publish(str(i), Item(str(i), "red"))
        assert isinstance(await fast.next(), Change)
    topic.publish("3", Item("3", "red"))  # the slow one's buffer (3) is full: it overflows
    assert await slow.next() is OVERFLOW
    assert (await fast.next()).key == "3"  # type: ignore[union-attr]


async def test_latest_wins_a_waiting_change_gives_way_to_the_items_newer_one() -> None:
    topic = Topic[Item]("t", queue_size=2)
    behind, _ = topic.subscribe(latest_wins=True)
    keeping_up, _ = topic.subscribe(latest_wins=True)
    published = []
    for key, colour in (("a", "red"), ("b", "red"), ("a", "blue"), ("a", "green")):
        previous = next((c.current for c in reversed(published) if c.key == key), None)
        published.append(topic.publish(key, Item(key, colour), previous=previous))
        # the one keeping up (it takes each change before the next) misses nothing
        assert keeping_up.take_ready(10) == [published[-1]]
    _, b1, _, a3 = published
    # the one behind has b, then a's latest at a's latest turn; it did not overflow for a's
    # three changes with room for two
    got = behind.take_ready(10)
    assert [(c.key, c.revision, c.current.colour) for c in got] == [
        ("b", b1.revision, "red"),
        ("a", a3.revision, "green"),
    ]
    merged = got[1]
    assert merged.previous is None  # it never saw a: from nothing (added) to green
    assert classify(merged, red) is None and classify(merged, lambda i: True) is ChangeType.ADDED
    assert merged.memo is a3.memo  # rendered once for every watcher, merged or not
    topic.publish("c", Item("c", "red"))
    topic.publish("d", Item("d", "red"))
    topic.publish("e", Item("e", "red"))  # three items waiting, room for two: it overflows
    assert await behind.next() is OVERFLOW


async def test_without_latest_wins_every_change_waits_its_turn() -> None:
    topic = Topic[Item]("t")
    subscription, _ = topic.subscribe()  # a follower acting on transitions (alerts)
    latest, _ = topic.subscribe(latest_wins=True)  # a stream of statuses, on the same topic
    published = [topic.publish("a", Item("a", colour)) for colour in ("red", "blue")]
    assert subscription.take_ready(10) == published
    (merged,) = latest.take_ready(10)  # the latest, from the state it last saw (none)
    assert (merged.revision, merged.current, merged.previous) == (
        published[-1].revision,
        published[-1].current,
        None,
    )


async def test_idle_timeout_gives_none_and_changes_win_over_it() -> None:
    topic = Topic[Item]("t")
    subscription, _ = topic.subscribe()
    assert await subscription.next(timeout=0.01) is None  # idle: nothing within the timeout
    assert await subscription.next(timeout=0) is None  # nothing buffered, no wait
    loop = asyncio.get_running_loop()
    later = loop.call_later(0.01, topic.publish, "a", Item("a", "red"))
    got = await subscription.next(timeout=60)  # the change ends the wait, not the timeout
    assert isinstance(got, Change) and got.key == "a"
    later.cancel()


async def test_an_earlier_wait_s_timer_never_ends_a_later_wait_early() -> None:
    topic = Topic[Item]("t")
    subscription, _ = topic.subscribe()
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, topic.publish, "a", Item("a", "red"))
    assert isinstance(await subscription.next(timeout=0.05), Change)  # its timer stays armed
    # Waiting again at once, with a long timeout: the first wait's deadline (0.05 s) passes
    # during this wait and must not end it; the change published after it does.
    loop.call_later(0.1, topic.publish, "b", Item("b", "red"))
    got = await subscription.next(timeout=60)
    assert isinstance(got, Change) and got.key == "b"
    # Same when that deadline passes while the subscriber is busy elsewhere.
    loop.call_later(0.01, topic.publish, "c", Item("c", "red"))
    assert isinstance(await subscription.next(timeout=0.05), Change)
    busy = loop.create_future()
    loop.call_later(0.1, busy.set_result, None)
    await busy
    loop.call_later(0.05, topic.publish, "d", Item("d", "red"))
    got = await subscription.next(timeout=60)
    assert isinstance(got, Change) and got.key == "d"
    # A shorter timeout than the armed timer's still applies.
    assert await subscription.next(timeout=0.01) is None
    subscription.close()
    assert await subscription.next(timeout=60) is CLOSED


async def test_resume_replays_retained_changes_and_refuses_old_or_future_revisions() -> None:
    topic = Topic[Item]("t", history_size=3)
    changes = [topic.publish(str(i), Item(str(i), "red")) for i in range(5)]
    _, replay = topic.subscribe(resume_after=changes[2].revision)
    assert replay == changes[3:]
    _, nothing_missed = topic.subscribe(resume_after=changes[4].revision)
    assert nothing_missed == []
    _, too_old = topic.subscribe(resume_after=changes[0].revision)
    assert too_old is None
    _, future = topic.subscribe(resume_after=changes[4].revision + 10)
    assert future is None


async def test_passing_changes_reach_subscribers_but_are_not_replayed_nor_take_room() -> None:
    topic = Topic[Item]("t", history_size=2)
    subscription, _ = topic.subscribe()
    kept = topic.publish("a", Item("a", "red"))
    passing = [topic.publish("m", Item("m", str(i)), retain=False) for i in range(5)]
    last = topic.publish("b", Item("b", "red"))
    received = [await subscription.next(timeout=0) for _ in range(7)]
    assert received == [kept, *passing, last]  # live subscribers see every change

    # The five passing ones took no room: both kept changes are still there to replay.
    _, after_kept = topic.subscribe(resume_after=kept.revision)
    assert after_kept == [last]
    _, from_a_passing_one = topic.subscribe(resume_after=passing[2].revision)
    assert from_a_passing_one == [last]
    _, before_kept = topic.subscribe(resume_after=kept.revision - 1)
    assert before_kept == [kept, last]

    third = topic.publish("c", Item("c", "red"))  # pushes the first kept change out
    _, too_old = topic.subscribe(resume_after=kept.revision - 1)
    assert too_old is None
    _, still = topic.subscribe(resume_after=passing[0].revision)
    assert still == [last, third]


async def test_close_ends_every_subscription() -> None:
    topic = Topic[Item]("t")
    subscription, _ = topic.subscribe()
    waiter = asyncio.ensure_future(subscription.next())
    await asyncio.sleep(0)  # one scheduling step: the waiter is now blocked inside next()
    assert not waiter.done()
    topic.close()
    assert await waiter is CLOSED
    late, _ = topic.subscribe()
    assert await late.next() is CLOSED


@pytest.mark.parametrize(
    ("before", "after", "deleted", "expected"),
    [
        (None, "red", False, ChangeType.ADDED),
        ("red", "red", False, ChangeType.MODIFIED),
        ("red", "blue", False, ChangeType.REMOVED),
        ("blue", "red", False, ChangeType.ADDED),
        ("blue", "blue", False, None),
        ("red", "red", True, ChangeType.REMOVED),
        ("blue", "blue", True, None),
    ],
)
def test_classify_through_a_filter(
    before: str | None, after: str, deleted: bool, expected: ChangeType | None
) -> None:
    change = Change(
        1, None, "k", None if before is None else Item("k", before), Item("k", after), deleted
    )  # type: ignore[arg-type]
    assert classify(change, red) is expected


async def test_watch_batches_what_waits_through_its_filter_up_to_the_limit() -> None:
    topic = Topic[Item]("t")
    stream = watch(topic, load=Store().load, matches=red, heartbeat_seconds=60, batch=3)
    assert isinstance(await anext(stream), Snapshot)
    colours = ["red", "blue", "red", "red", "red", "blue", "red"]
    published = [topic.publish(str(i), Item(str(i), c)) for i, c in enumerate(colours)]
    reds = [change for change, colour in zip(published, colours, strict=True) if colour == "red"]
    first, second = await anext(stream), await anext(stream)
    assert isinstance(first, ViewBatch) and isinstance(second, ViewBatch)
    assert [v.change for v in first.changes] == reds[:3]  # the blue one is not this view's
    assert [v.change for v in second.changes] == reds[3:]
    assert first.revision == reds[2].revision
    alone = topic.publish("x", Item("x", "red"))  # nothing else waits: a change of its own
    single = await anext(stream)
    assert isinstance(single, ViewChange) and single.change is alone


def batched(topic: Topic[Item], interval: float) -> AsyncIterator[StreamItem[Item]]:
    """A stream of red items in batches of up to 10, at most one message per ``interval``."""
    return watch(
        topic,
        load=Store().load,
        matches=red,
        heartbeat_seconds=60,
        batch=10,
        batch_interval_seconds=interval,
    )


async def test_a_busy_batched_stream_sends_one_message_an_interval_and_an_idle_one_at_once() -> (
    None
):
    interval = 0.5
    topic = Topic[Item]("t")
    stream = batched(topic, interval)
    loop = asyncio.get_running_loop()
    assert isinstance(await anext(stream), Snapshot)
    a = topic.publish("a", Item("a", "red"))
    first = await anext(stream)  # nothing sent yet: at once, alone
    assert isinstance(first, ViewChange) and first.change is a
    sent = loop.time()
    b = topic.publish("b", Item("b", "red"))
    later: list[Change[Item]] = []
    # Comes while the stream waits out its interval after taking b.
    loop.call_later(interval / 2, lambda: later.append(topic.publish("c", Item("c", "red"))))
    second = await anext(stream)
    assert loop.time() - sent >= interval  # not before the interval is over
    assert isinstance(second, ViewBatch)
    assert [v.change for v in second.changes] == [b, *later]  # c went with b
    await asyncio.sleep(interval)  # an interval without changes: the stream is idle
    published = loop.time()
    d = topic.publish("d", Item("d", "red"))
    third = await anext(stream)
    assert isinstance(third, ViewChange) and third.change is d
    assert loop.time() - published < interval  # at once, not held for an interval


async def test_full_batches_go_at_once_and_the_rest_waits_out_the_interval() -> None:
    interval = 1.0
    topic = Topic[Item]("t")
    stream = batched(topic, interval)
    loop = asyncio.get_running_loop()
    assert isinstance(await anext(stream), Snapshot)
    topic.publish("first", Item("first", "red"))
    assert isinstance(await anext(stream), ViewChange)  # a message just went
    began = loop.time()
    burst = [topic.publish(f"k{i}", Item(f"k{i}", "red")) for i in range(25)]
    full = [await anext(stream), await anext(stream)]
    assert loop.time() - began < interval  # two whole batches: neither waited
    assert all(isinstance(m, ViewBatch) and len(m.changes) == 10 for m in full)
    rest = await anext(stream)
    assert loop.time() - began >= interval  # five: they wait out the interval
    assert isinstance(rest, ViewBatch)
    sent = [v.change for m in (*full, rest) for v in m.changes]  # type: ignore[union-attr]
    assert sent == burst


async def test_watch_snapshot_then_filtered_changes() -> None:
    topic = Topic[Item]("t")
    store = Store()
    await store.put(topic, Item("a", "red"))
    await store.put(topic, Item("b", "blue"))
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=60)
    snapshot = await anext(stream)
    assert isinstance(snapshot, Snapshot)
    assert snapshot.reason is SnapshotReason.INITIAL
    assert [i.key for i in snapshot.items] == ["a"]
    assert snapshot.revision == topic.revision

    await store.put(topic, Item("b", "red"))  # enters the view
    await store.put(topic, Item("a", "blue"))  # leaves it
    await store.put(topic, Item("c", "blue"))  # never in it: not sent
    await store.put(topic, Item("b", "red"))  # unchanged colour but a change: modified
    await store.delete(topic, "b")
    items = await take(stream, 4)
    assert [(i.type, i.item.key) for i in items] == [  # type: ignore[union-attr]
        (ChangeType.ADDED, "b"),
        (ChangeType.REMOVED, "a"),
        (ChangeType.MODIFIED, "b"),
        (ChangeType.REMOVED, "b"),
    ]
    revisions = [snapshot.revision, *(i.revision for i in items)]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    await stream.aclose()
    assert topic.subscriber_count == 0


async def test_watch_resume_replays_without_snapshot() -> None:
    topic = Topic[Item]("t")
    store = Store()
    await store.put(topic, Item("a", "red"))
    seen = topic.revision
    await store.put(topic, Item("a", "blue"))
    await store.put(topic, Item("b", "red"))
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=60, resume_revision=seen)
    items = await take(stream, 2)
    assert [(type(i), i.type, i.item.key) for i in items] == [  # type: ignore[union-attr]
        (ViewChange, ChangeType.REMOVED, "a"),
        (ViewChange, ChangeType.ADDED, "b"),
    ]
    await stream.aclose()


async def test_watch_resume_says_caught_up_at_once_after_its_replay() -> None:
    topic = Topic[Item]("t")
    store = Store()
    await store.put(topic, Item("a", "red"))
    seen = topic.revision
    missed_nothing = watch(
        topic, load=store.load, matches=red, heartbeat_seconds=60, resume_revision=seen
    )
    first = await asyncio.wait_for(anext(missed_nothing), 1)  # not the 60 s heartbeat
    assert first == Heartbeat(seen)
    await missed_nothing.aclose()

    await store.put(topic, Item("b", "red"))
    missed_one = watch(
        topic, load=store.load, matches=red, heartbeat_seconds=60, resume_revision=seen
    )
    replayed, caught_up = await asyncio.wait_for(take(missed_one, 2), 1)
    assert isinstance(replayed, ViewChange) and replayed.item.key == "b"
    assert caught_up == Heartbeat(replayed.revision)
    await missed_one.aclose()


async def test_watch_resume_too_old_starts_with_snapshot() -> None:
    topic = Topic[Item]("t", history_size=1)
    store = Store()
    await store.put(topic, Item("a", "red"))
    old = topic.revision
    await store.put(topic, Item("b", "red"))
    await store.put(topic, Item("c", "red"))
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=60, resume_revision=old)
    snapshot = await anext(stream)
    assert isinstance(snapshot, Snapshot)
    assert snapshot.reason is SnapshotReason.RESUME_TOO_OLD
    assert sorted(i.key for i in snapshot.items) == ["a", "b", "c"]
    await stream.aclose()


async def test_watch_sends_heartbeats_when_idle() -> None:
    topic = Topic[Item]("t")
    store = Store()
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=0.05)
    assert isinstance(await anext(stream), Snapshot)
    beat = await anext(stream)
    assert isinstance(beat, Heartbeat)
    assert beat.revision == topic.revision
    await stream.aclose()


async def test_watch_resyncs_a_subscriber_that_fell_behind() -> None:
    topic = Topic[Item]("t", queue_size=2)
    store = Store()
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=60)
    assert isinstance(await anext(stream), Snapshot)
    for i in range(5):  # the stream is not being read: its buffer of 2 overflows
        await store.put(topic, Item(str(i), "red"))
    resync = await anext(stream)
    assert isinstance(resync, Snapshot)
    assert resync.reason is SnapshotReason.RESYNC
    assert sorted(i.key for i in resync.items) == ["0", "1", "2", "3", "4"]
    assert resync.revision == topic.revision
    await store.put(topic, Item("5", "red"))
    after = await anext(stream)
    assert isinstance(after, ViewChange) and after.item.key == "5"
    await stream.aclose()


async def test_watch_ends_when_topic_closes() -> None:
    topic = Topic[Item]("t")
    store = Store()
    stream = watch(topic, load=store.load, matches=red, heartbeat_seconds=60)
    assert isinstance(await anext(stream), Snapshot)
    topic.close()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
