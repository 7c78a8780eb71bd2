"""Channels apart: a channel that is down delays no other; secrets stay out of logs and
outcomes; a full queue drops its oldest alert; close() reports what is left; a changed target
is used from the next attempt. All against real local receivers."""

from __future__ import annotations

import asyncio
import inspect
import logging

import pytest

from server.alerts.delivery.contract import ChannelKind, ChannelTarget
from server.alerts.delivery.dispatcher import ChannelDispatcher, DeliveryPolicy
from tests.alerts.delivery_support import (
    WAIT,
    Answer,
    Outcomes,
    VirtualSleep,
    alert,
    receiving,
    signature_of,
    webhook_target,
)
from tests.support.ports import free_port


async def test_a_receiver_that_never_answers_delays_no_other_channel() -> None:
    outcomes = Outcomes()
    deliver = ChannelDispatcher(outcomes, DeliveryPolicy(timeout_seconds=60))
    async with receiving(default=Answer(hold=True)) as stuck, receiving() as healthy:
        deliver.submit(webhook_target(stuck.url(), channel_id="stuck"), alert(1))
        await asyncio.wait_for(stuck.holding.wait(), WAIT)  # its request is open
        deliver.submit(webhook_target(healthy.url(), channel_id="healthy"), alert(2))
        delivered = await outcomes.final("alert-2", "healthy")
        # Delivered while the stuck channel still waits for its answer.
        assert delivered.delivered
        assert not stuck.release.is_set() and outcomes.of("alert-1") == []
        await deliver.close()
    (left,) = outcomes.of("alert-1")
    assert (left.delivered, left.final, left.error) == (
        False,
        True,
        "dispatcher closed before delivery",
    )


async def test_a_refusing_channel_backing_off_delays_no_other_channel() -> None:
    outcomes = Outcomes()
    backing_off = asyncio.Event()

    async def sleep_until_closed(seconds: float) -> None:
        backing_off.set()
        await asyncio.Event().wait()  # ends only when close() cancels the worker

    deliver = ChannelDispatcher(outcomes, sleep=sleep_until_closed)
    closed_port = free_port()
    deliver.submit(webhook_target(f"http://127.0.0.1:{closed_port}/", channel_id="down"), alert(1))
    await asyncio.wait_for(backing_off.wait(), WAIT)
    async with receiving() as healthy:
        for number in (2, 3):
            deliver.submit(webhook_target(healthy.url(), channel_id="up"), alert(number))
        assert (await outcomes.final("alert-3", "up")).delivered
        assert (await outcomes.final("alert-2", "up")).delivered
    assert [o.final for o in outcomes.of("alert-1")] == [False]  # still waiting to retry
    await deliver.close()
    assert outcomes.of("alert-1")[-1].final


def test_submit_never_awaits() -> None:
    assert not inspect.iscoroutinefunction(ChannelDispatcher.submit)


SLACK_TOKEN = "T0CTS/B0CTS/slackSecretToken123"
BOT_TOKEN = "987654:telegramBotSecretXYZ"
HOOK_SECRET = "hmacSecretValue42"
HOOK_TOKEN = "pathTokenSecret77"


async def test_secrets_stay_out_of_log_records_and_outcomes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="cts.alerts")
    outcomes = Outcomes()
    policy = DeliveryPolicy(max_attempts=2)
    deliver = ChannelDispatcher(outcomes, policy, sleep=VirtualSleep())
    # The receiver's error page echoes the request's path and query, secrets and all.
    echo = Answer(500, body="no such hook", echo=True)
    closed = free_port()
    async with receiving(default=echo) as receiver:
        targets = [
            ChannelTarget(
                "slack", "Slack", ChannelKind.SLACK, receiver.url(f"/services/{SLACK_TOKEN}")
            ),
            ChannelTarget(
                "tg", "Telegram", ChannelKind.TELEGRAM, receiver.url("/"), BOT_TOKEN, "-100"
            ),
            webhook_target(receiver.url(f"/hook/{HOOK_TOKEN}?t={HOOK_TOKEN}"), HOOK_SECRET, "wh"),
            ChannelTarget(
                "slack-down", "S", ChannelKind.SLACK, f"http://127.0.0.1:{closed}/{SLACK_TOKEN}"
            ),
        ]
        for target in targets:
            deliver.submit(target, alert())
        for target in targets:
            await outcomes.final("alert-1", target.id)
        await deliver.close()
    assert len(receiver.requests) == 6  # the webhook got its secret path, Telegram its token
    secrets = [SLACK_TOKEN, *SLACK_TOKEN.split("/"), BOT_TOKEN, HOOK_SECRET, HOOK_TOKEN]
    texts = [r.getMessage() for r in caplog.records] + [o.error for o in outcomes.all]
    assert len(caplog.records) == 8 and all(r.levelno == logging.WARNING for r in caplog.records)
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
        assert "/services/" not in text and "/hook/" not in text
    webhook_lines = [r.getMessage() for r in caplog.records if "(wh," in r.getMessage()]
    shown = f"(wh, http://127.0.0.1:{receiver.port})"  # the webhook as scheme://host:port
    assert webhook_lines and all(shown in line for line in webhook_lines)
    assert all("HTTP 500: no such hook" in o.error for o in outcomes.all if o.status_code)
    assert any("cannot connect" in o.error for o in outcomes.all)


async def test_a_full_queue_drops_its_oldest_alert_as_a_final_failure() -> None:
    outcomes = Outcomes()
    deliver = ChannelDispatcher(outcomes, DeliveryPolicy(queue_size=2))
    async with receiving(Answer(hold=True)) as receiver:
        target = webhook_target(receiver.url())
        deliver.submit(target, alert(1))
        await asyncio.wait_for(receiver.holding.wait(), WAIT)  # alert 1 is under way
        for number in (2, 3, 4, 5):
            deliver.submit(target, alert(number))
        # 2 and 3 were the oldest waiting when 4 and 5 came.
        dropped = [(o.alert_id, o.delivered, o.final, o.attempt, o.error) for o in outcomes.all]
        assert dropped == [
            (f"alert-{n}", False, True, 0, "dropped: the channel's queue is full") for n in (2, 3)
        ]
        receiver.release.set()
        for number in (1, 4, 5):
            assert (await outcomes.final(f"alert-{number}")).delivered
        await deliver.close()
    assert [r.headers["X-CTS-Delivery"] for r in receiver.requests] == [
        "alert-1",
        "alert-4",
        "alert-5",
    ]


async def test_close_reports_what_was_left_and_refuses_more() -> None:
    outcomes = Outcomes()
    deliver = ChannelDispatcher(outcomes, DeliveryPolicy(timeout_seconds=60))
    async with receiving(default=Answer(hold=True)) as receiver:
        target = webhook_target(receiver.url())
        for number in (1, 2, 3):
            deliver.submit(target, alert(number))
        await asyncio.wait_for(receiver.holding.wait(), WAIT)
        assert outcomes.all == []
        await asyncio.wait_for(deliver.close(), WAIT)
        left = [(o.alert_id, o.attempt, o.final, o.delivered) for o in outcomes.all]
        assert left == [
            ("alert-1", 1, True, False),
            ("alert-2", 0, True, False),
            ("alert-3", 0, True, False),
        ]
        deliver.submit(target, alert(4))
        late = outcomes.all[-1]
        assert (late.alert_id, late.final, late.delivered, late.error) == (
            "alert-4",
            True,
            False,
            "dispatcher closed",
        )
    assert len(receiver.requests) == 1  # nothing was posted after close


async def test_a_changed_target_is_used_from_the_next_attempt() -> None:
    outcomes = Outcomes()
    retried = asyncio.Event()
    change_now = asyncio.Event()

    async def sleep(seconds: float) -> None:
        change_now.set()
        await retried.wait()

    deliver = ChannelDispatcher(outcomes, sleep=sleep)
    async with receiving(Answer(503)) as old, receiving() as new:
        deliver.submit(webhook_target(old.url(), "old-secret", "ch"), alert(1))
        await asyncio.wait_for(change_now.wait(), WAIT)  # attempt 1 failed, now backing off
        deliver.submit(webhook_target(new.url(), "new-secret", "ch"), alert(2))
        retried.set()
        assert (await outcomes.final("alert-1")).attempt == 2
        assert (await outcomes.final("alert-2")).delivered
        await deliver.close()
    assert [r.headers["X-CTS-Delivery"] for r in old.requests] == ["alert-1"]
    assert [r.headers["X-CTS-Delivery"] for r in new.requests] == ["alert-1", "alert-2"]
    for got in new.requests:
        assert got.headers["X-CTS-Signature-256"] == signature_of(got.body, "new-secret")


async def test_a_discarded_channel_stops_at_once_and_reports_what_it_left() -> None:
    outcomes = Outcomes()
    backing_off = asyncio.Event()

    async def sleep(seconds: float) -> None:
        backing_off.set()
        await asyncio.Event().wait()

    deliver = ChannelDispatcher(outcomes, sleep=sleep)
    async with receiving(default=Answer(500)) as receiver:
        target = webhook_target(receiver.url())
        deliver.submit(target, alert(1))
        deliver.submit(target, alert(2))
        await asyncio.wait_for(backing_off.wait(), WAIT)  # alert 1 failed once, retry pending
        deliver.discard(target.id)
        left = [(o.alert_id, o.attempt, o.final, o.error) for o in outcomes.all[1:]]
        assert left == [
            ("alert-1", 1, True, "channel removed before delivery"),
            ("alert-2", 0, True, "channel removed before delivery"),
        ]
        # The same id later starts afresh (a new worker).
        receiver.default = Answer(200)
        deliver.submit(target, alert(3))
        assert (await outcomes.final("alert-3")).delivered
        await deliver.close()
    assert [r.headers["X-CTS-Delivery"] for r in receiver.requests] == ["alert-1", "alert-3"]
    assert len(outcomes.all) == 4  # close() found nothing more to report


async def test_a_request_aiohttp_refuses_fails_alone_and_the_channel_goes_on() -> None:
    outcomes = Outcomes()
    deliver = ChannelDispatcher(outcomes, sleep=VirtualSleep())
    async with receiving() as receiver:
        target = webhook_target(receiver.url())
        deliver.submit(target, alert(1, kind="engine_error\r\nX-Injected: 1"))
        deliver.submit(target, alert(2))
        refused = await outcomes.final("alert-1")
        assert (await outcomes.final("alert-2")).delivered
        await deliver.close()
    assert (refused.delivered, refused.attempt, refused.status_code) == (False, 1, None)
    assert refused.error.startswith("request refused")
    assert [r.headers["X-CTS-Delivery"] for r in receiver.requests] == ["alert-2"]
