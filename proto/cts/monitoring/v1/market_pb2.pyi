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

class Price(_message.Message):
    __slots__ = ("exchange", "api_type", "is_simulated", "testnet", "symbol", "last", "bid", "ask", "change_percent", "quote_volume", "price_time", "fetch_time")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    TESTNET_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    PRICE_TIME_FIELD_NUMBER: _ClassVar[int]
    FETCH_TIME_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    is_simulated: bool
    testnet: bool
    symbol: str
    last: str
    bid: str
    ask: str
    change_percent: str
    quote_volume: str
    price_time: _timestamp_pb2.Timestamp
    fetch_time: _timestamp_pb2.Timestamp
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., is_simulated: _Optional[bool] = ..., testnet: _Optional[bool] = ..., symbol: _Optional[str] = ..., last: _Optional[str] = ..., bid: _Optional[str] = ..., ask: _Optional[str] = ..., change_percent: _Optional[str] = ..., quote_volume: _Optional[str] = ..., price_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fetch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPricesRequest(_message.Message):
    __slots__ = ("exchange", "api_type", "symbols", "is_simulated", "testnet")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    TESTNET_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    is_simulated: bool
    testnet: bool
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., is_simulated: _Optional[bool] = ..., testnet: _Optional[bool] = ...) -> None: ...

class ListPricesResponse(_message.Message):
    __slots__ = ("prices", "unpriced_symbols", "feeds")
    PRICES_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    unpriced_symbols: _containers.RepeatedScalarFieldContainer[str]
    feeds: _containers.RepeatedCompositeFieldContainer[_engine_pb2.MarketFeedHealth]
    def __init__(self, prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ..., unpriced_symbols: _Optional[_Iterable[str]] = ..., feeds: _Optional[_Iterable[_Union[_engine_pb2.MarketFeedHealth, _Mapping]]] = ...) -> None: ...

class WatchPricesRequest(_message.Message):
    __slots__ = ("exchange", "api_type", "is_simulated", "testnet", "symbols")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    TESTNET_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    api_type: str
    is_simulated: bool
    testnet: bool
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, exchange: _Optional[str] = ..., api_type: _Optional[str] = ..., is_simulated: _Optional[bool] = ..., testnet: _Optional[bool] = ..., symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class PriceRound(_message.Message):
    __slots__ = ("round", "prices", "error", "unknown_symbols")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    round: int
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    error: str
    unknown_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, round: _Optional[int] = ..., prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ..., error: _Optional[str] = ..., unknown_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchPricesResponse(_message.Message):
    __slots__ = ("event_time", "snapshot", "changes", "heartbeat")
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event_time: _timestamp_pb2.Timestamp
    snapshot: PriceRound
    changes: PriceRound
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[PriceRound, _Mapping]] = ..., changes: _Optional[_Union[PriceRound, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...
