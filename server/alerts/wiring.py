"""The alerts domain as the server runs it: storage, the domain, its event sources hooked to
the server's topics and callbacks, AlertService, and the dispatcher that delivers to channels
(the server's wiring of alerts lives here, not in ``server.app``).

The dispatcher is made by a :data:`DispatcherFactory` given the domain's outcome listener
(``Alerts.on_outcome``): by default the delivery module's
:class:`~server.alerts.delivery.dispatcher.ChannelDispatcher` with the settings' policy (tests
give their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from cts.monitoring.v1 import alerts_pb2, alerts_pb2_grpc

from server.alerts.delivery.contract import AlertDispatcher, OutcomeListener
from server.alerts.delivery.dispatcher import ChannelDispatcher
from server.alerts.events import AlertSources
from server.alerts.routing import RoutingStore
from server.alerts.service import Alerts
from server.alerts.store import AlertStore
from server.alerts.views import AlertEntry
from server.connections.service import Connections
from server.connections.testing import TestRun
from server.connections.view import ConnectionView
from server.engine.marks import PositionEvent
from server.engine.status import EngineStatus
from server.exchange.access import ExchangeAccess
from server.monitoring.service import Monitoring
from server.rpc.alert_servicer import AlertServicer
from server.settings import Settings
from server.storage.database import Database
from server.streams.topic import Topic
from server.vault.cipher import CredentialCipher

log = logging.getLogger("cts.alerts")

SERVICE_NAME = alerts_pb2.DESCRIPTOR.services_by_name["AlertService"].full_name

DispatcherFactory = Callable[[OutcomeListener], AlertDispatcher]


class ServerParts(Protocol):
    """What the alerts take from the server (``server.app.CtsServer`` has it): its settings
    and topics, the alerts' own among them."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine_topic(self) -> Topic[EngineStatus]: ...
    @property
    def connection_topic(self) -> Topic[ConnectionView]: ...
    @property
    def test_topic(self) -> Topic[TestRun]: ...
    @property
    def position_topic(self) -> Topic[PositionEvent]: ...
    @property
    def alert_topic(self) -> Topic[AlertEntry]: ...


@dataclass
class AlertsRuntime:
    alerts: Alerts
    sources: AlertSources
    dispatcher: AlertDispatcher
    _startup: asyncio.Task[object] | None = field(default=None)

    def check_startup(self, monitoring: Monitoring) -> None:
        """Run the start-up checks once now (in the background): failures raise alerts."""
        self._startup = asyncio.ensure_future(monitoring.verify_startup())

    async def stop(self) -> None:
        if self._startup is not None:
            self._startup.cancel()
            with contextlib.suppress(BaseException):
                await self._startup
        await self.sources.stop()
        await self.dispatcher.close()
        await self.alerts.close()


def _name_of(connections: Connections) -> Callable[[str], str]:
    def name(connection_id: str) -> str:
        try:
            return connections.view(connection_id).name
        except Exception:
            return ""

    return name


async def start_alerts(
    parts: ServerParts,
    db: Database,
    cipher: CredentialCipher,
    connections: Connections,
    access: ExchangeAccess,
    monitoring: Monitoring,
    server: grpc.aio.Server,
    make_dispatcher: DispatcherFactory | None = None,
) -> AlertsRuntime:
    """Build the alerts domain, hook its sources to the server's callbacks and topics, and
    serve AlertService on ``server``; call before engines start."""
    settings = parts.settings
    holder: list[Alerts] = []
    make = make_dispatcher or (
        lambda on_outcome: ChannelDispatcher(on_outcome, settings.alert_delivery_policy())
    )
    dispatcher = make(lambda o: holder[0].on_outcome(o))
    name_of = _name_of(connections)
    alerts = Alerts(
        AlertStore(db),
        RoutingStore(db, cipher),
        parts.alert_topic,
        dispatcher,
        connection_name=name_of,
        known_connection=connections.known,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
        test_timeout_seconds=settings.alert_test_timeout_seconds,
    )
    holder.append(alerts)
    await alerts.load()
    sources = AlertSources(alerts, name_of)
    access.on_circuit_change.add(sources.circuit_changed)
    access.on_rate_limit_pause.add(sources.rate_limit_paused)
    monitoring.on_startup_report.add(sources.startup_report)
    sources.follow(
        engines=parts.engine_topic,
        connections=parts.connection_topic,
        tests=parts.test_topic,
        positions=parts.position_topic,
    )
    alerts_pb2_grpc.add_AlertServiceServicer_to_server(AlertServicer(alerts), server)
    return AlertsRuntime(alerts, sources, dispatcher)
