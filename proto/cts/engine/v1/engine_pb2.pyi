import datetime

from cts.stream.v1 import stream_pb2 as _stream_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TestEngineRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class EngineStage(_message.Message):
    __slots__ = ("stage", "state", "done", "total", "duration_ms", "detail")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    stage: str
    state: str
    done: int
    total: int
    duration_ms: int
    detail: str
    def __init__(self, stage: _Optional[str] = ..., state: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., duration_ms: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class EngineTestResult(_message.Message):
    __slots__ = ("connection_id", "status", "stages", "symbols", "history_bars", "open_orders", "positions", "duration_ms", "tested_at", "error_reason", "error_message", "is_simulated")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_BARS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    TESTED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    status: str
    stages: _containers.RepeatedCompositeFieldContainer[EngineStage]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    history_bars: int
    open_orders: int
    positions: int
    duration_ms: int
    tested_at: _timestamp_pb2.Timestamp
    error_reason: str
    error_message: str
    is_simulated: bool
    def __init__(self, connection_id: _Optional[str] = ..., status: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[EngineStage, _Mapping]]] = ..., symbols: _Optional[_Iterable[str]] = ..., history_bars: _Optional[int] = ..., open_orders: _Optional[int] = ..., positions: _Optional[int] = ..., duration_ms: _Optional[int] = ..., tested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., is_simulated: _Optional[bool] = ...) -> None: ...

class EngineCommand(_message.Message):
    __slots__ = ("connection_id", "close_positions")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    close_positions: bool
    def __init__(self, connection_id: _Optional[str] = ..., close_positions: _Optional[bool] = ...) -> None: ...

class GetEngineStatusRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class ListEngineStatusesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEngineStatusesResponse(_message.Message):
    __slots__ = ("engines",)
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedCompositeFieldContainer[EngineStatus]
    def __init__(self, engines: _Optional[_Iterable[_Union[EngineStatus, _Mapping]]] = ...) -> None: ...

class WatchEnginesRequest(_message.Message):
    __slots__ = ("connection_id", "resume_revision", "max_batch")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    resume_revision: int
    max_batch: int
    def __init__(self, connection_id: _Optional[str] = ..., resume_revision: _Optional[int] = ..., max_batch: _Optional[int] = ...) -> None: ...

class EngineMetrics(_message.Message):
    __slots__ = ("cycles", "cycle_p50_ms", "cycle_p99_ms", "last_cycle_at", "symbols", "stale_cycles", "indication_cycles", "indication_p50_ms", "indication_p99_ms", "strategy_cycles", "strategy_p50_ms", "strategy_p99_ms")
    CYCLES_FIELD_NUMBER: _ClassVar[int]
    CYCLE_P50_MS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_P99_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_CYCLE_AT_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    STALE_CYCLES_FIELD_NUMBER: _ClassVar[int]
    INDICATION_CYCLES_FIELD_NUMBER: _ClassVar[int]
    INDICATION_P50_MS_FIELD_NUMBER: _ClassVar[int]
    INDICATION_P99_MS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_CYCLES_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    cycles: int
    cycle_p50_ms: float
    cycle_p99_ms: float
    last_cycle_at: _timestamp_pb2.Timestamp
    symbols: int
    stale_cycles: int
    indication_cycles: int
    indication_p50_ms: float
    indication_p99_ms: float
    strategy_cycles: int
    strategy_p50_ms: float
    strategy_p99_ms: float
    def __init__(self, cycles: _Optional[int] = ..., cycle_p50_ms: _Optional[float] = ..., cycle_p99_ms: _Optional[float] = ..., last_cycle_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., symbols: _Optional[int] = ..., stale_cycles: _Optional[int] = ..., indication_cycles: _Optional[int] = ..., indication_p50_ms: _Optional[float] = ..., indication_p99_ms: _Optional[float] = ..., strategy_cycles: _Optional[int] = ..., strategy_p50_ms: _Optional[float] = ..., strategy_p99_ms: _Optional[float] = ...) -> None: ...

class TradingMetrics(_message.Message):
    __slots__ = ("open_pseudo_positions", "closed_pseudo_positions", "open_live_positions", "closed_live_positions", "trades", "live_orders", "failed_orders", "skipped_by_limits", "realized_pnl", "unrealized_pnl", "live_unrealized_pnl", "live_trading", "optimal_sets", "last_live_error")
    OPEN_PSEUDO_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_PSEUDO_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_LIVE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_LIVE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    LIVE_ORDERS_FIELD_NUMBER: _ClassVar[int]
    FAILED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_BY_LIMITS_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    LIVE_UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    LIVE_TRADING_FIELD_NUMBER: _ClassVar[int]
    OPTIMAL_SETS_FIELD_NUMBER: _ClassVar[int]
    LAST_LIVE_ERROR_FIELD_NUMBER: _ClassVar[int]
    open_pseudo_positions: int
    closed_pseudo_positions: int
    open_live_positions: int
    closed_live_positions: int
    trades: int
    live_orders: int
    failed_orders: int
    skipped_by_limits: int
    realized_pnl: str
    unrealized_pnl: str
    live_unrealized_pnl: str
    live_trading: bool
    optimal_sets: _containers.RepeatedScalarFieldContainer[str]
    last_live_error: str
    def __init__(self, open_pseudo_positions: _Optional[int] = ..., closed_pseudo_positions: _Optional[int] = ..., open_live_positions: _Optional[int] = ..., closed_live_positions: _Optional[int] = ..., trades: _Optional[int] = ..., live_orders: _Optional[int] = ..., failed_orders: _Optional[int] = ..., skipped_by_limits: _Optional[int] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., live_unrealized_pnl: _Optional[str] = ..., live_trading: _Optional[bool] = ..., optimal_sets: _Optional[_Iterable[str]] = ..., last_live_error: _Optional[str] = ...) -> None: ...

class SymbolSignals(_message.Message):
    __slots__ = ("symbol", "direction", "direction_strength", "move", "move_strength", "active", "active_advanced", "optimal")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MOVE_FIELD_NUMBER: _ClassVar[int]
    MOVE_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ADVANCED_FIELD_NUMBER: _ClassVar[int]
    OPTIMAL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    direction: int
    direction_strength: float
    move: int
    move_strength: float
    active: bool
    active_advanced: bool
    optimal: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbol: _Optional[str] = ..., direction: _Optional[int] = ..., direction_strength: _Optional[float] = ..., move: _Optional[int] = ..., move_strength: _Optional[float] = ..., active: _Optional[bool] = ..., active_advanced: _Optional[bool] = ..., optimal: _Optional[_Iterable[str]] = ...) -> None: ...

class EngineStatus(_message.Message):
    __slots__ = ("connection_id", "state", "desired", "stage", "stages", "error", "attempts", "retry_at", "started_at", "updated_at", "symbols", "metrics", "trading", "signals", "stale", "stale_since", "prices_at")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRADING_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    PRICES_AT_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    state: str
    desired: str
    stage: str
    stages: _containers.RepeatedCompositeFieldContainer[EngineStage]
    error: str
    attempts: int
    retry_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    symbols: _containers.RepeatedScalarFieldContainer[str]
    metrics: EngineMetrics
    trading: TradingMetrics
    signals: _containers.RepeatedCompositeFieldContainer[SymbolSignals]
    stale: bool
    stale_since: _timestamp_pb2.Timestamp
    prices_at: _timestamp_pb2.Timestamp
    def __init__(self, connection_id: _Optional[str] = ..., state: _Optional[str] = ..., desired: _Optional[str] = ..., stage: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[EngineStage, _Mapping]]] = ..., error: _Optional[str] = ..., attempts: _Optional[int] = ..., retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., symbols: _Optional[_Iterable[str]] = ..., metrics: _Optional[_Union[EngineMetrics, _Mapping]] = ..., trading: _Optional[_Union[TradingMetrics, _Mapping]] = ..., signals: _Optional[_Iterable[_Union[SymbolSignals, _Mapping]]] = ..., stale: _Optional[bool] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., prices_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EngineStatusSnapshot(_message.Message):
    __slots__ = ("engines", "reason")
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedCompositeFieldContainer[EngineStatus]
    reason: _stream_pb2.SnapshotReason
    def __init__(self, engines: _Optional[_Iterable[_Union[EngineStatus, _Mapping]]] = ..., reason: _Optional[_Union[_stream_pb2.SnapshotReason, str]] = ...) -> None: ...

class EngineStatusChange(_message.Message):
    __slots__ = ("type", "engine")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    type: _stream_pb2.ChangeType
    engine: EngineStatus
    def __init__(self, type: _Optional[_Union[_stream_pb2.ChangeType, str]] = ..., engine: _Optional[_Union[EngineStatus, _Mapping]] = ...) -> None: ...

class EngineStatusBatch(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[WatchEnginesResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[WatchEnginesResponse, _Mapping]]] = ...) -> None: ...

class WatchEnginesResponse(_message.Message):
    __slots__ = ("revision", "event_time", "snapshot", "change", "heartbeat", "batch")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_time: _timestamp_pb2.Timestamp
    snapshot: EngineStatusSnapshot
    change: EngineStatusChange
    heartbeat: _stream_pb2.Heartbeat
    batch: EngineStatusBatch
    def __init__(self, revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[EngineStatusSnapshot, _Mapping]] = ..., change: _Optional[_Union[EngineStatusChange, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ..., batch: _Optional[_Union[EngineStatusBatch, _Mapping]] = ...) -> None: ...

class GetCoordinatorHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MarketFeedHealth(_message.Message):
    __slots__ = ("exchange", "api_type", "testnet", "simulated", "running", "subscribers", "symbols", "rounds", "failures", "overruns", "last_round_ms", "last_round_at", "last_error", "unknown_symbols", "consecutive_failures", "last_success_at")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    TESTNET_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    OVERRUNS_FIELD_NUMBER: _ClassVar[int]
    LAST_ROUND_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ROUND_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    testnet: bool
    simulated: bool
    running: bool
    subscribers: int
    symbols: int
    rounds: int
    failures: int
    overruns: int
    last_round_ms: float
    last_round_at: _timestamp_pb2.Timestamp
    last_error: str
    unknown_symbols: _containers.RepeatedScalarFieldContainer[str]
    consecutive_failures: int
    last_success_at: _timestamp_pb2.Timestamp
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., testnet: _Optional[bool] = ..., simulated: _Optional[bool] = ..., running: _Optional[bool] = ..., subscribers: _Optional[int] = ..., symbols: _Optional[int] = ..., rounds: _Optional[int] = ..., failures: _Optional[int] = ..., overruns: _Optional[int] = ..., last_round_ms: _Optional[float] = ..., last_round_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., unknown_symbols: _Optional[_Iterable[str]] = ..., consecutive_failures: _Optional[int] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CoordinatorHealth(_message.Message):
    __slots__ = ("enabled", "started_at", "engines", "engines_by_state", "engines_in_error", "reconciliations", "feeds")
    class EnginesByStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    ENGINES_BY_STATE_FIELD_NUMBER: _ClassVar[int]
    ENGINES_IN_ERROR_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATIONS_FIELD_NUMBER: _ClassVar[int]
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    started_at: _timestamp_pb2.Timestamp
    engines: int
    engines_by_state: _containers.ScalarMap[str, int]
    engines_in_error: int
    reconciliations: int
    feeds: _containers.RepeatedCompositeFieldContainer[MarketFeedHealth]
    def __init__(self, enabled: _Optional[bool] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., engines: _Optional[int] = ..., engines_by_state: _Optional[_Mapping[str, int]] = ..., engines_in_error: _Optional[int] = ..., reconciliations: _Optional[int] = ..., feeds: _Optional[_Iterable[_Union[MarketFeedHealth, _Mapping]]] = ...) -> None: ...

class GetEngineProgressionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EngineProgress(_message.Message):
    __slots__ = ("connection_id", "state", "metrics", "trading", "started_at")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRADING_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    state: str
    metrics: EngineMetrics
    trading: TradingMetrics
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, connection_id: _Optional[str] = ..., state: _Optional[str] = ..., metrics: _Optional[_Union[EngineMetrics, _Mapping]] = ..., trading: _Optional[_Union[TradingMetrics, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EngineProgression(_message.Message):
    __slots__ = ("engines", "cycles", "trades", "open_pseudo_positions", "open_live_positions", "realized_pnl", "unrealized_pnl")
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    CYCLES_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    OPEN_PSEUDO_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_LIVE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedCompositeFieldContainer[EngineProgress]
    cycles: int
    trades: int
    open_pseudo_positions: int
    open_live_positions: int
    realized_pnl: str
    unrealized_pnl: str
    def __init__(self, engines: _Optional[_Iterable[_Union[EngineProgress, _Mapping]]] = ..., cycles: _Optional[int] = ..., trades: _Optional[int] = ..., open_pseudo_positions: _Optional[int] = ..., open_live_positions: _Optional[int] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("id", "connection_id", "mode", "set_id", "symbol", "side", "status", "quantity", "average_price", "entry_price", "order_value", "best_price", "adds", "trailing_armed", "fees", "mark_price", "unrealized_pnl", "exit_price", "realized_pnl", "close_reason", "follows", "opened_at", "closed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    BEST_PRICE_FIELD_NUMBER: _ClassVar[int]
    ADDS_FIELD_NUMBER: _ClassVar[int]
    TRAILING_ARMED_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    EXIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    FOLLOWS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    connection_id: str
    mode: str
    set_id: str
    symbol: str
    side: str
    status: str
    quantity: str
    average_price: str
    entry_price: str
    order_value: str
    best_price: str
    adds: int
    trailing_armed: bool
    fees: str
    mark_price: str
    unrealized_pnl: str
    exit_price: str
    realized_pnl: str
    close_reason: str
    follows: str
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., connection_id: _Optional[str] = ..., mode: _Optional[str] = ..., set_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[str] = ..., status: _Optional[str] = ..., quantity: _Optional[str] = ..., average_price: _Optional[str] = ..., entry_price: _Optional[str] = ..., order_value: _Optional[str] = ..., best_price: _Optional[str] = ..., adds: _Optional[int] = ..., trailing_armed: _Optional[bool] = ..., fees: _Optional[str] = ..., mark_price: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., exit_price: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., close_reason: _Optional[str] = ..., follows: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClosePositionRequest(_message.Message):
    __slots__ = ("position_id", "confirm_live")
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_LIVE_FIELD_NUMBER: _ClassVar[int]
    position_id: str
    confirm_live: bool
    def __init__(self, position_id: _Optional[str] = ..., confirm_live: _Optional[bool] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("connection_id", "status", "mode", "page_size", "page_token")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    status: str
    mode: str
    page_size: int
    page_token: str
    def __init__(self, connection_id: _Optional[str] = ..., status: _Optional[str] = ..., mode: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchPositionsRequest(_message.Message):
    __slots__ = ("connection_id", "resume_revision", "max_batch")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    resume_revision: int
    max_batch: int
    def __init__(self, connection_id: _Optional[str] = ..., resume_revision: _Optional[int] = ..., max_batch: _Optional[int] = ...) -> None: ...

class PositionSnapshot(_message.Message):
    __slots__ = ("positions", "reason", "more")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    reason: _stream_pb2.SnapshotReason
    more: bool
    def __init__(self, positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., reason: _Optional[_Union[_stream_pb2.SnapshotReason, str]] = ..., more: _Optional[bool] = ...) -> None: ...

class PositionChange(_message.Message):
    __slots__ = ("type", "position")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    type: _stream_pb2.ChangeType
    position: Position
    def __init__(self, type: _Optional[_Union[_stream_pb2.ChangeType, str]] = ..., position: _Optional[_Union[Position, _Mapping]] = ...) -> None: ...

class PositionMark(_message.Message):
    __slots__ = ("position_id", "mark_price", "unrealized_pnl", "best_price", "trailing_armed")
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    BEST_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_ARMED_FIELD_NUMBER: _ClassVar[int]
    position_id: str
    mark_price: str
    unrealized_pnl: str
    best_price: str
    trailing_armed: bool
    def __init__(self, position_id: _Optional[str] = ..., mark_price: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., best_price: _Optional[str] = ..., trailing_armed: _Optional[bool] = ...) -> None: ...

class PositionMarks(_message.Message):
    __slots__ = ("connection_id", "marks")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MARKS_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    marks: _containers.RepeatedCompositeFieldContainer[PositionMark]
    def __init__(self, connection_id: _Optional[str] = ..., marks: _Optional[_Iterable[_Union[PositionMark, _Mapping]]] = ...) -> None: ...

class PositionBatch(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[WatchPositionsResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[WatchPositionsResponse, _Mapping]]] = ...) -> None: ...

class WatchPositionsResponse(_message.Message):
    __slots__ = ("revision", "event_time", "snapshot", "change", "heartbeat", "marks", "batch")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    MARKS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_time: _timestamp_pb2.Timestamp
    snapshot: PositionSnapshot
    change: PositionChange
    heartbeat: _stream_pb2.Heartbeat
    marks: PositionMarks
    batch: PositionBatch
    def __init__(self, revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[PositionSnapshot, _Mapping]] = ..., change: _Optional[_Union[PositionChange, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ..., marks: _Optional[_Union[PositionMarks, _Mapping]] = ..., batch: _Optional[_Union[PositionBatch, _Mapping]] = ...) -> None: ...
