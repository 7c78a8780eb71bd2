"""What the monitoring service offers, over the parts that know (no gRPC here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from server.connections.view import ConnectionView
from server.engine.status import EngineStatus
from server.exchange.breaker import CircuitState
from server.listeners import Listeners
from server.monitoring.logs.entry import Level
from server.monitoring.logs.journal import LogJournal
from server.monitoring.logs.store import LogFilter
from server.monitoring.overview import (
    RECENT_ERRORS,
    ComprehensiveReport,
    ConnectionStatus,
    comprehensive,
    connection_statuses,
)
from server.monitoring.startup import StartupChecks, StartupReport
from server.monitoring.status import StatusBoard, SystemStatus
from server.monitoring.structure import StructureFigures, StructureMeter


class Monitoring:
    def __init__(
        self,
        board: StatusBoard,
        journal: LogJournal,
        *,
        connections: Callable[[], Sequence[ConnectionView]],
        known_connection: Callable[[str], str],
        connection_view: Callable[[str], ConnectionView],
        engine_of: Callable[[str], EngineStatus],
        exchange_circuit: Callable[[str], CircuitState],
        startup_checks: Callable[[], StartupChecks],
        structure: StructureMeter,
    ) -> None:
        self.board = board
        self.journal = journal
        self._connections = connections
        self.known_connection = known_connection
        self._view = connection_view
        self._engine_of = engine_of
        self._exchange_circuit = exchange_circuit
        self._startup_checks = startup_checks
        self._structure = structure
        #: Told every start-up report, whoever asked for it (VerifyStartup, the server's start).
        self.on_startup_report: Listeners[[StartupReport]] = Listeners("a start-up report")

    def status(self) -> SystemStatus:
        return self.board.current()

    def watch_status(self) -> AsyncIterator[SystemStatus | None]:
        return self.board.watch()

    def connection_statuses(self) -> list[ConnectionStatus]:
        """Every active connection (enabled and on the active list), in connection order."""
        return connection_statuses(self._connections(), self._engine_of, active_only=True)

    def connection_status(self, connection_id: str) -> ConnectionStatus:
        """One connection, active or not (NOT_FOUND when unknown)."""
        view = self._view(connection_id)
        return ConnectionStatus(view, self._engine_of(str(view.id)))

    async def comprehensive(self) -> ComprehensiveReport:
        errors, _ = await self.journal.page(
            LogFilter(min_level=Level.ERROR), RECENT_ERRORS, "", settle=False
        )
        statuses = connection_statuses(self._connections(), self._engine_of, active_only=False)
        return comprehensive(self.status(), statuses, errors, self._exchange_circuit)

    async def verify_startup(self) -> StartupReport:
        report = await self._startup_checks().run()
        self.on_startup_report.tell(report)
        return report

    async def structure_metrics(self) -> StructureFigures:
        return await self._structure.measure()
