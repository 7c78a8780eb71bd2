"""Following a topic from inside the server: every change, in order, none lost."""

from __future__ import annotations

from server.streams.follow import follow
from server.streams.topic import Change, Topic


async def test_a_subscription_taken_before_following_loses_no_change() -> None:
    topic = Topic[str]("t")
    subscription, _ = topic.subscribe()
    topic.publish("a", "one")  # published between subscribe and follow (say, while loading)
    topic.publish("b", "two")
    topic.close()
    seen: list[str] = []

    async def changed(change: Change[str]) -> None:
        seen.append(change.current)

    await follow(topic, changed, subscription=subscription)

    assert seen == ["one", "two"]
    assert topic.subscriber_count == 0


async def test_a_given_subscription_that_overflows_resyncs_and_goes_on() -> None:
    topic = Topic[str]("t", queue_size=2)
    subscription, _ = topic.subscribe()
    for n in range(3):  # one more than its queue holds
        topic.publish(str(n), f"lost {n}")
    seen: list[str] = []
    resyncs: list[int] = []

    async def changed(change: Change[str]) -> None:
        seen.append(change.current)

    async def resynced() -> None:
        resyncs.append(topic.revision)
        topic.publish("x", "after the resync")
        topic.close()

    await follow(topic, changed, on_resync=resynced, subscription=subscription)

    assert len(resyncs) == 1
    assert seen == ["after the resync"]
    assert subscription.start_revision == resyncs[0]
