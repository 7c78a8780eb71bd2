"""Retries against a real local receiver: 5xx, 429 (with Retry-After), a refused connection and
a receiver that never answers are retried with growing, jittered back-off (virtual time) until
delivered or the attempts run out; other 4xx are final at once."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime, timedelta

from server.alerts.delivery.contract import DeliveryOutcome
from server.alerts.delivery.dispatcher import ChannelDispatcher, DeliveryPolicy
from tests.alerts.delivery_support import (
    Answer,
    Outcomes,
    Receiver,
    VirtualSleep,
    alert,
    receiving,
    webhook_target,
)
from tests.support.ports import free_port

POLICY = DeliveryPolicy(max_attempts=4, first_backoff_seconds=2.0, max_backoff_seconds=30.0)


def dispatcher(
    outcomes: Outcomes, sleep: VirtualSleep, policy: DeliveryPolicy = POLICY
) -> ChannelDispatcher:
    # draw alternates 0 and 1: both ends of the jitter range.
    draws = iter([0.0, 0.999999] * 10)
    return ChannelDispatcher(outcomes, policy, sleep=sleep, draw=lambda: next(draws))


async def test_server_errors_are_retried_with_growing_jittered_backoff_until_delivered() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    async with receiving(Answer(500, body="boom"), Answer(503), Answer(502)) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        final = await outcomes.final("alert-1")
        await deliver.close()
    assert final.delivered and final.attempt == 4 and final.status_code == 200
    steps = [(o.attempt, o.delivered, o.final, o.status_code) for o in outcomes.of("alert-1")]
    assert steps == [
        (1, False, False, 500),
        (2, False, False, 503),
        (3, False, False, 502),
        (4, True, True, 200),
    ]
    assert outcomes.of("alert-1")[0].error == "HTTP 500: boom"
    # 2 s, 4 s, 8 s, each with up to half taken off at random (draw 0 takes off half).
    assert sleep.delays[0] == 1.0
    assert 3.99 < sleep.delays[1] <= 4.0
    assert sleep.delays[2] == 4.0
    assert len(receiver.requests) == 4
    assert len({r.body for r in receiver.requests}) == 1  # the same alert each time


async def test_backoff_stops_growing_at_the_maximum() -> None:
    policy = DeliveryPolicy(max_attempts=8, first_backoff_seconds=1.0, max_backoff_seconds=5.0)
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = ChannelDispatcher(outcomes, policy, sleep=sleep, draw=lambda: 0.999999)
    async with receiving(default=Answer(500)) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        await outcomes.final("alert-1")
        await deliver.close()
    assert [round(d, 3) for d in sleep.delays] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


async def test_429_waits_what_retry_after_asks() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    telegram_style = '{"ok":false,"error_code":429,"parameters":{"retry_after":3}}'
    answers = (Answer(429, {"Retry-After": "7"}), Answer(429, body=telegram_style))
    async with receiving(*answers) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        final = await outcomes.final("alert-1")
        await deliver.close()
    assert final.delivered and final.attempt == 3
    assert sleep.delays == [7.0, 3.0]
    assert [o.status_code for o in outcomes.of("alert-1")] == [429, 429, 200]


async def test_retry_after_beyond_the_maximum_back_off_is_capped() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    async with receiving(Answer(429, {"Retry-After": "3600"})) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        assert (await outcomes.final("alert-1")).delivered
        await deliver.close()
    assert sleep.delays == [30.0]


async def test_a_refused_connection_is_retried_until_the_receiver_is_up() -> None:
    port = free_port()  # nothing listens there yet
    receiver = Receiver()
    outcomes = Outcomes()
    delays: list[float] = []

    async def start_receiver_while_waiting(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 2:  # two refusals, then the receiver comes up
            await receiver.start(port)

    deliver = ChannelDispatcher(outcomes, POLICY, sleep=start_receiver_while_waiting)
    try:
        deliver.submit(webhook_target(f"http://127.0.0.1:{port}/hook"), alert())
        final = await outcomes.final("alert-1")
        await deliver.close()
    finally:
        await receiver.stop()
    assert final.delivered and final.attempt == 3
    refused = outcomes.of("alert-1")[:2]
    assert [(o.status_code, o.final, o.error) for o in refused] == [
        (None, False, "cannot connect (ECONNREFUSED)")
    ] * 2
    assert len(delays) == 2 and 1.0 <= delays[0] <= 2.0 and 2.0 <= delays[1] <= 4.0
    assert len(receiver.requests) == 1


async def test_gives_up_after_the_last_attempt_with_a_final_failure() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    async with receiving(default=Answer(500)) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        final = await outcomes.final("alert-1")
        await deliver.close()
    assert (final.delivered, final.attempt, final.status_code) == (False, 4, 500)
    assert [o.final for o in outcomes.of("alert-1")] == [False, False, False, True]
    assert len(receiver.requests) == 4
    assert len(sleep.delays) == 3  # no wait after the last attempt


async def test_a_400_is_final_at_once() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    async with receiving(Answer(400, body="bad payload"), Answer(404)) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert(1))
        first = await outcomes.final("alert-1")
        deliver.submit(webhook_target(receiver.url()), alert(2))
        second = await outcomes.final("alert-2")
        await deliver.close()
    assert (first.delivered, first.attempt, first.status_code, first.error) == (
        False,
        1,
        400,
        "HTTP 400: bad payload",
    )
    assert (second.attempt, second.status_code) == (1, 404)
    assert len(outcomes.all) == 2 and sleep.delays == []
    assert len(receiver.requests) == 2


async def test_redirects_are_not_followed() -> None:
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = dispatcher(outcomes, sleep)
    async with receiving() as elsewhere:
        moved = Answer(307, {"Location": elsewhere.url("/stolen")})
        async with receiving(moved) as receiver:
            deliver.submit(webhook_target(receiver.url()), alert())
            final = await outcomes.final("alert-1")
            await deliver.close()
    assert (final.delivered, final.final, final.status_code) == (False, True, 307)
    assert elsewhere.requests == []


async def test_a_receiver_that_never_answers_times_out_and_is_retried() -> None:
    policy = DeliveryPolicy(max_attempts=2, timeout_seconds=0.3, first_backoff_seconds=1.0)
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = ChannelDispatcher(outcomes, policy, sleep=sleep)
    async with receiving(Answer(hold=True)) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        final = await outcomes.final("alert-1")
        await deliver.close()
    first = outcomes.of("alert-1")[0]
    assert (first.delivered, first.final, first.status_code, first.error) == (
        False,
        False,
        None,
        "no answer within 0.3 s",
    )
    assert final.delivered and final.attempt == 2
    assert len(receiver.requests) == 2


async def test_a_failing_outcome_listener_does_not_stop_delivery() -> None:
    seen: list[str] = []
    both = asyncio.Event()

    def listener(outcome: DeliveryOutcome) -> None:
        seen.append(outcome.alert_id)
        if len(seen) == 2:
            both.set()
        if len(seen) == 1:
            raise RuntimeError("storage is down")

    deliver = ChannelDispatcher(listener, POLICY, sleep=VirtualSleep())
    async with receiving() as receiver:
        target = webhook_target(receiver.url())
        deliver.submit(target, alert(1))
        deliver.submit(target, alert(2))
        await asyncio.wait_for(both.wait(), 10)
        await deliver.close()
    assert seen == ["alert-1", "alert-2"]
    assert len(receiver.requests) == 2


async def test_retry_after_as_an_http_date_and_outcome_times_follow_the_clock() -> None:
    now = datetime(2026, 12, 6, 15, 0, 0, tzinfo=UTC)
    outcomes, sleep = Outcomes(), VirtualSleep()
    deliver = ChannelDispatcher(outcomes, POLICY, clock=lambda: now, sleep=sleep)
    later = email.utils.format_datetime(now + timedelta(seconds=12), usegmt=True)
    async with receiving(Answer(429, {"Retry-After": later})) as receiver:
        deliver.submit(webhook_target(receiver.url()), alert())
        assert (await outcomes.final("alert-1")).delivered
        await deliver.close()
    assert sleep.delays == [12.0]
    assert [o.at for o in outcomes.all] == [now, now]
