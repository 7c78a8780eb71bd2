"""Protobuf forms of the connection domain: connections, settings, tests and health."""

from __future__ import annotations

import uuid

from cts.connection.v1 import connection_pb2 as pb

from server.connections.draft import TradingSettingsDraft
from server.connections.health import ConnectionHealth
from server.connections.testing import BatchResult, TestResult, TestRun
from server.connections.view import ConnectionView
from server.exchange.model import KeyPermissions
from server.monitoring.score import HealthScore
from server.rpc.messages import (
    SerializedStream,
    capped32,
    decimal_text,
    stream_message,
    timestamp,
)
from server.streams.watch import StreamItem

# Fields of Connection that clients cannot set (ignored when named in an update mask).
OUTPUT_ONLY_FIELDS = frozenset(
    {
        "id",
        "api_key_hint",
        "has_credentials",
        "has_passphrase",
        "is_predefined",
        "created_at",
        "updated_at",
        "last_test_status",
        "last_test_balance",
        "last_test_log",
        "last_test_at",
        "last_test_duration_ms",
        "api_capabilities",
        "health",
    }
)


def capabilities_message(permissions: KeyPermissions) -> pb.ApiCapabilities:
    message = pb.ApiCapabilities(read=permissions.read)
    for name in ("spot_trading", "derivatives_trading", "withdrawals"):
        value = getattr(permissions, name)
        if value is not None:
            setattr(message, name, value)
    return message


def health_message(connection_id: uuid.UUID | str, health: ConnectionHealth) -> pb.ConnectionHealth:
    rate = health.rate
    message = pb.ConnectionHealth(
        connection_id=str(connection_id),
        status=health.status.value,
        last_check_result=health.last_check_result,
        average_response_ms=health.average_response_ms,
        success_count=capped32(health.success_count),
        error_count=capped32(health.error_count),
        uptime_percent=health.uptime_percent,
        rate_limit=pb.RateLimitUsage(
            requests_last_second=rate.last_second,
            per_second_limit=rate.per_second,
            requests_last_minute=rate.last_minute,
            per_minute_limit=rate.per_minute,
            in_flight=rate.in_flight,
            concurrent_limit=rate.concurrent,
            paused_seconds=rate.paused_seconds,
        ),
        circuit_state=health.circuit_state,
        check_count=capped32(health.check_count),
        last_error=health.last_error,
        exchange_circuit_state=health.exchange_circuit_state,
        reasons=list(health.reasons),
    )
    if health.last_check_at is not None:
        message.last_check_at.CopyFrom(timestamp(health.last_check_at))
    if health.stale_since is not None:
        message.stale_since.CopyFrom(timestamp(health.stale_since))
    if health.score is not None:
        message.score.CopyFrom(score_message(health.score))
    return message


def score_message(score: HealthScore) -> pb.HealthScore:
    return pb.HealthScore(
        value=score.value,
        band=score.band.value,
        gate=score.gate,
        gate_reason=score.gate_reason,
        components=[
            pb.ScoreComponent(name=c.name, value=c.value, weight=c.weight, reason=c.reason)
            for c in score.components
        ],
    )


def connection_message(view: ConnectionView) -> pb.Connection:
    message = pb.Connection(
        id=str(view.id),
        name=view.name,
        exchange=view.exchange,
        api_type=view.api_type,
        connection_method=view.connection_method,
        authentication_type=view.authentication_type,
        api_key_hint=view.api_key_hint,
        has_credentials=view.has_credentials,
        has_passphrase=view.has_passphrase,
        margin_type=view.margin_type,
        position_mode=view.position_mode,
        volume_factor=decimal_text(view.volume_factor),
        leverage=view.leverage,
        max_position_notional=decimal_text(view.max_position_notional),
        max_total_notional=decimal_text(view.max_total_notional),
        preset_type=view.preset_type,
        is_testnet=view.is_testnet,
        is_enabled=view.is_enabled,
        is_active=view.is_active,
        is_live_trade=view.is_live_trade,
        is_predefined=view.is_predefined,
        is_simulated=view.is_simulated,
        created_at=timestamp(view.created_at),
        updated_at=timestamp(view.updated_at),
        last_test_status=view.last_test_status or "",
        last_test_balance=""
        if view.last_test_balance is None
        else decimal_text(view.last_test_balance),
        last_test_log=view.last_test_log,
        last_test_duration_ms=view.last_test_duration_ms or 0,
    )
    if view.last_test_at is not None:
        message.last_test_at.CopyFrom(timestamp(view.last_test_at))
    if view.capabilities is not None:
        message.api_capabilities.CopyFrom(capabilities_message(view.capabilities))
    if view.health is not None:
        message.health.CopyFrom(health_message(view.id, view.health))
    else:  # not checked since the server started
        message.health.CopyFrom(pb.ConnectionHealth(connection_id=str(view.id), status="unknown"))
    return message


def settings_message(settings: TradingSettingsDraft) -> pb.TradingSettings:
    return pb.TradingSettings(
        margin_type=settings.margin_type.value,
        position_mode=settings.position_mode.value,
        volume_factor=decimal_text(settings.volume_factor),
        leverage=settings.leverage,
        max_position_notional=decimal_text(settings.max_position_notional),
        max_total_notional=decimal_text(settings.max_total_notional),
    )


def test_result_message(result: TestResult) -> pb.ConnectionTestResult:
    message = pb.ConnectionTestResult(
        connection_id=result.connection_id,
        test_id=result.test_id,
        status=result.status.value,
        balance="" if result.balance is None else decimal_text(result.balance),
        balances=[
            pb.AssetBalance(
                asset=b.asset,
                free=decimal_text(b.free),
                used=decimal_text(b.used),
                total=decimal_text(b.total),
            )
            for b in result.balances
        ],
        log=result.log,
        steps=[
            pb.TestStep(
                name=s.name, status=s.status.value, duration_ms=s.duration_ms, message=s.message
            )
            for s in result.steps
        ],
        duration_ms=result.duration_ms,
        latency_ms=result.latency_ms or 0,
        clock_drift_ms=capped32(result.clock_drift_ms or 0),
        tested_at=timestamp(result.tested_at),
        error_reason=result.error_reason,
        error_message=result.error_message,
        is_simulated=result.simulated,
    )
    if result.capabilities is not None:
        message.capabilities.CopyFrom(capabilities_message(result.capabilities))
    return message


def batch_message(batch: BatchResult) -> pb.BatchTestResult:
    return pb.BatchTestResult(
        batch_id=batch.batch_id,
        results=[test_result_message(r) for r in batch.results],
        success_count=batch.success_count,
        failure_count=batch.failure_count,
        total_duration_ms=batch.total_duration_ms,
        started_at=timestamp(batch.started_at),
        finished_at=timestamp(batch.finished_at),
        expires_at=timestamp(batch.expires_at),
    )


def test_run_message(run: TestRun) -> pb.TestRun:
    message = pb.TestRun(
        test_id=run.test_id,
        connection_id=run.connection_id,
        batch_id=run.batch_id,
        state=run.state,
        log=run.log,
        started_at=timestamp(run.started_at),
    )
    if run.result is not None:
        message.result.CopyFrom(test_result_message(run.result))
    return message


def test_watch_message(item: StreamItem[TestRun]) -> pb.WatchConnectionTestsResponse:
    return stream_message(
        item,
        pb.WatchConnectionTestsResponse,
        render=test_run_message,
        items_field="runs",
        item_field="run",
    )


class ConnectionMessages:
    """The protobuf form of each connection view, built once per view and then reused.

    Views are immutable and replaced on every change, so a cached message is valid exactly as
    long as its view is the current one. Cached messages are never mutated: they are returned
    as they are or copied into responses.
    """

    LIMIT = 100_000

    def __init__(self) -> None:
        self._cache: dict[uuid.UUID, tuple[ConnectionView, pb.Connection]] = {}
        self._stream = SerializedStream(
            pb.WatchConnectionsResponse,
            render=self.of,
            items_field="connections",
            item_field="connection",
        )

    def of(self, view: ConnectionView) -> pb.Connection:
        cached = self._cache.get(view.id)
        if cached is not None and cached[0] is view:
            return cached[1]
        if len(self._cache) >= self.LIMIT:
            self._cache.clear()
        message = connection_message(view)
        self._cache[view.id] = (view, message)
        return message

    def watch_response(self, item: StreamItem[ConnectionView]) -> bytes:
        """A ``WatchConnectionsResponse``, serialised (shared by the subscribers that see the
        same change, or a snapshot of the same connections at the same revision)."""
        return self._stream(item)
