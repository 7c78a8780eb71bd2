import datetime

from cts.stream.v1 import stream_pb2 as _stream_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Connection(_message.Message):
    __slots__ = ("id", "name", "exchange", "api_type", "connection_method", "authentication_type", "api_key", "api_secret", "api_passphrase", "api_key_hint", "has_credentials", "has_passphrase", "margin_type", "position_mode", "volume_factor", "leverage", "preset_type", "is_testnet", "is_enabled", "is_active", "is_live_trade", "is_predefined", "created_at", "updated_at", "is_simulated", "last_test_status", "last_test_balance", "last_test_log", "last_test_at", "api_capabilities", "health", "last_test_duration_ms", "max_position_notional", "max_total_notional")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    API_SECRET_FIELD_NUMBER: _ClassVar[int]
    API_PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    API_KEY_HINT_FIELD_NUMBER: _ClassVar[int]
    HAS_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    HAS_PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    POSITION_MODE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    PRESET_TYPE_FIELD_NUMBER: _ClassVar[int]
    IS_TESTNET_FIELD_NUMBER: _ClassVar[int]
    IS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_TRADE_FIELD_NUMBER: _ClassVar[int]
    IS_PREDEFINED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_BALANCE_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_LOG_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_AT_FIELD_NUMBER: _ClassVar[int]
    API_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_POSITION_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    exchange: str
    api_type: str
    connection_method: str
    authentication_type: str
    api_key: str
    api_secret: str
    api_passphrase: str
    api_key_hint: str
    has_credentials: bool
    has_passphrase: bool
    margin_type: str
    position_mode: str
    volume_factor: str
    leverage: int
    preset_type: str
    is_testnet: bool
    is_enabled: bool
    is_active: bool
    is_live_trade: bool
    is_predefined: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    is_simulated: bool
    last_test_status: str
    last_test_balance: str
    last_test_log: _containers.RepeatedScalarFieldContainer[str]
    last_test_at: _timestamp_pb2.Timestamp
    api_capabilities: ApiCapabilities
    health: ConnectionHealth
    last_test_duration_ms: int
    max_position_notional: str
    max_total_notional: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., connection_method: _Optional[str] = ..., authentication_type: _Optional[str] = ..., api_key: _Optional[str] = ..., api_secret: _Optional[str] = ..., api_passphrase: _Optional[str] = ..., api_key_hint: _Optional[str] = ..., has_credentials: _Optional[bool] = ..., has_passphrase: _Optional[bool] = ..., margin_type: _Optional[str] = ..., position_mode: _Optional[str] = ..., volume_factor: _Optional[str] = ..., leverage: _Optional[int] = ..., preset_type: _Optional[str] = ..., is_testnet: _Optional[bool] = ..., is_enabled: _Optional[bool] = ..., is_active: _Optional[bool] = ..., is_live_trade: _Optional[bool] = ..., is_predefined: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_simulated: _Optional[bool] = ..., last_test_status: _Optional[str] = ..., last_test_balance: _Optional[str] = ..., last_test_log: _Optional[_Iterable[str]] = ..., last_test_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., api_capabilities: _Optional[_Union[ApiCapabilities, _Mapping]] = ..., health: _Optional[_Union[ConnectionHealth, _Mapping]] = ..., last_test_duration_ms: _Optional[int] = ..., max_position_notional: _Optional[str] = ..., max_total_notional: _Optional[str] = ...) -> None: ...

class ApiCapabilities(_message.Message):
    __slots__ = ("read", "spot_trading", "derivatives_trading", "withdrawals")
    READ_FIELD_NUMBER: _ClassVar[int]
    SPOT_TRADING_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVES_TRADING_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    read: bool
    spot_trading: bool
    derivatives_trading: bool
    withdrawals: bool
    def __init__(self, read: _Optional[bool] = ..., spot_trading: _Optional[bool] = ..., derivatives_trading: _Optional[bool] = ..., withdrawals: _Optional[bool] = ...) -> None: ...

class RateLimitUsage(_message.Message):
    __slots__ = ("requests_last_second", "per_second_limit", "requests_last_minute", "per_minute_limit", "in_flight", "concurrent_limit", "paused_seconds")
    REQUESTS_LAST_SECOND_FIELD_NUMBER: _ClassVar[int]
    PER_SECOND_LIMIT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    PER_MINUTE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAUSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    requests_last_second: int
    per_second_limit: int
    requests_last_minute: int
    per_minute_limit: int
    in_flight: int
    concurrent_limit: int
    paused_seconds: float
    def __init__(self, requests_last_second: _Optional[int] = ..., per_second_limit: _Optional[int] = ..., requests_last_minute: _Optional[int] = ..., per_minute_limit: _Optional[int] = ..., in_flight: _Optional[int] = ..., concurrent_limit: _Optional[int] = ..., paused_seconds: _Optional[float] = ...) -> None: ...

class ConnectionHealth(_message.Message):
    __slots__ = ("connection_id", "status", "last_check_at", "last_check_result", "average_response_ms", "success_count", "error_count", "uptime_percent", "rate_limit", "circuit_state", "check_count", "last_error", "exchange_circuit_state", "stale_since", "reasons", "score")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_RESULT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RESPONSE_MS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_STATE_FIELD_NUMBER: _ClassVar[int]
    CHECK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_CIRCUIT_STATE_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    status: str
    last_check_at: _timestamp_pb2.Timestamp
    last_check_result: str
    average_response_ms: float
    success_count: int
    error_count: int
    uptime_percent: float
    rate_limit: RateLimitUsage
    circuit_state: str
    check_count: int
    last_error: str
    exchange_circuit_state: str
    stale_since: _timestamp_pb2.Timestamp
    reasons: _containers.RepeatedScalarFieldContainer[str]
    score: HealthScore
    def __init__(self, connection_id: _Optional[str] = ..., status: _Optional[str] = ..., last_check_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_check_result: _Optional[str] = ..., average_response_ms: _Optional[float] = ..., success_count: _Optional[int] = ..., error_count: _Optional[int] = ..., uptime_percent: _Optional[float] = ..., rate_limit: _Optional[_Union[RateLimitUsage, _Mapping]] = ..., circuit_state: _Optional[str] = ..., check_count: _Optional[int] = ..., last_error: _Optional[str] = ..., exchange_circuit_state: _Optional[str] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reasons: _Optional[_Iterable[str]] = ..., score: _Optional[_Union[HealthScore, _Mapping]] = ...) -> None: ...

class HealthScore(_message.Message):
    __slots__ = ("value", "band", "gate", "gate_reason", "components")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BAND_FIELD_NUMBER: _ClassVar[int]
    GATE_FIELD_NUMBER: _ClassVar[int]
    GATE_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    value: int
    band: str
    gate: float
    gate_reason: str
    components: _containers.RepeatedCompositeFieldContainer[ScoreComponent]
    def __init__(self, value: _Optional[int] = ..., band: _Optional[str] = ..., gate: _Optional[float] = ..., gate_reason: _Optional[str] = ..., components: _Optional[_Iterable[_Union[ScoreComponent, _Mapping]]] = ...) -> None: ...

class ScoreComponent(_message.Message):
    __slots__ = ("name", "value", "weight", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    weight: float
    reason: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., weight: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class TradingSettings(_message.Message):
    __slots__ = ("margin_type", "position_mode", "volume_factor", "leverage", "max_position_notional", "max_total_notional")
    MARGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    POSITION_MODE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    MAX_POSITION_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    margin_type: str
    position_mode: str
    volume_factor: str
    leverage: int
    max_position_notional: str
    max_total_notional: str
    def __init__(self, margin_type: _Optional[str] = ..., position_mode: _Optional[str] = ..., volume_factor: _Optional[str] = ..., leverage: _Optional[int] = ..., max_position_notional: _Optional[str] = ..., max_total_notional: _Optional[str] = ...) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("exchange", "api_type", "enabled", "active", "page_size", "page_token")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    enabled: bool
    active: bool
    page_size: int
    page_token: str
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., enabled: _Optional[bool] = ..., active: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "next_page_token", "total_size")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    next_page_token: str
    total_size: int
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class UpdateConnectionRequest(_message.Message):
    __slots__ = ("id", "connection", "update_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    connection: Connection
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[str] = ..., connection: _Optional[_Union[Connection, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ToggleConnectionRequest(_message.Message):
    __slots__ = ("id", "is_enabled")
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    id: str
    is_enabled: bool
    def __init__(self, id: _Optional[str] = ..., is_enabled: _Optional[bool] = ...) -> None: ...

class ActivateConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeactivateConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class SetLiveTradeRequest(_message.Message):
    __slots__ = ("id", "is_live_trade", "confirm")
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_TRADE_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    id: str
    is_live_trade: bool
    confirm: bool
    def __init__(self, id: _Optional[str] = ..., is_live_trade: _Optional[bool] = ..., confirm: _Optional[bool] = ...) -> None: ...

class GetTradingSettingsRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class UpdateTradingSettingsRequest(_message.Message):
    __slots__ = ("id", "settings", "update_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    settings: TradingSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[str] = ..., settings: _Optional[_Union[TradingSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class SetPresetTypeRequest(_message.Message):
    __slots__ = ("id", "preset_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRESET_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    preset_type: str
    def __init__(self, id: _Optional[str] = ..., preset_type: _Optional[str] = ...) -> None: ...

class TestConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class AssetBalance(_message.Message):
    __slots__ = ("asset", "free", "used", "total")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    asset: str
    free: str
    used: str
    total: str
    def __init__(self, asset: _Optional[str] = ..., free: _Optional[str] = ..., used: _Optional[str] = ..., total: _Optional[str] = ...) -> None: ...

class TestStep(_message.Message):
    __slots__ = ("name", "status", "duration_ms", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: str
    duration_ms: int
    message: str
    def __init__(self, name: _Optional[str] = ..., status: _Optional[str] = ..., duration_ms: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ConnectionTestResult(_message.Message):
    __slots__ = ("connection_id", "test_id", "status", "balance", "balances", "capabilities", "log", "steps", "duration_ms", "latency_ms", "clock_drift_ms", "tested_at", "error_reason", "error_message", "is_simulated")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    TEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CLOCK_DRIFT_MS_FIELD_NUMBER: _ClassVar[int]
    TESTED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    test_id: str
    status: str
    balance: str
    balances: _containers.RepeatedCompositeFieldContainer[AssetBalance]
    capabilities: ApiCapabilities
    log: _containers.RepeatedScalarFieldContainer[str]
    steps: _containers.RepeatedCompositeFieldContainer[TestStep]
    duration_ms: int
    latency_ms: int
    clock_drift_ms: int
    tested_at: _timestamp_pb2.Timestamp
    error_reason: str
    error_message: str
    is_simulated: bool
    def __init__(self, connection_id: _Optional[str] = ..., test_id: _Optional[str] = ..., status: _Optional[str] = ..., balance: _Optional[str] = ..., balances: _Optional[_Iterable[_Union[AssetBalance, _Mapping]]] = ..., capabilities: _Optional[_Union[ApiCapabilities, _Mapping]] = ..., log: _Optional[_Iterable[str]] = ..., steps: _Optional[_Iterable[_Union[TestStep, _Mapping]]] = ..., duration_ms: _Optional[int] = ..., latency_ms: _Optional[int] = ..., clock_drift_ms: _Optional[int] = ..., tested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., is_simulated: _Optional[bool] = ...) -> None: ...

class BatchTestConnectionsRequest(_message.Message):
    __slots__ = ("connection_ids",)
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, connection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchTestResult(_message.Message):
    __slots__ = ("batch_id", "results", "success_count", "failure_count", "total_duration_ms", "started_at", "finished_at", "expires_at")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    results: _containers.RepeatedCompositeFieldContainer[ConnectionTestResult]
    success_count: int
    failure_count: int
    total_duration_ms: int
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, batch_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[ConnectionTestResult, _Mapping]]] = ..., success_count: _Optional[int] = ..., failure_count: _Optional[int] = ..., total_duration_ms: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetBatchTestRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class WatchConnectionTestsRequest(_message.Message):
    __slots__ = ("connection_id", "batch_id", "resume_revision")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    batch_id: str
    resume_revision: int
    def __init__(self, connection_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., resume_revision: _Optional[int] = ...) -> None: ...

class TestRun(_message.Message):
    __slots__ = ("test_id", "connection_id", "batch_id", "state", "log", "result", "started_at")
    TEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    test_id: str
    connection_id: str
    batch_id: str
    state: str
    log: _containers.RepeatedScalarFieldContainer[str]
    result: ConnectionTestResult
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, test_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., state: _Optional[str] = ..., log: _Optional[_Iterable[str]] = ..., result: _Optional[_Union[ConnectionTestResult, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TestRunSnapshot(_message.Message):
    __slots__ = ("runs", "reason")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[TestRun]
    reason: _stream_pb2.SnapshotReason
    def __init__(self, runs: _Optional[_Iterable[_Union[TestRun, _Mapping]]] = ..., reason: _Optional[_Union[_stream_pb2.SnapshotReason, str]] = ...) -> None: ...

class TestRunChange(_message.Message):
    __slots__ = ("type", "run")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    type: _stream_pb2.ChangeType
    run: TestRun
    def __init__(self, type: _Optional[_Union[_stream_pb2.ChangeType, str]] = ..., run: _Optional[_Union[TestRun, _Mapping]] = ...) -> None: ...

class WatchConnectionTestsResponse(_message.Message):
    __slots__ = ("revision", "event_time", "snapshot", "change", "heartbeat")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_time: _timestamp_pb2.Timestamp
    snapshot: TestRunSnapshot
    change: TestRunChange
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[TestRunSnapshot, _Mapping]] = ..., change: _Optional[_Union[TestRunChange, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...

class GetConnectionHealthRequest(_message.Message):
    __slots__ = ("id", "exchange", "api_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    exchange: str
    api_type: str
    def __init__(self, id: _Optional[str] = ..., exchange: _Optional[str] = ..., api_type: _Optional[str] = ...) -> None: ...

class HealthSummary(_message.Message):
    __slots__ = ("total", "healthy", "degraded", "down", "unknown")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    DOWN_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    total: int
    healthy: int
    degraded: int
    down: int
    unknown: int
    def __init__(self, total: _Optional[int] = ..., healthy: _Optional[int] = ..., degraded: _Optional[int] = ..., down: _Optional[int] = ..., unknown: _Optional[int] = ...) -> None: ...

class GetConnectionHealthResponse(_message.Message):
    __slots__ = ("connections", "summary")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[ConnectionHealth]
    summary: HealthSummary
    def __init__(self, connections: _Optional[_Iterable[_Union[ConnectionHealth, _Mapping]]] = ..., summary: _Optional[_Union[HealthSummary, _Mapping]] = ...) -> None: ...

class WatchConnectionsRequest(_message.Message):
    __slots__ = ("exchange", "api_type", "enabled", "active", "resume_revision")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    enabled: bool
    active: bool
    resume_revision: int
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., enabled: _Optional[bool] = ..., active: _Optional[bool] = ..., resume_revision: _Optional[int] = ...) -> None: ...

class ConnectionSnapshot(_message.Message):
    __slots__ = ("connections", "reason")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    reason: _stream_pb2.SnapshotReason
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., reason: _Optional[_Union[_stream_pb2.SnapshotReason, str]] = ...) -> None: ...

class ConnectionChange(_message.Message):
    __slots__ = ("type", "connection")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    type: _stream_pb2.ChangeType
    connection: Connection
    def __init__(self, type: _Optional[_Union[_stream_pb2.ChangeType, str]] = ..., connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class WatchConnectionsResponse(_message.Message):
    __slots__ = ("revision", "event_time", "snapshot", "change", "heartbeat")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_time: _timestamp_pb2.Timestamp
    snapshot: ConnectionSnapshot
    change: ConnectionChange
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[ConnectionSnapshot, _Mapping]] = ..., change: _Optional[_Union[ConnectionChange, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...
