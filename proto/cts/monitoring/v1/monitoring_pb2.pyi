import datetime

from cts.engine.v1 import engine_pb2 as _engine_pb2
from cts.stream.v1 import stream_pb2 as _stream_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogEntry(_message.Message):
    __slots__ = ("id", "time", "level", "category", "connection_id", "message", "stack", "context", "source")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    id: int
    time: _timestamp_pb2.Timestamp
    level: str
    category: str
    connection_id: str
    message: str
    stack: str
    context: _containers.ScalarMap[str, str]
    source: str
    def __init__(self, id: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[str] = ..., category: _Optional[str] = ..., connection_id: _Optional[str] = ..., message: _Optional[str] = ..., stack: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ..., source: _Optional[str] = ...) -> None: ...

class ListLogsRequest(_message.Message):
    __slots__ = ("connection_id", "level", "category", "since", "until", "text", "page_size", "page_token")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    level: str
    category: str
    since: str
    until: str
    text: str
    page_size: int
    page_token: str
    def __init__(self, connection_id: _Optional[str] = ..., level: _Optional[str] = ..., category: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., text: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLogsResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StreamLogsRequest(_message.Message):
    __slots__ = ("connection_id", "level", "category", "since", "until", "text", "tail", "resume_after_id")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    level: str
    category: str
    since: str
    until: str
    text: str
    tail: int
    resume_after_id: int
    def __init__(self, connection_id: _Optional[str] = ..., level: _Optional[str] = ..., category: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., text: _Optional[str] = ..., tail: _Optional[int] = ..., resume_after_id: _Optional[int] = ...) -> None: ...

class StreamLogsResponse(_message.Message):
    __slots__ = ("entries", "skipped", "heartbeat", "last_id")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    skipped: bool
    heartbeat: _stream_pb2.Heartbeat
    last_id: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., skipped: _Optional[bool] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ..., last_id: _Optional[int] = ...) -> None: ...

class WriteLogRequest(_message.Message):
    __slots__ = ("level", "category", "message", "connection_id", "context")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    level: str
    category: str
    message: str
    connection_id: str
    context: _containers.ScalarMap[str, str]
    def __init__(self, level: _Optional[str] = ..., category: _Optional[str] = ..., message: _Optional[str] = ..., connection_id: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StorageStatus(_message.Message):
    __slots__ = ("kind", "reachable", "latency_ms", "checked_at", "error")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    kind: str
    reachable: bool
    latency_ms: float
    checked_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, kind: _Optional[str] = ..., reachable: _Optional[bool] = ..., latency_ms: _Optional[float] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ExchangeUsage(_message.Message):
    __slots__ = ("exchange", "accounts", "busiest", "paused_accounts", "in_flight")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    BUSIEST_FIELD_NUMBER: _ClassVar[int]
    PAUSED_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    accounts: int
    busiest: float
    paused_accounts: int
    in_flight: int
    def __init__(self, exchange: _Optional[str] = ..., accounts: _Optional[int] = ..., busiest: _Optional[float] = ..., paused_accounts: _Optional[int] = ..., in_flight: _Optional[int] = ...) -> None: ...

class SystemStatus(_message.Message):
    __slots__ = ("version", "started_at", "uptime_seconds", "storage", "connections", "connections_by_exchange", "connections_by_api_type", "enabled", "active", "live_trading", "engines_by_state", "health_by_band", "rate_usage", "batch_tests_running", "stream_subscribers", "log_entries_last_hour", "computed_at")
    class ConnectionsByExchangeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ConnectionsByApiTypeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class EnginesByStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class HealthByBandEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class StreamSubscribersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class LogEntriesLastHourEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_BY_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_BY_API_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LIVE_TRADING_FIELD_NUMBER: _ClassVar[int]
    ENGINES_BY_STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_BY_BAND_FIELD_NUMBER: _ClassVar[int]
    RATE_USAGE_FIELD_NUMBER: _ClassVar[int]
    BATCH_TESTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    STREAM_SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    LOG_ENTRIES_LAST_HOUR_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    version: str
    started_at: _timestamp_pb2.Timestamp
    uptime_seconds: float
    storage: StorageStatus
    connections: int
    connections_by_exchange: _containers.ScalarMap[str, int]
    connections_by_api_type: _containers.ScalarMap[str, int]
    enabled: int
    active: int
    live_trading: int
    engines_by_state: _containers.ScalarMap[str, int]
    health_by_band: _containers.ScalarMap[str, int]
    rate_usage: _containers.RepeatedCompositeFieldContainer[ExchangeUsage]
    batch_tests_running: int
    stream_subscribers: _containers.ScalarMap[str, int]
    log_entries_last_hour: _containers.ScalarMap[str, int]
    computed_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime_seconds: _Optional[float] = ..., storage: _Optional[_Union[StorageStatus, _Mapping]] = ..., connections: _Optional[int] = ..., connections_by_exchange: _Optional[_Mapping[str, int]] = ..., connections_by_api_type: _Optional[_Mapping[str, int]] = ..., enabled: _Optional[int] = ..., active: _Optional[int] = ..., live_trading: _Optional[int] = ..., engines_by_state: _Optional[_Mapping[str, int]] = ..., health_by_band: _Optional[_Mapping[str, int]] = ..., rate_usage: _Optional[_Iterable[_Union[ExchangeUsage, _Mapping]]] = ..., batch_tests_running: _Optional[int] = ..., stream_subscribers: _Optional[_Mapping[str, int]] = ..., log_entries_last_hour: _Optional[_Mapping[str, int]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchSystemStatusResponse(_message.Message):
    __slots__ = ("status", "heartbeat")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    status: SystemStatus
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, status: _Optional[_Union[SystemStatus, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...

class ListConnectionStatusesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListConnectionStatusesResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[ConnectionStatus]
    def __init__(self, connections: _Optional[_Iterable[_Union[ConnectionStatus, _Mapping]]] = ...) -> None: ...

class GetConnectionStatusRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class ConnectionStatus(_message.Message):
    __slots__ = ("connection_id", "name", "exchange", "api_type", "state", "is_live_trade", "is_simulated", "health_status", "health_reasons", "engine_state", "engine_stage", "stage_done", "stage_total", "stale", "open_pseudo", "open_live", "last_error", "engine", "health_score", "health_band")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_TRADE_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REASONS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_STATE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_DONE_FIELD_NUMBER: _ClassVar[int]
    STAGE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    OPEN_PSEUDO_FIELD_NUMBER: _ClassVar[int]
    OPEN_LIVE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_SCORE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_BAND_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    name: str
    exchange: str
    api_type: str
    state: str
    is_live_trade: bool
    is_simulated: bool
    health_status: str
    health_reasons: _containers.RepeatedScalarFieldContainer[str]
    engine_state: str
    engine_stage: str
    stage_done: int
    stage_total: int
    stale: bool
    open_pseudo: int
    open_live: int
    last_error: str
    engine: _engine_pb2.EngineStatus
    health_score: int
    health_band: str
    def __init__(self, connection_id: _Optional[str] = ..., name: _Optional[str] = ..., exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., state: _Optional[str] = ..., is_live_trade: _Optional[bool] = ..., is_simulated: _Optional[bool] = ..., health_status: _Optional[str] = ..., health_reasons: _Optional[_Iterable[str]] = ..., engine_state: _Optional[str] = ..., engine_stage: _Optional[str] = ..., stage_done: _Optional[int] = ..., stage_total: _Optional[int] = ..., stale: _Optional[bool] = ..., open_pseudo: _Optional[int] = ..., open_live: _Optional[int] = ..., last_error: _Optional[str] = ..., engine: _Optional[_Union[_engine_pb2.EngineStatus, _Mapping]] = ..., health_score: _Optional[int] = ..., health_band: _Optional[str] = ...) -> None: ...

class GetComprehensiveReportRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExchangeInUse(_message.Message):
    __slots__ = ("exchange", "connection_ids", "circuit_state")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_STATE_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    circuit_state: str
    def __init__(self, exchange: _Optional[str] = ..., connection_ids: _Optional[_Iterable[str]] = ..., circuit_state: _Optional[str] = ...) -> None: ...

class ComprehensiveReport(_message.Message):
    __slots__ = ("system", "exchanges", "open_pseudo_positions", "open_live_positions", "closed_pseudo_positions", "closed_live_positions", "trades", "live_orders", "failed_orders", "recent_errors", "connections", "generated_at")
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    EXCHANGES_FIELD_NUMBER: _ClassVar[int]
    OPEN_PSEUDO_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_LIVE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_PSEUDO_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_LIVE_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    LIVE_ORDERS_FIELD_NUMBER: _ClassVar[int]
    FAILED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    RECENT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    system: SystemStatus
    exchanges: _containers.RepeatedCompositeFieldContainer[ExchangeInUse]
    open_pseudo_positions: int
    open_live_positions: int
    closed_pseudo_positions: int
    closed_live_positions: int
    trades: int
    live_orders: int
    failed_orders: int
    recent_errors: _containers.RepeatedCompositeFieldContainer[LogEntry]
    connections: _containers.RepeatedCompositeFieldContainer[ConnectionStatus]
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, system: _Optional[_Union[SystemStatus, _Mapping]] = ..., exchanges: _Optional[_Iterable[_Union[ExchangeInUse, _Mapping]]] = ..., open_pseudo_positions: _Optional[int] = ..., open_live_positions: _Optional[int] = ..., closed_pseudo_positions: _Optional[int] = ..., closed_live_positions: _Optional[int] = ..., trades: _Optional[int] = ..., live_orders: _Optional[int] = ..., failed_orders: _Optional[int] = ..., recent_errors: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., connections: _Optional[_Iterable[_Union[ConnectionStatus, _Mapping]]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VerifyStartupRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StartupCheck(_message.Message):
    __slots__ = ("name", "status", "detail", "duration_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: str
    detail: str
    duration_ms: int
    def __init__(self, name: _Optional[str] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class SkippedCheck(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class StartupReport(_message.Message):
    __slots__ = ("status", "checks", "skipped", "checked_at", "duration_ms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    status: str
    checks: _containers.RepeatedCompositeFieldContainer[StartupCheck]
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedCheck]
    checked_at: _timestamp_pb2.Timestamp
    duration_ms: int
    def __init__(self, status: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[StartupCheck, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SkippedCheck, _Mapping]]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class GetStructureMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProcessMetrics(_message.Message):
    __slots__ = ("cpu_percent", "cpu_seconds", "rss_bytes", "open_files", "threads")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    OPEN_FILES_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    cpu_seconds: float
    rss_bytes: float
    open_files: int
    threads: int
    def __init__(self, cpu_percent: _Optional[float] = ..., cpu_seconds: _Optional[float] = ..., rss_bytes: _Optional[float] = ..., open_files: _Optional[int] = ..., threads: _Optional[int] = ...) -> None: ...

class StorageMetrics(_message.Message):
    __slots__ = ("kind", "size_bytes", "rows")
    class RowsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    size_bytes: float
    rows: _containers.ScalarMap[str, int]
    def __init__(self, kind: _Optional[str] = ..., size_bytes: _Optional[float] = ..., rows: _Optional[_Mapping[str, int]] = ...) -> None: ...

class RpcMetrics(_message.Message):
    __slots__ = ("method", "count", "errors", "p50_ms", "p99_ms")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    method: str
    count: float
    errors: float
    p50_ms: float
    p99_ms: float
    def __init__(self, method: _Optional[str] = ..., count: _Optional[float] = ..., errors: _Optional[float] = ..., p50_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ...) -> None: ...

class ExchangeRequests(_message.Message):
    __slots__ = ("exchange", "outcome", "count")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    outcome: str
    count: float
    def __init__(self, exchange: _Optional[str] = ..., outcome: _Optional[str] = ..., count: _Optional[float] = ...) -> None: ...

class StructureMetrics(_message.Message):
    __slots__ = ("process", "event_loop_lag_p50_ms", "event_loop_lag_p99_ms", "storage", "rpcs", "exchange_requests", "stream_subscribers", "measured_at")
    class StreamSubscribersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    EVENT_LOOP_LAG_P50_MS_FIELD_NUMBER: _ClassVar[int]
    EVENT_LOOP_LAG_P99_MS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    RPCS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    STREAM_SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    MEASURED_AT_FIELD_NUMBER: _ClassVar[int]
    process: ProcessMetrics
    event_loop_lag_p50_ms: float
    event_loop_lag_p99_ms: float
    storage: StorageMetrics
    rpcs: _containers.RepeatedCompositeFieldContainer[RpcMetrics]
    exchange_requests: _containers.RepeatedCompositeFieldContainer[ExchangeRequests]
    stream_subscribers: _containers.ScalarMap[str, int]
    measured_at: _timestamp_pb2.Timestamp
    def __init__(self, process: _Optional[_Union[ProcessMetrics, _Mapping]] = ..., event_loop_lag_p50_ms: _Optional[float] = ..., event_loop_lag_p99_ms: _Optional[float] = ..., storage: _Optional[_Union[StorageMetrics, _Mapping]] = ..., rpcs: _Optional[_Iterable[_Union[RpcMetrics, _Mapping]]] = ..., exchange_requests: _Optional[_Iterable[_Union[ExchangeRequests, _Mapping]]] = ..., stream_subscribers: _Optional[_Mapping[str, int]] = ..., measured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
