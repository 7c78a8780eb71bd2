"""The alerts domain over real storage (SQLite and PostgreSQL), and a real CTS server in front
of the exchange simulator, each with a recording dispatcher in place of the delivery module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.monitoring.v1 import alerts_pb2 as pb
from cts.monitoring.v1 import alerts_pb2_grpc

from server.alerts.delivery.contract import (
    AlertMessage,
    ChannelTarget,
    DeliveryOutcome,
    OutcomeListener,
)
from server.alerts.routing import RoutingStore
from server.alerts.service import Alerts
from server.alerts.store import AlertStore
from server.alerts.views import AlertEntry
from server.app import CtsServer
from server.settings import Settings
from server.streams.topic import Topic
from tests.conftest import auth, make_settings
from tests.connections.conftest import Desk
from tests.support.book import Book, open_book
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

Answer = Callable[[ChannelTarget, AlertMessage], list[DeliveryOutcome]]


def outcome(
    target: ChannelTarget,
    alert: AlertMessage,
    *,
    delivered: bool,
    attempt: int = 1,
    final: bool = True,
    status_code: int | None = 200,
    error: str = "",
) -> DeliveryOutcome:
    return DeliveryOutcome(
        target.id, alert.id, delivered, attempt, final, status_code, error, datetime.now(UTC)
    )


def delivered(target: ChannelTarget, alert: AlertMessage) -> list[DeliveryOutcome]:
    return [outcome(target, alert, delivered=True)]


class RecordingDispatcher:
    """Implements the AlertDispatcher protocol for the tests (the lead wires the real one):
    records every (channel, alert) it is handed and reports the outcomes ``answer`` gives (none
    by default) through the listener, later on the loop, as a real dispatcher would."""

    def __init__(self, on_outcome: OutcomeListener) -> None:
        self.on_outcome = on_outcome
        self.submitted: list[tuple[ChannelTarget, AlertMessage]] = []
        self.answer: Answer | None = None
        self.closed = False
        self.discarded: list[str] = []

    def submit(self, target: ChannelTarget, alert: AlertMessage) -> None:
        self.submitted.append((target, alert))
        if self.answer is not None:
            loop = asyncio.get_running_loop()
            for each in self.answer(target, alert):
                loop.call_soon(self.on_outcome, each)

    def discard(self, channel_id: str) -> None:
        self.discarded.append(channel_id)

    async def close(self) -> None:
        self.closed = True


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 6, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Domain:
    book: Book
    alerts: Alerts
    topic: Topic[AlertEntry]
    dispatcher: RecordingDispatcher
    clock: Clock

    def fresh(self) -> Alerts:
        """Another Alerts over the same storage (as after a restart)."""
        return make_alerts(self.book, self.topic, self.dispatcher, self.clock)

    async def connection(self, name: str) -> str:
        view = await self.book.connections.create(
            {"name": name, "exchange": "binance", "api_type": "spot"}
        )
        return str(view.id)


def make_alerts(
    book: Book,
    topic: Topic[AlertEntry],
    dispatcher: RecordingDispatcher,
    clock: Clock,
    **options: Any,
) -> Alerts:
    def name(connection_id: str) -> str:
        try:
            return book.connections.view(connection_id).name
        except Exception:
            return ""

    return Alerts(
        AlertStore(book.db),
        RoutingStore(book.db, book.cipher),
        topic,
        dispatcher,
        connection_name=name,
        known_connection=book.connections.known,
        heartbeat_seconds=15.0,
        clock=clock,
        **options,
    )


async def loaded_alerts(
    book: Book, topic: Topic[AlertEntry], clock: Clock, **options: Any
) -> tuple[Alerts, RecordingDispatcher]:
    """Alerts over ``book``'s storage, loaded, with a recording dispatcher."""
    holder: list[Alerts] = []
    dispatcher = RecordingDispatcher(lambda o: holder[0].on_outcome(o))
    alerts = make_alerts(book, topic, dispatcher, clock, **options)
    holder.append(alerts)
    await alerts.load()
    return alerts, dispatcher


@pytest.fixture
async def domain(database_url: str) -> AsyncIterator[Domain]:
    """The alerts domain on SQLite and on PostgreSQL, its clock at 12:00 UTC."""
    book = await open_book(database_url)
    topic: Topic[AlertEntry] = Topic("alerts")
    clock = Clock()
    alerts, dispatcher = await loaded_alerts(book, topic, clock, test_timeout_seconds=0.5)
    yield Domain(book, alerts, topic, dispatcher, clock)
    await alerts.close()
    book.close()


# -- a real server -------------------------------------------------------------------------------


class AlertServer:
    """A CTS server whose alerts go to a recording dispatcher, and its AlertService stub."""

    def __init__(self, thread: ServerThread, desk: Desk, dispatchers: list[RecordingDispatcher]):
        self.thread = thread
        self.desk = desk
        self._dispatchers = dispatchers
        self.stub = alerts_pb2_grpc.AlertServiceStub(desk.channel)

    @property
    def dispatcher(self) -> RecordingDispatcher:
        return self._dispatchers[0]

    async def rules(self) -> dict[str, pb.AlertRule]:
        """The rules by kind (builtin ones; the test's own override them by id)."""
        listed = await self.stub.ListAlertRules(pb.ListAlertRulesRequest(), metadata=auth())
        return {r.kind: r for r in listed.rules if r.builtin}

    async def enable(self, kind: str, **fields: Any) -> pb.AlertRule:
        rule = (await self.rules())[kind]
        request = pb.UpdateAlertRuleRequest(id=rule.id, rule=pb.AlertRule(enabled=True, **fields))
        return await self.stub.UpdateAlertRule(request, metadata=auth())  # type: ignore[no-any-return]

    async def alerts(self, **query: Any) -> list[pb.Alert]:
        listed = await self.stub.ListAlerts(pb.ListAlertsRequest(**query), metadata=auth())
        return list(listed.alerts)

    async def until(
        self, wanted: Callable[[list[pb.Alert]], bool], timeout: float = 20.0, **query: Any
    ) -> list[pb.Alert]:
        """The alerts once ``wanted`` holds, read from the alert stream as they come."""
        stream = self.stub.WatchAlerts(pb.WatchAlertsRequest(), metadata=auth())
        try:
            async with asyncio.timeout(timeout):
                async for _message in stream:
                    alerts = await self.alerts(**query)
                    if wanted(alerts):
                        return alerts
        finally:
            stream.cancel()
        raise AssertionError("the alert stream ended")


def alert_server_settings(data: Path, sim: SimulatorThread, **overrides: Any) -> Settings:
    return make_settings(data, simulator_url=sim.base_url, demo=False, **overrides)


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    """Settings a test changes before ``alert_server`` starts."""
    return {}


@pytest.fixture
def alert_thread(
    tmp_path: Path, sim: SimulatorThread, server_overrides: dict[str, Any]
) -> Iterator[tuple[ServerThread, list[RecordingDispatcher]]]:
    dispatchers: list[RecordingDispatcher] = []

    def dispatcher(on_outcome: OutcomeListener) -> RecordingDispatcher:
        made = RecordingDispatcher(on_outcome)
        dispatchers.append(made)
        return made

    settings = alert_server_settings(tmp_path / "data", sim, **server_overrides)
    thread = ServerThread(settings, lambda s: CtsServer(s, alert_dispatcher=dispatcher)).start()
    yield thread, dispatchers
    thread.stop()


@pytest.fixture
async def alert_server(
    alert_thread: tuple[ServerThread, list[RecordingDispatcher]], sim: SimulatorThread
) -> AsyncIterator[AlertServer]:
    thread, dispatchers = alert_thread
    async with grpc.aio.insecure_channel(thread.target) as channel:
        yield AlertServer(thread, Desk(channel, thread, sim), dispatchers)
