"""Alert rules over real storage (SQLite and PostgreSQL): builtin defaults made once, debounce
of lasting conditions, quiet hours, per-connection rules, and refused input."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import create_engine

from server.alerts.rules import AlertKind, QuietHours
from server.alerts.views import AlertEvent
from server.errors import FailedPrecondition, InvalidArgument
from server.streams.topic import Change
from tests.alerts.conftest import Domain
from tests.support.storage import dump

ON = {
    "engine_error",
    "circuit_open",
    "health_below",
    "connection_test_failed",
    "live_order_failed",
    "live_order_unresolved",
    "stop_loss_hit",
    "startup_check_failed",
}


def error_event(connection_id: str, condition: str | None = "engine") -> AlertEvent:
    return AlertEvent(
        AlertKind.ENGINE_ERROR, "Engine error", "markets failed", connection_id, condition
    )


def stored(domain: Domain) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(domain.book.db.engine.url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


async def test_builtin_rules_are_made_once_per_database_with_sensible_defaults(
    domain: Domain,
) -> None:
    rules = await domain.alerts.rules()
    assert sorted(r.kind.value for r in rules) == sorted(k.value for k in AlertKind)
    assert all(r.builtin and r.connection_id is None and not r.channel_ids for r in rules)
    assert {r.kind.value for r in rules if r.enabled} == ON
    (health,) = [r for r in rules if r.kind is AlertKind.HEALTH_BELOW]
    assert health.effective_band.value == "poor"

    engine_error = next(r for r in rules if r.kind is AlertKind.ENGINE_ERROR)
    # A client may send the kind back unchanged; a different kind is refused.
    await domain.alerts.update_rule(engine_error.id, {"kind": "engine_error", "enabled": False})
    with pytest.raises(InvalidArgument, match="kind: cannot change"):
        await domain.alerts.update_rule(engine_error.id, {"kind": "circuit_open"})
    again = domain.fresh()
    await again.load()  # as at the next start: nothing re-made, the change kept
    after = await again.rules()
    assert len(after) == len(rules)
    assert not next(r for r in after if r.id == engine_error.id).enabled


async def test_a_builtin_rule_cannot_be_deleted_but_a_rule_of_ones_own_can(
    domain: Domain,
) -> None:
    builtin = (await domain.alerts.rules())[0]
    with pytest.raises(FailedPrecondition, match="builtin"):
        await domain.alerts.delete_rule(builtin.id)
    own = await domain.alerts.create_rule({"kind": "circuit_closed"})
    await domain.alerts.delete_rule(own.id)
    assert own.id not in {r.id for r in await domain.alerts.rules()}
    assert builtin.id in {r.id for r in await domain.alerts.rules()}


async def test_a_lasting_condition_raises_one_alert_until_it_ends(domain: Domain) -> None:
    cid = await domain.connection("okx main")
    first = await domain.alerts.raise_event(error_event(cid))
    for _ in range(3):  # the engine retries, still in error
        assert await domain.alerts.raise_event(error_event(cid)) == []
    assert len(first) == 1 and first[0].connection_name == "okx main"
    other = await domain.connection("bybit main")
    assert len(await domain.alerts.raise_event(error_event(other))) == 1  # another connection

    assert domain.alerts.clear(AlertKind.ENGINE_ERROR, cid, "engine")
    assert len(await domain.alerts.raise_event(error_event(cid))) == 1  # a new error
    # One-off events are never held back.
    one_off = error_event(cid, condition=None)
    assert len(await domain.alerts.raise_event(one_off)) == 1
    assert len(await domain.alerts.raise_event(one_off)) == 1
    page = await domain.alerts.list_alerts(
        connection_id=cid, kind="", unacknowledged=False, page_size=0, page_token=""
    )
    assert len(page.alerts) == 4 and page.unacknowledged == 5


def test_quiet_hours_may_wrap_midnight() -> None:
    night = QuietHours(time(22, 0), time(6, 0))
    assert [
        night.covers(datetime(2026, 1, 1, h, m, tzinfo=UTC))
        for h, m in [(21, 59), (22, 0), (23, 59), (0, 0), (5, 59), (6, 0), (12, 0)]
    ] == [False, True, True, True, True, False, False]
    lunch = QuietHours(time(12, 0), time(13, 30))
    assert [
        lunch.covers(datetime(2026, 1, 1, h, m, tzinfo=UTC))
        for h, m in [(11, 59), (12, 0), (13, 29), (13, 30)]
    ] == [False, True, True, False]


async def test_during_quiet_hours_alerts_are_stored_and_pushed_but_not_delivered(
    domain: Domain,
) -> None:
    cid = await domain.connection("quiet one")
    channel = await domain.alerts.create_channel(
        {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s3"}
    )
    await domain.alerts.create_rule(
        {
            "kind": "engine_error",
            "connection_id": cid,
            "channel_ids": [channel.id],
            "quiet_from": "22:00",
            "quiet_until": "06:00",
        }
    )
    subscription, _ = domain.topic.subscribe()
    domain.clock.now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    (quiet,) = await domain.alerts.raise_event(error_event(cid, None))
    pushed = await subscription.next(timeout=5)
    assert isinstance(pushed, Change) and pushed.current.alert.id == quiet.id
    assert quiet.deliveries == () and domain.dispatcher.submitted == []

    domain.clock.now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # the window has ended
    (loud,) = await domain.alerts.raise_event(error_event(cid, None))
    assert [(d.channel_id, d.state) for d in loud.deliveries] == [(channel.id, "pending")]
    ((target, message),) = domain.dispatcher.submitted
    assert (target.id, target.url, target.secret, message.id) == (
        channel.id,
        "http://127.0.0.1:9/hook",
        "s3",
        str(loud.id),
    )
    subscription.close()


async def test_a_rule_for_a_connection_takes_precedence_over_the_rule_for_all(
    domain: Domain,
) -> None:
    silenced, other = await domain.connection("silenced"), await domain.connection("other")
    await domain.alerts.create_rule(
        {"kind": "engine_error", "connection_id": silenced, "enabled": False}
    )
    assert await domain.alerts.raise_event(error_event(silenced)) == []
    (raised,) = await domain.alerts.raise_event(error_event(other))
    builtin = next(
        r for r in await domain.alerts.rules() if r.kind is AlertKind.ENGINE_ERROR and r.builtin
    )
    assert raised.rule_id == builtin.id and raised.severity.value == "critical"


async def test_a_deleted_connection_takes_the_rules_that_named_it(domain: Domain) -> None:
    kept, gone = await domain.connection("kept"), await domain.connection("gone")
    for connection_id in (kept, gone):
        await domain.alerts.create_rule(
            {"kind": "engine_error", "connection_id": connection_id, "enabled": False}
        )
    await domain.alerts.forget_connection(gone)  # as the connection stream's deletion does
    named = {r.connection_id for r in await domain.alerts.rules() if r.connection_id}
    assert named == {kept}
    # The rules the domain holds in memory follow.
    assert [r.connection_id for r in domain.alerts.rules_now() if r.connection_id] == [kept]


async def test_health_rules_fire_in_their_band_or_worse_once_per_fall(domain: Domain) -> None:
    cid = await domain.connection("wobbly")
    await domain.alerts.create_rule(
        {"kind": "health_below", "connection_id": cid, "health_band": "degraded"}
    )

    async def band(value: str) -> int:
        event = AlertEvent("health_below", "Health", value, cid, "health", band=value)
        return len(await domain.alerts.raise_event(event))

    assert [await band(b) for b in ("good", "degraded", "poor", "degraded", "good", "poor")] == [
        0,
        1,  # fell into degraded
        0,  # worse, but the condition lasts
        0,
        0,  # recovered: the condition ends
        1,
    ]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "nonsense"}, "kind", "unknown kind 'nonsense'"),
        ({}, "kind", "required"),
        (
            {"kind": "engine_error", "quiet_from": "25:00", "quiet_until": "06:00"},
            "quiet_from",
            "HH:MM",
        ),
        ({"kind": "engine_error", "quiet_from": "22:00"}, "quiet_until", "required"),
        ({"kind": "engine_error", "health_band": "poor"}, "health_band", "only applies"),
        ({"kind": "health_below", "health_band": "awful"}, "health_band", "good, degraded"),
        ({"kind": "engine_error", "severity": "meh"}, "severity", "info, warning"),
        (
            {"kind": "engine_error", "channel_ids": ["6f1c1e8e-5b7a-4c3e-9a53-2d1f0c9b8a77"]},
            "channel_ids",
            "no channel '6f1c1e8e-5b7a-4c3e-9a53-2d1f0c9b8a77'",
        ),
        ({"kind": "engine_error", "channel_ids": ["x"]}, "channel_ids", "not a channel id"),
        ({"kind": "meteor", "colour": "red"}, "colour", "unknown field"),
        (
            {"kind": "engine_error", "connection_id": "6f1c1e8e-5b7a-4c3e-9a53-2d1f0c9b8a77"},
            "connection_id",
            "no connection",
        ),
    ],
)
async def test_bad_rules_are_refused_naming_the_field_and_nothing_is_stored(
    domain: Domain, fields: dict[str, object], field: str, words: str
) -> None:
    before = stored(domain)
    with pytest.raises(InvalidArgument) as caught:
        await domain.alerts.create_rule(fields)
    assert [v.field for v in caught.value.violations] == [field]
    assert words in caught.value.violations[0].description
    assert stored(domain) == before
