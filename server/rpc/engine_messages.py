"""Protobuf forms of the engine domain: statuses, stages, dry runs, the engine stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cts.engine.v1 import engine_pb2 as pb

from server.engine.coordinator import CoordinatorHealth
from server.engine.dry_run import DryRunResult
from server.engine.feed import FeedStats
from server.engine.loading import StageProgress
from server.engine.status import CycleMetrics, EngineStatus, TradingMetrics
from server.rpc.messages import capped32, decimal_text, stream_message, timestamp
from server.streams.watch import StreamItem


def stage_messages(stages: Sequence[StageProgress]) -> list[pb.EngineStage]:
    return [
        pb.EngineStage(
            stage=s.stage.value,
            state=s.state.value,
            done=s.done,
            total=s.total,
            duration_ms=s.duration_ms,
            detail=s.detail,
        )
        for s in stages
    ]


def metrics_message(metrics: CycleMetrics) -> pb.EngineMetrics:
    message = pb.EngineMetrics(
        cycles=capped32(metrics.cycles),
        cycle_p50_ms=metrics.p50_ms,
        cycle_p99_ms=metrics.p99_ms,
        symbols=metrics.symbols,
        stale_cycles=capped32(metrics.stale_cycles),
        indication_cycles=capped32(metrics.indication.cycles),
        indication_p50_ms=metrics.indication.p50_ms,
        indication_p99_ms=metrics.indication.p99_ms,
        strategy_cycles=capped32(metrics.strategy.cycles),
        strategy_p50_ms=metrics.strategy.p50_ms,
        strategy_p99_ms=metrics.strategy.p99_ms,
    )
    if metrics.last_cycle_at is not None:
        message.last_cycle_at.CopyFrom(timestamp(metrics.last_cycle_at))
    return message


def trading_message(trading: TradingMetrics) -> pb.TradingMetrics:
    return pb.TradingMetrics(
        open_pseudo_positions=trading.open_pseudo,
        closed_pseudo_positions=capped32(trading.closed_pseudo),
        open_live_positions=trading.open_live,
        closed_live_positions=capped32(trading.closed_live),
        trades=capped32(trading.trades),
        live_orders=capped32(trading.live_orders),
        failed_orders=capped32(trading.failed_orders),
        skipped_by_limits=capped32(trading.skipped_by_limits),
        realized_pnl=decimal_text(trading.realized_pnl),
        unrealized_pnl=decimal_text(trading.unrealized_pnl),
        live_unrealized_pnl=decimal_text(trading.live_unrealized_pnl),
        live_trading=trading.live_trading,
        optimal_sets=list(trading.optimal_sets),
        last_live_error=trading.last_live_error,
    )


def status_message(status: EngineStatus) -> pb.EngineStatus:
    message = pb.EngineStatus(
        connection_id=status.connection_id,
        state=status.state.value,
        desired=status.desired.value,
        stage=status.stage.value if status.stage else "",
        stages=stage_messages(status.stages),
        error=status.error,
        attempts=status.attempts,
        symbols=list(status.symbols),
        metrics=metrics_message(status.metrics),
        trading=trading_message(status.trading),
        signals=[
            pb.SymbolSignals(
                symbol=symbol,
                direction=s.direction,
                direction_strength=s.direction_strength,
                move=s.move,
                move_strength=s.move_strength,
                active=s.active,
                active_advanced=s.active_advanced,
                optimal=list(s.optimal),
            )
            for symbol, s in status.signals.items()
        ],
        stale=status.stale,
    )
    for name, value in (
        ("retry_at", status.retry_at),
        ("started_at", status.started_at),
        ("updated_at", status.updated_at),
        ("stale_since", status.stale_since),
        ("prices_at", status.prices_at),
    ):
        if value is not None:
            getattr(message, name).CopyFrom(timestamp(value))
    return message


def watch_message(item: StreamItem[EngineStatus]) -> pb.WatchEnginesResponse:
    return stream_message(
        item,
        pb.WatchEnginesResponse,
        render=status_message,
        items_field="engines",
        item_field="engine",
    )


def test_result_message(result: DryRunResult) -> pb.EngineTestResult:
    message = pb.EngineTestResult(
        connection_id=result.connection_id,
        status=result.status,
        stages=stage_messages(result.stages),
        symbols=list(result.symbols),
        history_bars=result.history_bars,
        duration_ms=result.duration_ms,
        tested_at=timestamp(result.tested_at),
        error_reason=result.error_reason,
        error_message=result.error_message,
        is_simulated=result.simulated,
    )
    if result.open_orders is not None:
        message.open_orders = result.open_orders
    if result.positions is not None:
        message.positions = result.positions
    return message


def coordinator_health_message(health: CoordinatorHealth) -> pb.CoordinatorHealth:
    message = pb.CoordinatorHealth(
        enabled=health.enabled,
        engines=health.engines,
        engines_by_state=health.by_state,
        engines_in_error=health.errors,
        reconciliations=capped32(health.reconciliations),
    )
    if health.started_at is not None:
        message.started_at.CopyFrom(timestamp(health.started_at))
    message.feeds.extend(feed_health_message(feed) for feed in health.feeds)
    return message


def feed_health_message(feed: FeedStats) -> pb.MarketFeedHealth:
    message = pb.MarketFeedHealth(
        exchange=feed.source.exchange,
        api_type=feed.source.api_type,
        testnet=feed.source.testnet,
        simulated=feed.source.simulated,
        running=feed.running,
        subscribers=feed.subscribers,
        symbols=feed.symbols,
        rounds=capped32(feed.rounds),
        failures=capped32(feed.failures),
        overruns=capped32(feed.overruns),
        last_round_ms=round(feed.last_round_seconds * 1000, 3),
        last_error=feed.last_error,
        unknown_symbols=sorted(feed.unknown_symbols),
        consecutive_failures=capped32(feed.consecutive_failures),
    )
    if feed.last_round_at is not None:
        message.last_round_at.CopyFrom(timestamp(datetime.fromtimestamp(feed.last_round_at, UTC)))
    if feed.last_success_at is not None:
        message.last_success_at.CopyFrom(
            timestamp(datetime.fromtimestamp(feed.last_success_at, UTC))
        )
    return message
