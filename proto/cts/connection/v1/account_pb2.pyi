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

class AccountBalance(_message.Message):
    __slots__ = ("equity", "free", "used", "read_at", "error", "unvalued_assets")
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    READ_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    UNVALUED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    equity: str
    free: str
    used: str
    read_at: _timestamp_pb2.Timestamp
    error: str
    unvalued_assets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, equity: _Optional[str] = ..., free: _Optional[str] = ..., used: _Optional[str] = ..., read_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., unvalued_assets: _Optional[_Iterable[str]] = ...) -> None: ...

class PositionFigures(_message.Message):
    __slots__ = ("open_positions", "realized_pnl_today", "realized_pnl_total", "unrealized_pnl", "open_notional")
    OPEN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_TODAY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    OPEN_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    open_positions: int
    realized_pnl_today: str
    realized_pnl_total: str
    unrealized_pnl: str
    open_notional: str
    def __init__(self, open_positions: _Optional[int] = ..., realized_pnl_today: _Optional[str] = ..., realized_pnl_total: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., open_notional: _Optional[str] = ...) -> None: ...

class AccountSummary(_message.Message):
    __slots__ = ("connection_id", "quote_currency", "balance", "pseudo", "live", "updated_at")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    quote_currency: str
    balance: AccountBalance
    pseudo: PositionFigures
    live: PositionFigures
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, connection_id: _Optional[str] = ..., quote_currency: _Optional[str] = ..., balance: _Optional[_Union[AccountBalance, _Mapping]] = ..., pseudo: _Optional[_Union[PositionFigures, _Mapping]] = ..., live: _Optional[_Union[PositionFigures, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAccountSummariesRequest(_message.Message):
    __slots__ = ("connection_ids",)
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, connection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAccountSummariesResponse(_message.Message):
    __slots__ = ("summaries",)
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    summaries: _containers.RepeatedCompositeFieldContainer[AccountSummary]
    def __init__(self, summaries: _Optional[_Iterable[_Union[AccountSummary, _Mapping]]] = ...) -> None: ...

class WatchAccountSummariesRequest(_message.Message):
    __slots__ = ("resume_revision",)
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    resume_revision: int
    def __init__(self, resume_revision: _Optional[int] = ...) -> None: ...

class AccountSummarySnapshot(_message.Message):
    __slots__ = ("summaries", "reason")
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    summaries: _containers.RepeatedCompositeFieldContainer[AccountSummary]
    reason: _stream_pb2.SnapshotReason
    def __init__(self, summaries: _Optional[_Iterable[_Union[AccountSummary, _Mapping]]] = ..., reason: _Optional[_Union[_stream_pb2.SnapshotReason, str]] = ...) -> None: ...

class AccountSummaryChange(_message.Message):
    __slots__ = ("type", "summary")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    type: _stream_pb2.ChangeType
    summary: AccountSummary
    def __init__(self, type: _Optional[_Union[_stream_pb2.ChangeType, str]] = ..., summary: _Optional[_Union[AccountSummary, _Mapping]] = ...) -> None: ...

class WatchAccountSummariesResponse(_message.Message):
    __slots__ = ("revision", "event_time", "snapshot", "change", "heartbeat")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_time: _timestamp_pb2.Timestamp
    snapshot: AccountSummarySnapshot
    change: AccountSummaryChange
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[AccountSummarySnapshot, _Mapping]] = ..., change: _Optional[_Union[AccountSummaryChange, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...

class GetPnlHistoryRequest(_message.Message):
    __slots__ = ("connection_id", "since", "bucket_seconds")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    BUCKET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    since: _timestamp_pb2.Timestamp
    bucket_seconds: int
    def __init__(self, connection_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bucket_seconds: _Optional[int] = ...) -> None: ...

class PnlPoint(_message.Message):
    __slots__ = ("time", "pseudo", "live")
    TIME_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    pseudo: str
    live: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pseudo: _Optional[str] = ..., live: _Optional[str] = ...) -> None: ...

class PnlSeries(_message.Message):
    __slots__ = ("quote_currency", "points")
    QUOTE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    quote_currency: str
    points: _containers.RepeatedCompositeFieldContainer[PnlPoint]
    def __init__(self, quote_currency: _Optional[str] = ..., points: _Optional[_Iterable[_Union[PnlPoint, _Mapping]]] = ...) -> None: ...

class PnlHistory(_message.Message):
    __slots__ = ("bucket_seconds", "since", "series")
    BUCKET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    bucket_seconds: int
    since: _timestamp_pb2.Timestamp
    series: _containers.RepeatedCompositeFieldContainer[PnlSeries]
    def __init__(self, bucket_seconds: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., series: _Optional[_Iterable[_Union[PnlSeries, _Mapping]]] = ...) -> None: ...
