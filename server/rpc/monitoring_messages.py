"""Monitoring domain values → protobuf."""

from __future__ import annotations

from cts.monitoring.v1 import monitoring_pb2 as pb
from cts.stream.v1 import stream_pb2

from server.monitoring.logs.entry import LogEntry
from server.monitoring.logs.journal import LogBatch, LogHeartbeat
from server.monitoring.overview import ComprehensiveReport, ConnectionStatus
from server.monitoring.startup import StartupReport
from server.monitoring.status import SystemStatus, band_of
from server.monitoring.structure import StructureFigures
from server.rpc.engine_messages import status_message
from server.rpc.messages import capped32, timestamp


def log_entry_message(entry: LogEntry) -> pb.LogEntry:
    return pb.LogEntry(
        id=entry.id,
        time=timestamp(entry.time),
        level=entry.level.word,
        category=entry.category.value,
        connection_id=entry.connection_id or "",
        message=entry.message,
        stack=entry.stack or "",
        context=dict(entry.context),
        source=entry.logger,
    )


def stream_logs_message(item: LogBatch | LogHeartbeat) -> pb.StreamLogsResponse:
    if isinstance(item, LogHeartbeat):
        return pb.StreamLogsResponse(heartbeat=stream_pb2.Heartbeat(), last_id=item.last_id)
    return pb.StreamLogsResponse(
        entries=[log_entry_message(e) for e in item.entries],
        skipped=item.skipped,
        last_id=item.last_id,
    )


def system_status_message(status: SystemStatus) -> pb.SystemStatus:
    storage = status.storage
    return pb.SystemStatus(
        version=status.version,
        started_at=timestamp(status.started_at),
        uptime_seconds=round(status.uptime_seconds, 3),
        storage=pb.StorageStatus(
            kind=storage.kind,
            reachable=storage.reachable,
            latency_ms=storage.latency_ms,
            checked_at=timestamp(storage.checked_at) if storage.checked_at else None,
            error=storage.error,
        ),
        connections=status.connections,
        connections_by_exchange=dict(status.connections_by_exchange),
        connections_by_api_type=dict(status.connections_by_api_type),
        enabled=status.enabled,
        active=status.active,
        live_trading=status.live_trading,
        engines_by_state=dict(status.engines_by_state),
        health_by_band=dict(status.health_by_band),
        rate_usage=[
            pb.ExchangeUsage(
                exchange=u.exchange,
                accounts=u.accounts,
                busiest=u.busiest,
                paused_accounts=u.paused_accounts,
                in_flight=u.in_flight,
            )
            for u in status.rate_usage
        ],
        batch_tests_running=status.batch_tests_running,
        stream_subscribers=dict(status.subscribers),
        log_entries_last_hour=dict(status.log_entries_last_hour),
        computed_at=timestamp(status.computed_at),
    )


def watch_status_message(status: SystemStatus | None) -> pb.WatchSystemStatusResponse:
    if status is None:
        return pb.WatchSystemStatusResponse(heartbeat=stream_pb2.Heartbeat())
    return pb.WatchSystemStatusResponse(status=system_status_message(status))


def connection_status_message(
    status: ConnectionStatus, *, with_engine: bool = False
) -> pb.ConnectionStatus:
    view, engine = status.view, status.engine
    score = view.health.score if view.health is not None else None
    stage = engine.stage_progress
    return pb.ConnectionStatus(
        connection_id=str(view.id),
        name=view.name,
        exchange=view.exchange,
        api_type=view.api_type,
        state=status.state,
        is_live_trade=view.is_live_trade,
        is_simulated=view.is_simulated,
        health_status=status.health_status,
        health_reasons=list(view.health.reasons) if view.health else [],
        engine_state=engine.state.value,
        engine_stage=stage.stage.value if stage else "",
        stage_done=stage.done if stage else 0,
        stage_total=stage.total if stage else 0,
        stale=engine.stale,
        open_pseudo=engine.trading.open_pseudo,
        open_live=engine.trading.open_live,
        last_error=status.last_error,
        engine=status_message(engine) if with_engine else None,
        health_score=score.value if score is not None else None,
        health_band=band_of(view),
    )


def comprehensive_message(report: ComprehensiveReport) -> pb.ComprehensiveReport:
    return pb.ComprehensiveReport(
        system=system_status_message(report.system),
        exchanges=[
            pb.ExchangeInUse(
                exchange=e.exchange, connection_ids=list(e.connection_ids), circuit_state=e.circuit
            )
            for e in report.exchanges
        ],
        open_pseudo_positions=report.open_pseudo,
        open_live_positions=report.open_live,
        closed_pseudo_positions=capped32(report.closed_pseudo),
        closed_live_positions=capped32(report.closed_live),
        trades=capped32(report.trades),
        live_orders=capped32(report.live_orders),
        failed_orders=capped32(report.failed_orders),
        recent_errors=[log_entry_message(e) for e in report.recent_errors],
        connections=[connection_status_message(c) for c in report.connections],
        generated_at=timestamp(report.generated_at),
    )


def startup_report_message(report: StartupReport) -> pb.StartupReport:
    return pb.StartupReport(
        status=report.status.value,
        checks=[
            pb.StartupCheck(
                name=c.name, status=c.status.value, detail=c.detail, duration_ms=c.duration_ms
            )
            for c in report.checks
        ],
        skipped=[pb.SkippedCheck(name=s.name, reason=s.reason) for s in report.skipped],
        checked_at=timestamp(report.checked_at),
        duration_ms=report.duration_ms,
    )


def structure_message(figures: StructureFigures) -> pb.StructureMetrics:
    process = figures.process
    return pb.StructureMetrics(
        process=pb.ProcessMetrics(
            cpu_percent=process.cpu_percent,
            cpu_seconds=process.cpu_seconds,
            rss_bytes=process.rss_bytes,
            open_files=process.open_files,
            threads=process.threads,
        ),
        event_loop_lag_p50_ms=figures.loop_lag_p50_ms,
        event_loop_lag_p99_ms=figures.loop_lag_p99_ms,
        storage=pb.StorageMetrics(
            kind=figures.storage.kind,
            size_bytes=figures.storage.size_bytes,
            rows={table: capped32(count) for table, count in figures.storage.rows.items()},
        ),
        rpcs=[
            pb.RpcMetrics(
                method=r.method, count=r.count, errors=r.errors, p50_ms=r.p50_ms, p99_ms=r.p99_ms
            )
            for r in figures.rpcs
        ],
        exchange_requests=[
            pb.ExchangeRequests(exchange=exchange, outcome=outcome, count=count)
            for (exchange, outcome), count in sorted(figures.exchange_requests.items())
        ],
        stream_subscribers=dict(figures.subscribers),
        measured_at=timestamp(figures.measured_at),
    )
