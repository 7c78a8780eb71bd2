"""The alerts domain: events become alerts by the rules, alerts are stored, pushed on the
alerts topic and handed to the dispatcher for each of the rule's channels; delivery outcomes come
back through :meth:`Alerts.on_outcome`; users acknowledge alerts; rules and channels are kept.

It knows nothing of gRPC. It never waits on delivery: the dispatcher queues and reports back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from server.alerts.channels import CHANNEL_FIELDS, channel_changes
from server.alerts.delivery.contract import (
    AlertDispatcher,
    AlertMessage,
    DeliveryOutcome,
    Severity,
)
from server.alerts.model import AlertRecord
from server.alerts.routing import RoutingStore
from server.alerts.rules import (
    BAND_RANK,
    RULE_FIELDS,
    AlertKind,
    HealthBand,
    RuleView,
    matching,
    parse_kind,
    parse_rule_id,
    parse_uuid,
    rule_changes,
)
from server.alerts.store import AlertFilter, AlertStore
from server.alerts.views import (
    AlertEntry,
    AlertEvent,
    AlertPage,
    AlertView,
    ChannelView,
    DeliveryView,
)
from server.errors import DomainError, InvalidArgument
from server.storage.types import utc_now
from server.streams.topic import Topic
from server.streams.watch import StreamItem, watch

log = logging.getLogger("cts.alerts")

ALERT_ID_MAX = 19
TEXT_MAX = 2000
TITLE_MAX = 200
Key = tuple[str, str, str, str]  # kind, rule id, connection id, condition


def parse_alert_id(text: str, field: str = "id") -> int:
    if not text:
        raise InvalidArgument.field(field, "required")
    if len(text) > ALERT_ID_MAX or not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise InvalidArgument.field(field, "is not an alert id (a positive whole number)")
    return int(text)


class Alerts:
    """Alerts, rules and channels.

    ``connection_name`` gives a connection's name ("" when unknown); ``known_connection`` the
    canonical id of an existing connection (raising a domain error otherwise). ``clock`` gives
    the time, in UTC (quiet hours are judged by it).
    """

    def __init__(
        self,
        store: AlertStore,
        routing: RoutingStore,
        topic: Topic[AlertEntry],
        dispatcher: AlertDispatcher,
        *,
        connection_name: Callable[[str], str],
        known_connection: Callable[[str], str],
        heartbeat_seconds: float,
        test_timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._routing = routing
        self._topic = topic
        self._dispatcher = dispatcher
        self._connection_name = connection_name
        self._known_connection = known_connection
        self._heartbeat_seconds = heartbeat_seconds
        self._test_timeout = test_timeout_seconds
        self._clock = clock
        self._rules: list[RuleView] = []
        self._active: set[Key] = set()
        self._tests: dict[tuple[str, str], asyncio.Future[DeliveryOutcome]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def load(self) -> None:
        """Create the builtin rules (once per database) and read the rules."""
        await self._routing.seed_builtin_rules(self._clock())
        self._rules = await self._routing.rules()

    async def close(self) -> None:
        """Wait for outcomes being stored; then nothing more is written."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background (for sources told synchronously); failures logged."""
        task = asyncio.ensure_future(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, object]) -> None:
        try:
            await work
        except Exception:
            log.exception("an alert could not be raised or recorded")

    # -- raising --------------------------------------------------------------------------------

    async def raise_event(self, event: AlertEvent) -> list[AlertView]:
        """Alerts for ``event``, one per matching rule (none for a lasting condition that
        already raised one for that rule and connection)."""
        kind = AlertKind(event.kind)
        raised = []
        for rule in matching(self._rules, kind, event.connection_id):
            key = (kind.value, rule.id, event.connection_id, event.condition or "")
            better = event.band is not None and (
                BAND_RANK[HealthBand(event.band)] < BAND_RANK[rule.effective_band]
            )
            if better:
                self._active.discard(key)  # better than this rule's band: it may fire again
                continue
            if event.condition is not None:
                if key in self._active:
                    continue
                self._active.add(key)
            try:
                raised.append(await self._raise(rule, event))
            except BaseException:
                self._active.discard(key)  # not raised: the next report may raise it
                raise
        return raised

    def clear(self, kind: str, connection_id: str, condition: str) -> bool:
        """The condition ended: the next time it starts raises alerts again. True when it was
        active for some rule (so that recoveries can follow only real errors)."""
        ended = {k for k in self._active if k[0] == kind and k[2:] == (connection_id, condition)}
        self._active -= ended
        return bool(ended)

    def active(self, kind: str, connection_id: str, condition: str) -> bool:
        return any(k[0] == kind and k[2:] == (connection_id, condition) for k in self._active)

    async def _raise(self, rule: RuleView, event: AlertEvent) -> AlertView:
        now = self._clock()
        quiet = rule.is_quiet(now)
        targets = [] if quiet else await self._routing.targets(rule.channel_ids)
        record = AlertRecord(
            kind=event.kind,
            severity=rule.effective_severity.value,
            title=event.title[:TITLE_MAX],
            text=event.text[:TEXT_MAX],
            connection_id=event.connection_id,
            connection_name=self._connection_name(event.connection_id)[:100]
            if event.connection_id
            else "",
            details=dict(event.details or {}),
            rule_id=rule.id,
            raised_at=now,
        )
        async with self._topic.ordered():
            view, count = await self._store.add_alert(record, targets)
            self._topic.publish(view.id, AlertEntry(view, count))
        message = alert_message(view)
        for target in targets:
            self._dispatcher.submit(target, message)
        log.info(
            "alert %d raised: %s (%s)%s",
            view.id,
            view.title,
            view.kind,
            " during quiet hours: not delivered" if quiet and rule.channel_ids else "",
        )
        return view

    # -- delivery outcomes ----------------------------------------------------------------------

    def on_outcome(self, outcome: DeliveryOutcome) -> None:
        """The dispatcher's ``on_outcome`` listener: stores the attempt and pushes the alert.
        Call it on the server's event loop (from another thread: ``loop.call_soon_threadsafe``)."""
        waiting = self._tests.get((outcome.alert_id, outcome.channel_id))
        if waiting is not None and outcome.final and not waiting.done():
            waiting.set_result(outcome)
        self.spawn(self.record_outcome(outcome))

    async def record_outcome(self, outcome: DeliveryOutcome) -> None:
        async with self._topic.ordered():
            after = await self._store.record_outcome(outcome)
            if after is not None:
                entry = AlertEntry(*after)
                # No watcher filters alerts: a previous state only marks this as a change.
                self._topic.publish(entry.alert.id, entry, previous=entry)

    async def test_channel(self, channel_id: str) -> DeliveryView:
        """Send a test alert to the channel now and wait (bounded) for its final outcome."""
        target = await self._routing.target(parse_uuid(channel_id, "id", "a channel id"))
        now = self._clock()
        message = AlertMessage(
            id=f"test-{uuid.uuid4().hex}",
            kind="test",
            severity=Severity.INFO,
            title="CTS test alert",
            text=f"A test of the channel '{target.name}', sent at {now:%Y-%m-%d %H:%M:%S} UTC.",
            occurred_at=now,
        )
        waiting: asyncio.Future[DeliveryOutcome] = asyncio.get_running_loop().create_future()
        self._tests[(message.id, target.id)] = waiting
        try:
            self._dispatcher.submit(target, message)
            async with asyncio.timeout(self._test_timeout):
                outcome = await waiting
        except TimeoutError:
            return DeliveryView(
                target.id,
                target.name,
                "pending",
                0,
                0,
                f"no final outcome within {self._test_timeout:g} s (still being retried)",
                self._clock(),
            )
        finally:
            self._tests.pop((message.id, target.id), None)
        return DeliveryView(
            target.id,
            target.name,
            "delivered" if outcome.delivered else "failed",
            outcome.attempt,
            outcome.status_code or 0,
            outcome.error,
            outcome.at,
        )

    # -- alerts ---------------------------------------------------------------------------------

    async def list_alerts(
        self,
        *,
        connection_id: str,
        kind: str,
        unacknowledged: bool,
        page_size: int,
        page_token: str,
    ) -> AlertPage:
        if connection_id:
            connection_id = str(parse_uuid(connection_id, "connection_id", "a connection id"))
        if kind:
            parse_kind(kind)
        where = AlertFilter(connection_id, kind, unacknowledged)
        return await self._store.page(where, page_size, page_token)

    def watch(self, resume_revision: int = 0) -> AsyncIterator[StreamItem[AlertEntry]]:
        async def load() -> list[AlertEntry]:
            views, count = await self._store.snapshot()
            return [AlertEntry(v, count) for v in views]

        return watch(
            self._topic,
            load=load,
            matches=lambda _entry: True,
            heartbeat_seconds=self._heartbeat_seconds,
            resume_revision=resume_revision,
        )

    async def acknowledge(self, alert_id: str, by: str) -> AlertView:
        """Acknowledge one alert; again changes nothing (the first acknowledgement stays)."""
        number = parse_alert_id(alert_id)
        changed = await self._acknowledge(None, number, by)
        return changed[0] if changed else await self._store.alert(number)

    async def acknowledge_up_to(self, up_to_id: str, by: str) -> int:
        up_to = parse_alert_id(up_to_id, "up_to_id") if up_to_id else None
        return len(await self._acknowledge(up_to, None, by))

    async def _acknowledge(self, up_to: int | None, only: int | None, by: str) -> list[AlertView]:
        async with self._topic.ordered():
            views, count = await self._store.acknowledge(up_to, only, by, self._clock())
            for view in views:
                entry = AlertEntry(view, count)
                self._topic.publish(view.id, entry, previous=entry)
        return views

    # -- rules ----------------------------------------------------------------------------------

    def rules_now(self) -> list[RuleView]:
        return list(self._rules)

    async def rules(self) -> list[RuleView]:
        return await self._routing.rules()

    async def rule(self, rule_id: str) -> RuleView:
        return await self._routing.rule(parse_rule_id(rule_id))

    async def create_rule(self, values: Mapping[str, Any]) -> RuleView:
        changes = self._rule_changes(values, creating=True)
        view = await self._routing.save_rule(None, changes, self._clock())
        self._rules = await self._routing.rules()
        return view

    async def update_rule(self, rule_id: str, values: Mapping[str, Any]) -> RuleView:
        parsed = parse_rule_id(rule_id)
        if "kind" in values and values["kind"] == (await self._routing.rule(parsed)).kind:
            values = {k: v for k, v in values.items() if k != "kind"}  # sent back unchanged
        changes = self._rule_changes(values, creating=False)
        view = await self._routing.save_rule(parsed, changes, self._clock())
        self._rules = await self._routing.rules()
        return view

    async def delete_rule(self, rule_id: str) -> None:
        await self._routing.delete_rule(parse_rule_id(rule_id))
        self._rules = await self._routing.rules()

    async def forget_connection(self, connection_id: str) -> None:
        """The connection was deleted: the rules that named it go with it (its alerts stay, as
        a record)."""
        if await self._routing.delete_rules_of(connection_id):
            self._rules = await self._routing.rules()

    def _rule_changes(self, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        _known_fields(values, RULE_FIELDS)
        changes = rule_changes(values, creating=creating)
        connection_id = changes.get("connection_id")
        if connection_id:
            try:
                changes["connection_id"] = self._known_connection(connection_id)
            except DomainError:
                shown = connection_id if len(connection_id) <= 64 else connection_id[:64] + "…"
                raise InvalidArgument.field("connection_id", f"no connection '{shown}'") from None
        return changes

    # -- channels -------------------------------------------------------------------------------

    async def channels(self) -> list[ChannelView]:
        return await self._routing.channels()

    async def channel(self, channel_id: str) -> ChannelView:
        return await self._routing.channel(parse_uuid(channel_id, "id", "a channel id"))

    async def create_channel(self, values: Mapping[str, Any]) -> ChannelView:
        _known_fields(values, CHANNEL_FIELDS)
        changes = channel_changes(values, creating=True)
        return await self._routing.save_channel(None, changes, self._clock())

    async def update_channel(self, channel_id: str, values: Mapping[str, Any]) -> ChannelView:
        parsed = parse_uuid(channel_id, "id", "a channel id")
        _known_fields(values, CHANNEL_FIELDS)
        if "kind" in values and values["kind"] == (await self._routing.channel(parsed)).kind:
            values = {k: v for k, v in values.items() if k != "kind"}  # sent back unchanged
        changes = channel_changes(values, creating=False)
        saved = await self._routing.save_channel(parsed, changes, self._clock())
        if not saved.enabled:
            self._dispatcher.discard(str(parsed))  # no more retries to a switched-off channel
        return saved

    async def delete_channel(self, channel_id: str) -> None:
        parsed = parse_uuid(channel_id, "id", "a channel id")
        await self._routing.delete_channel(parsed)
        self._dispatcher.discard(str(parsed))


def _known_fields(values: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """INVALID_ARGUMENT naming the first field (by name) of ``values`` that is not ``allowed``."""
    unknown = set(values) - allowed
    if unknown:
        raise InvalidArgument.field(sorted(unknown)[0], "unknown field")


def alert_message(view: AlertView) -> AlertMessage:
    return AlertMessage(
        id=str(view.id),
        kind=view.kind,
        severity=view.severity,
        title=view.title,
        text=view.text,
        occurred_at=view.raised_at,
        connection_id=view.connection_id,
        connection_name=view.connection_name,
        details=tuple(sorted(view.details.items())),
    )
