"""Channels and delivery outcomes in the alerts domain over real storage: secrets sealed and
never shown, outcomes stored per (alert, channel) and pushed, the channel's last delivery,
TestChannel waiting (bounded) for the final outcome, acknowledgement."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import create_engine, select

from server.alerts.delivery.contract import AlertMessage, ChannelTarget, DeliveryOutcome
from server.alerts.model import ChannelRecord
from server.alerts.routing import RoutingStore
from server.alerts.rules import AlertKind
from server.alerts.views import AlertEvent
from server.errors import FailedPrecondition, InvalidArgument
from server.streams.topic import Change
from tests.alerts.conftest import Domain, outcome

WEBHOOK_SECRET = "whsec-ONLY-FOR-THIS-TEST-1234"
SLACK_URL = "https://hooks.slack.test/services/T000/B000/SLACKTOKENVALUE"
TELEGRAM_TOKEN = "123456:TELEGRAM-BOT-TOKEN-abcdef"
SECRETS = (WEBHOOK_SECRET, SLACK_URL, "SLACKTOKENVALUE", TELEGRAM_TOKEN)


def event(connection_id: str = "") -> AlertEvent:
    return AlertEvent(
        AlertKind.STARTUP_CHECK_FAILED, "Start-up check failed", "disk", connection_id
    )


async def channels(domain: Domain) -> list[str]:
    made = [
        await domain.alerts.create_channel(
            {
                "name": "hook",
                "kind": "webhook",
                "url": "http://127.0.0.1:9/h",
                "secret": WEBHOOK_SECRET,
            }
        ),
        await domain.alerts.create_channel({"name": "slack", "kind": "slack", "url": SLACK_URL}),
        await domain.alerts.create_channel(
            {"name": "tg", "kind": "telegram", "secret": TELEGRAM_TOKEN, "chat_id": "-100123"}
        ),
    ]
    return [c.id for c in made]


async def test_channel_secrets_are_sealed_at_rest_and_never_shown(
    domain: Domain, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = await channels(domain)
    views = await domain.alerts.channels()
    assert [(v.name, v.kind.value, v.url, v.has_secret) for v in views] == [
        ("hook", "webhook", "http://127.0.0.1:9/h", True),
        ("slack", "slack", "", True),
        ("tg", "telegram", "https://api.telegram.org", True),
    ]
    shown = repr(views) + repr(await domain.alerts.channel(ids[1]))
    engine = create_engine(domain.book.db.engine.url)
    try:
        with engine.connect() as connection:
            rows = repr(connection.execute(select(ChannelRecord.__table__)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()
    for secret in SECRETS:
        assert secret not in shown and secret not in rows and secret not in caplog.text
    # The dispatcher alone gets them opened.
    await domain.alerts.update_rule(
        next(r.id for r in await domain.alerts.rules() if r.kind is AlertKind.STARTUP_CHECK_FAILED),
        {"channel_ids": ids},
    )
    await domain.alerts.raise_event(event())
    targets = {t.name: t for t, _ in domain.dispatcher.submitted}
    assert (targets["hook"].secret, targets["slack"].url, targets["tg"].secret) == (
        WEBHOOK_SECRET,
        SLACK_URL,
        TELEGRAM_TOKEN,
    )
    assert all(s not in repr(targets) for s in SECRETS)


async def test_a_secret_not_sent_is_kept_and_the_kind_cannot_change(domain: Domain) -> None:
    hook, slack, _ = await channels(domain)
    renamed = await domain.alerts.update_channel(hook, {"name": "renamed hook", "enabled": False})
    assert (renamed.name, renamed.enabled, renamed.has_secret) == ("renamed hook", False, True)
    target = await RoutingStore(domain.book.db, domain.book.cipher).target(uuid.UUID(hook))
    assert target.secret == WEBHOOK_SECRET
    with pytest.raises(InvalidArgument, match="kind: cannot change"):
        await domain.alerts.update_channel(slack, {"kind": "webhook"})
    same = await domain.alerts.update_channel(slack, {"kind": "slack", "name": "slack 2"})
    assert (same.kind.value, same.name) == ("slack", "slack 2")  # sent back unchanged: fine


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "x", "kind": "pigeon"}, "kind", "unknown channel kind 'pigeon'"),
        ({"name": "x", "kind": "pigeon", "colour": "red"}, "colour", "unknown field"),
        ({"name": "x", "kind": "webhook"}, "url", "required for a webhook"),
        ({"name": "x", "kind": "webhook", "url": "ftp://h/x"}, "url", "http or https"),
        ({"name": "x", "kind": "slack"}, "url", "required for a slack"),
        ({"name": "x", "kind": "telegram", "chat_id": "1"}, "secret", "bot token"),
        ({"name": "x" * 101, "kind": "webhook", "url": "http://h/"}, "name", "at most 100"),
        (
            {"name": "x", "kind": "webhook", "url": "http://h/", "secret": "a\nb"},
            "secret",
            "control",
        ),
    ],
)
async def test_bad_channels_are_refused_naming_the_field(
    domain: Domain, fields: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await domain.alerts.create_channel(fields)
    assert [v.field for v in caught.value.violations] == [field]
    assert words in caught.value.violations[0].description
    assert await domain.alerts.channels() == []


async def test_outcomes_are_stored_per_alert_and_channel_and_pushed(domain: Domain) -> None:
    hook, slack, _ = await channels(domain)
    rule = next(r for r in await domain.alerts.rules() if r.kind is AlertKind.STARTUP_CHECK_FAILED)
    await domain.alerts.update_rule(rule.id, {"channel_ids": [hook, slack]})
    subscription, _ = domain.topic.subscribe()
    (alert,) = await domain.alerts.raise_event(event())
    assert {(d.channel_name, d.state) for d in alert.deliveries} == {
        ("hook", "pending"),
        ("slack", "pending"),
    }
    sent = {t.id: (t, m) for t, m in domain.dispatcher.submitted}

    def report(channel_id: str, **values: object) -> DeliveryOutcome:
        target, message = sent[channel_id]
        return outcome(target, message, **values)  # type: ignore[arg-type]

    await domain.alerts.record_outcome(
        report(hook, delivered=False, final=False, status_code=503, error="HTTP 503")
    )
    await domain.alerts.record_outcome(report(hook, delivered=True, attempt=2))
    await domain.alerts.record_outcome(
        report(slack, delivered=False, attempt=5, status_code=None, error="connection refused")
    )
    after = (
        await domain.alerts.list_alerts(
            connection_id="", kind="", unacknowledged=False, page_size=0, page_token=""
        )
    ).alerts[0]
    assert sorted(
        (d.channel_name, d.state, d.attempts, d.status_code, d.error) for d in after.deliveries
    ) == [
        ("hook", "delivered", 2, 200, ""),
        ("slack", "failed", 5, 0, "connection refused"),
    ]
    views = {c.name: c.last_delivery for c in await domain.alerts.channels()}
    assert views["hook"] is not None and views["hook"].state == "delivered"
    assert views["slack"] is not None and views["slack"].error == "connection refused"
    assert views["tg"] is None
    changes = []
    while (item := await subscription.next(timeout=0.01)) is not None:
        assert isinstance(item, Change)
        changes.append((item.previous is None, [d.state for d in item.current.alert.deliveries]))
    assert [added for added, _ in changes] == [True, False, False, False]
    assert sorted(changes[-1][1]) == ["delivered", "failed"]
    subscription.close()


async def test_test_channel_waits_for_the_final_outcome_within_its_bound(domain: Domain) -> None:
    hook, slack, _ = await channels(domain)

    def retried_then_delivered(target: ChannelTarget, alert: AlertMessage) -> list[DeliveryOutcome]:
        return [
            outcome(target, alert, delivered=False, final=False, status_code=502, error="502"),
            outcome(target, alert, delivered=True, attempt=2),
        ]

    domain.dispatcher.answer = retried_then_delivered
    result = await domain.alerts.test_channel(hook)
    assert (result.state, result.attempts, result.status_code) == ("delivered", 2, 200)
    ((target, message),) = domain.dispatcher.submitted
    assert target.id == hook and message.kind == "test"
    stored = await domain.alerts.list_alerts(
        connection_id="", kind="", unacknowledged=False, page_size=0, page_token=""
    )
    assert stored.alerts == ()  # a test alert is not an alert of the server
    await domain.alerts.close()
    last = (await domain.alerts.channel(hook)).last_delivery
    assert last is not None and last.state == "delivered"

    domain.dispatcher.answer = None  # nothing final comes back: the bound ends the wait
    pending = await domain.alerts.test_channel(slack)
    assert pending.state == "pending" and "no final outcome within 0.5 s" in pending.error


async def test_a_channel_named_by_rules_cannot_be_deleted(domain: Domain) -> None:
    hook, _, tg = await channels(domain)
    rule = await domain.alerts.create_rule({"kind": "circuit_open", "channel_ids": [hook]})
    with pytest.raises(FailedPrecondition, match=rule.id):
        await domain.alerts.delete_channel(hook)
    await domain.alerts.delete_channel(tg)
    assert [c.name for c in await domain.alerts.channels()] == ["hook", "slack"]


async def test_acknowledging_records_who_and_when_once(domain: Domain) -> None:
    raised = [(await domain.alerts.raise_event(event()))[0] for _ in range(3)]
    first = await domain.alerts.acknowledge(str(raised[0].id), "alice")
    assert (first.acknowledged_by, first.acknowledged_at) == ("alice", domain.clock.now)
    later = domain.clock.now.replace(hour=13)
    domain.clock.now = later
    again = await domain.alerts.acknowledge(str(raised[0].id), "bob")
    assert (again.acknowledged_by, again.acknowledged_at) == ("alice", first.acknowledged_at)
    assert await domain.alerts.acknowledge_up_to(str(raised[1].id), "bob") == 1
    assert await domain.alerts.acknowledge_up_to("", "carol") == 1
    page = await domain.alerts.list_alerts(
        connection_id="", kind="", unacknowledged=False, page_size=0, page_token=""
    )
    assert [(a.acknowledged_by, a.acknowledged_at) for a in page.alerts] == [
        ("carol", later),
        ("bob", later),
        ("alice", first.acknowledged_at),
    ]
    assert page.unacknowledged == 0
    for bad in ("abc", "-1", "0", "1" * 30):
        with pytest.raises(InvalidArgument, match="not an alert id"):
            await domain.alerts.acknowledge(bad, "x")


async def test_alerts_page_newest_first_within_their_filters(domain: Domain) -> None:
    cid = await domain.connection("paged")
    for n in range(5):
        kind = AlertKind.ENGINE_ERROR if n % 2 else AlertKind.CIRCUIT_OPEN
        await domain.alerts.raise_event(AlertEvent(kind, f"alert {n}", "text", cid))

    async def page(token: str = "", **where: object) -> tuple[list[str], str]:
        values: dict[str, object] = {"connection_id": "", "kind": "", "unacknowledged": False}
        values.update(where)
        found = await domain.alerts.list_alerts(page_size=2, page_token=token, **values)  # type: ignore[arg-type]
        return [a.title for a in found.alerts], found.next_page_token

    first, token = await page()
    second, token = await page(token)
    third, end = await page(token)
    assert (first, second, third, end) == (
        ["alert 4", "alert 3"],
        ["alert 2", "alert 1"],
        ["alert 0"],
        "",
    )
    errors, token = await page(kind="engine_error", connection_id=cid)
    assert errors == ["alert 3", "alert 1"] and token == ""
    _, token = await page()
    with pytest.raises(InvalidArgument, match="page_token: was issued for different filters"):
        await page(token, kind="engine_error")


async def test_a_deleted_or_disabled_channel_is_discarded_by_the_dispatcher(
    domain: Domain,
) -> None:
    hook, slack, telegram = await channels(domain)
    await domain.alerts.update_channel(hook, {"name": "renamed hook"})
    assert domain.dispatcher.discarded == []  # still enabled: its retries go on
    await domain.alerts.update_channel(slack, {"enabled": False})
    await domain.alerts.delete_channel(telegram)
    assert domain.dispatcher.discarded == [slack, telegram]
