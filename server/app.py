"""The CTS gRPC server: storage, domain services and servicers wired together."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cts.access.v1 import access_pb2, access_pb2_grpc
from cts.connection.v1 import account_pb2, account_pb2_grpc, connection_pb2, connection_pb2_grpc
from cts.engine.v1 import engine_pb2, engine_pb2_grpc
from cts.monitoring.v1 import market_pb2, market_pb2_grpc, monitoring_pb2, monitoring_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlmodel import Session

from server.access.audit import AuditTrail
from server.access.limits import Limits
from server.access.tokens import TokenVerifier, ensure_admin_token
from server.accounts.model import AccountSummary
from server.accounts.service import Accounts
from server.accounts.valuation import feed_prices
from server.alerts import wiring as alerts_wiring
from server.alerts.views import AlertEntry
from server.connections.monitor import HealthMonitor
from server.connections.seeds import seed_demo, seed_predefined
from server.connections.service import Connections
from server.connections.testing import ConnectionTester, TestRun
from server.connections.view import ConnectionView
from server.engine.coordinator import Coordinator
from server.engine.dry_run import EngineDryRun
from server.engine.feed import MarketFeeds, MarketSource
from server.engine.marks import PositionEvent
from server.engine.status import EngineStatus
from server.exchange.access import ExchangeAccess
from server.heap import HeapSteward
from server.monitoring.exporter import MetricsExporter
from server.monitoring.logs.capture import LogCapture
from server.monitoring.logs.entry import LogEntry
from server.monitoring.logs.journal import LogJournal
from server.monitoring.logs.scrub import install_record_scrubbing
from server.monitoring.loop_lag import LoopLag
from server.monitoring.metrics import CtsMetrics
from server.monitoring.prices import Prices
from server.monitoring.service import Monitoring
from server.monitoring.startup import StartupChecks
from server.monitoring.status import StatusBoard, StatusSources, SystemStatus
from server.monitoring.structure import StructureMeter
from server.rpc.access_servicer import AccessServicer
from server.rpc.account_servicer import AccountServicer
from server.rpc.boundary import RpcBoundary
from server.rpc.connection_servicer import ConnectionServicer
from server.rpc.engine_servicer import EngineServicer
from server.rpc.market_servicer import MarketServicer
from server.rpc.metrics_interceptor import MetricsInterceptor
from server.rpc.monitoring_servicer import MonitoringServicer
from server.rpc.wrapping import PreSerialized
from server.settings import Settings
from server.storage.database import Database
from server.storage.migrate import upgrade
from server.streams.topic import Topic
from server.vault.canary import ensure_canary
from server.vault.cipher import CredentialCipher
from server.vault.lock import VaultLock
from server.vault.master_key import load_master_key
from server.vault.opening import open_vault

log = logging.getLogger("cts.server")

SERVICE_NAMES = (
    connection_pb2.DESCRIPTOR.services_by_name["ConnectionService"].full_name,
    engine_pb2.DESCRIPTOR.services_by_name["EngineService"].full_name,
    monitoring_pb2.DESCRIPTOR.services_by_name["MonitoringService"].full_name,
    market_pb2.DESCRIPTOR.services_by_name["MarketService"].full_name,
    access_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name,
    account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name,
    alerts_wiring.SERVICE_NAME,
)


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What the first start produced that the operator must see once."""

    generated_admin_token: str | None


def prepare_storage(settings: Settings) -> tuple[Database, Bootstrap]:
    """Create the data folder, migrate the schema, seed once, ensure the admin token.

    The demo connection is seeded (once) when a simulator is configured and the demo is on.
    A master key that does not open the stored credentials (missing or replaced) is refused
    with ``MasterKeyError``; an interrupted key rotation is finished or undone first.
    """
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(
        settings.resolved_database_url,
        threads=settings.db_threads,
        connect_timeout=settings.database_connect_timeout_seconds,
    )
    try:
        upgrade(db.engine)
        cipher = open_vault(db, settings.master_key, data_dir)
    except BaseException:
        db.close()
        raise
    configured = settings.admin_token.get_secret_value() if settings.admin_token else None

    def bootstrap(session: Session) -> str | None:
        seed_predefined(session)
        ensure_canary(session, cipher)
        if settings.demo and settings.simulator_url:
            seed_demo(session, lambda owner, value: cipher.seal(value, owner=owner))
        return ensure_admin_token(session, configured, settings.admin_token_file)

    token = db.write_now(bootstrap)
    keep_private(data_dir)
    return db, Bootstrap(generated_admin_token=token)


def keep_private(data_dir: Path) -> None:
    """The data folder and everything in it readable by its owner only, whatever the umask
    (and whatever an earlier version left): the folder 0700, each file without group and other
    permissions. SQLite creates its -wal and -shm files with the database file's mode."""
    data_dir.chmod(0o700)
    for path in data_dir.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)


class CtsServer:
    """A running CTS server; ``port`` is the bound gRPC port (useful when asked for port 0),
    ``metrics_port`` that of ``/metrics`` (0 while metrics are off). ``alert_dispatcher`` makes
    the dispatcher that delivers alerts to channels, given the alerts' outcome listener (default:
    :class:`~server.alerts.delivery.dispatcher.ChannelDispatcher` with the settings' policy)."""

    def __init__(
        self, settings: Settings, *, alert_dispatcher: alerts_wiring.DispatcherFactory | None = None
    ) -> None:
        self.settings = settings
        self._make_dispatcher = alert_dispatcher
        self.port: int = 0
        self.metrics_port: int = 0
        self.metrics = CtsMetrics() if settings.metrics else None
        self._exporter = MetricsExporter(self.metrics.registry) if self.metrics else None
        #: The event loop's lag: ``loop_lag.percentiles()`` gives p50 and p99 of the last minute.
        self.loop_lag = LoopLag(
            observe=self.metrics.event_loop_lag_seconds.observe if self.metrics else None
        )
        self.bootstrap: Bootstrap | None = None
        self._db: Database | None = None
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self.connection_topic: Topic[ConnectionView] = Topic(
            "connections",
            history_size=settings.stream_history_size,
            queue_size=settings.stream_queue_size,
        )
        self.test_topic: Topic[TestRun] = Topic(
            "connection_tests",
            history_size=settings.stream_history_size,
            queue_size=settings.stream_queue_size,
        )
        self.engine_topic: Topic[EngineStatus] = Topic(
            "engines",
            history_size=settings.stream_history_size,
            queue_size=settings.engine_stream_queue_size,
        )
        self.position_topic: Topic[PositionEvent] = Topic(
            "positions",
            history_size=settings.stream_history_size,
            queue_size=settings.engine_stream_queue_size,
        )
        self.account_topic: Topic[AccountSummary] = Topic(
            "accounts",
            history_size=settings.stream_history_size,
            queue_size=settings.stream_queue_size,
        )
        # Log batches; streams resume from storage, so little history is kept here.
        self.log_topic: Topic[tuple[LogEntry, ...]] = Topic(
            "logs", history_size=64, queue_size=settings.stream_queue_size
        )
        self.log_capture = LogCapture(settings.log_buffer_entries)
        self.journal: LogJournal | None = None
        self.status_topic: Topic[SystemStatus] = Topic(
            "system_status", history_size=16, queue_size=settings.stream_queue_size
        )
        self.alert_topic: Topic[AlertEntry] = Topic(
            "alerts",
            history_size=settings.stream_history_size,
            queue_size=settings.stream_queue_size,
        )
        self.alerts: alerts_wiring.AlertsRuntime | None = None
        self._board: StatusBoard | None = None
        self._monitor: HealthMonitor | None = None
        self._coordinator: Coordinator | None = None
        self._feeds: MarketFeeds | None = None
        self._access: ExchangeAccess | None = None
        self._accounts: Accounts | None = None
        self._vault_lock: VaultLock | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        settings = self.settings
        self._capture_logs()
        # Held while the server runs: no key rotation meanwhile (see server.vault.rotation).
        self._vault_lock = VaultLock.for_server(settings.resolved_data_dir)
        try:
            db, self.bootstrap = await asyncio.to_thread(prepare_storage, settings)
        except BaseException:
            self._release_vault()
            raise
        self._db = db
        self.journal = LogJournal(
            db,
            self.log_capture,
            self.log_topic,
            retention_days=settings.log_retention_days,
            max_entries=settings.log_max_entries,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
        )
        await self.journal.start()
        cipher = CredentialCipher(load_master_key(settings.master_key, settings.resolved_data_dir))
        connections = Connections(
            db, cipher, self.connection_topic, heartbeat_seconds=settings.stream_heartbeat_seconds
        )
        await connections.load()
        access = ExchangeAccess(settings.access_config())
        monitor = HealthMonitor(
            connections,
            access,
            self.connection_topic,
            interval_seconds=settings.health_check_interval_seconds,
            concurrency=settings.test_concurrency,
        )
        access.on_circuit_change.add(monitor.circuit_changed)
        access.on_call_counted.add(monitor.calls_counted)
        tester = ConnectionTester(
            connections,
            access,
            monitor,
            self.test_topic,
            concurrency=settings.test_concurrency,
            drift_warning_ms=settings.clock_drift_warning_ms,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
        )
        self._access, self._monitor = access, monitor
        tokens = TokenVerifier(db, cache_seconds=settings.token_cache_seconds)
        audit = AuditTrail(db)
        limits = Limits(settings.abuse_limits())
        if self.metrics is not None:
            self.metrics.follow_limits(limits)

        server = grpc.aio.server(
            interceptors=[
                PreSerialized(),  # first: it makes the handler that gRPC calls
                *([MetricsInterceptor(self.metrics.registry)] if self.metrics else []),
                RpcBoundary(tokens, audit, limits, tuple(settings.trusted_proxies)),
            ],
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        connection_pb2_grpc.add_ConnectionServiceServicer_to_server(
            ConnectionServicer(connections, tester, monitor), server
        )
        feeds = MarketFeeds(access, interval_seconds=settings.engine_cycle_seconds)
        coordinator = Coordinator(
            connections,
            access,
            db,
            self.engine_topic,
            self.connection_topic,
            lambda target, symbols: feeds.subscribe(MarketSource.of(target), symbols),
            settings.engine_plan(),
            position_topic=self.position_topic,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
            batch_interval_seconds=settings.stream_batch_interval_seconds,
            retry_base_seconds=settings.engine_retry_seconds,
            retry_max_seconds=min(60.0, settings.circuit_cooldown_seconds),
            mark_seconds=settings.engine_mark_seconds,
            status_cycles=settings.engine_status_cycles,
            stale_seconds=settings.engine_stale_seconds,
            stop_seconds=settings.shutdown_grace_seconds,
            enabled=settings.engines,
            feed_stats=lambda: list(feeds.stats().values()),
        )
        monitor.stale_since = coordinator.stale_since
        coordinator.on_stale_change.add(monitor.stale_changed)
        self._coordinator, self._feeds = coordinator, feeds
        if self.metrics is not None:
            self.metrics.follow(access, coordinator, self.topics, log_counts=self.journal.counts)
        engine_pb2_grpc.add_EngineServiceServicer_to_server(
            EngineServicer(coordinator, EngineDryRun(connections, access, settings.engine_plan())),
            server,
        )
        accounts = self._accounts = Accounts(
            connections,
            access,
            db,
            self.account_topic,
            self.position_topic,
            self.connection_topic,
            prices=feed_prices(feeds),
            interval_seconds=settings.balance_interval_seconds,
            fill_delay_seconds=settings.balance_fill_delay_seconds,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
        )
        account_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(accounts), server)
        journal = self.journal
        board = StatusBoard(
            StatusSources(
                connections=connections.views,
                engines=lambda: [coordinator.status(str(v.id)) for v in connections.views()],
                usage=access.usage_by_exchange,
                batch_tests_running=lambda: tester.batches_running,
                topics=lambda: self.topics,
                log_counts=journal.counts_last_hour,
            ),
            db,
            self.status_topic,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
        )
        self._board = board
        monitoring = Monitoring(
            board,
            journal,
            connections=connections.views,
            known_connection=connections.known,
            connection_view=connections.view,
            engine_of=coordinator.status,
            exchange_circuit=access.exchange_circuit,
            startup_checks=self.startup_checks,
            structure=StructureMeter(
                db,
                self.metrics.registry if self.metrics else None,
                loop_lag=self.loop_lag.percentiles,
                subscribers=lambda: {t.name: t.subscriber_count for t in self.topics},
            ),
        )
        monitoring_pb2_grpc.add_MonitoringServiceServicer_to_server(
            MonitoringServicer(monitoring), server
        )
        self.alerts = await alerts_wiring.start_alerts(
            self, db, cipher, connections, access, monitoring, server, self._make_dispatcher
        )
        prices = Prices(
            feeds,
            simulator_configured=bool(settings.simulator_url),
            heartbeat_seconds=settings.stream_heartbeat_seconds,
        )
        market_pb2_grpc.add_MarketServiceServicer_to_server(MarketServicer(prices), server)
        access_pb2_grpc.add_AccessServiceServicer_to_server(AccessServicer(audit), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        self.port = server.add_insecure_port(f"{settings.host}:{settings.grpc_port}")
        if self._exporter is not None:
            self.metrics_port = self._exporter.start(settings.host, settings.metrics_port)
        self.loop_lag.start()
        await accounts.start()  # loaded before the first request can ask for a summary
        await server.start()
        self._server = server
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        board.start()
        self.alerts.check_startup(monitoring)
        if settings.health_checks:
            monitor.start()
        if settings.engines:
            await coordinator.start()
        log.info("gRPC server listening on %s:%d", settings.host, self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful stop within ``grace`` seconds (``CTS_SHUTDOWN_GRACE_SECONDS``), whatever the
        exchanges do: NOT_SERVING; engines stop, a live order still waiting on an exchange when
        their time is up is abandoned and stays pending (resolved at the next start, as after a
        crash); streams end with OK; in-flight calls get the rest of the grace; storage closes."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        loop = asyncio.get_running_loop()
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        deadline = loop.time() + grace
        await self._health.enter_graceful_shutdown()
        if self._monitor is not None:
            await self._monitor.stop()
        if self._coordinator is not None:
            # Engines get most of the grace; streams and calls in flight keep the rest.
            await self._coordinator.stop(deadline - min(1.0, grace / 2))
        if self._accounts is not None:
            await self._accounts.stop()
        if self._feeds is not None:
            await self._feeds.close()
        if self._board is not None:
            await self._board.stop()
        if self.alerts is not None:
            await self.alerts.stop()
        for topic in self.topics:
            topic.close()
        if self._server is not None:
            await self._server.stop(max(0.0, deadline - loop.time()))
        if self._access is not None:
            await self._access.close()
        await self.loop_lag.stop()
        if self._exporter is not None:
            await self._exporter.stop()
        log.info("gRPC server stopped")
        logging.getLogger().removeHandler(self.log_capture)
        if self.journal is not None:
            await self.journal.stop()
        if self._db is not None:
            await asyncio.to_thread(self._db.close)
        self._release_vault()

    def _release_vault(self) -> None:
        if self._vault_lock is not None:
            self._vault_lock.release()
            self._vault_lock = None

    @property
    def coordinator(self) -> Coordinator | None:
        """The engines' coordinator (None before start)."""
        return self._coordinator

    @property
    def topics(self) -> list[Topic[Any]]:
        """Every stream's topic."""
        return [
            self.connection_topic,
            self.test_topic,
            self.engine_topic,
            self.position_topic,
            self.account_topic,
            self.log_topic,
            self.status_topic,
            self.alert_topic,
        ]

    def _capture_logs(self) -> None:
        """Every record of the process becomes an entry of this server's log (buffered until
        storage is ready); CTS's own loggers log at ``CTS_LOG_LEVEL`` and above."""
        install_record_scrubbing()
        logging.getLogger("cts").setLevel(self.settings.log_level.upper())
        logging.getLogger().addHandler(self.log_capture)

    def startup_checks(self) -> StartupChecks:
        """The start-up checks of this server, with its runtime state: the clock offsets its
        checks and tests measured, and its engines in error."""
        if self._db is None or self._monitor is None or self._coordinator is None:
            raise RuntimeError("the server is not started")
        return StartupChecks(
            self.settings,
            self._db,
            clock_offsets=self._monitor.clock_offsets,
            failed_engines=self._coordinator.failed_engines,
        )


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    server = CtsServer(settings)
    await server.start()
    # This process owns its heap: the cyclic collector runs on the steward's schedule (the
    # module says why); a server embedded in another program (tests) leaves its host's alone.
    heap = HeapSteward()
    heap.start()
    if server.bootstrap and server.bootstrap.generated_admin_token:
        print(
            "\nAdmin API token (shown once; also saved with mode 0600 to "
            f"{settings.admin_token_file}):\n  {server.bootstrap.generated_admin_token}\n",
            flush=True,
        )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    heap.close()
    log.info("signal received, shutting down (pid %d)", os.getpid())
    await server.stop()
