import datetime

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
