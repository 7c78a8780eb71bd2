from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_TYPE_UNSPECIFIED: _ClassVar[ChangeType]
    CHANGE_TYPE_ADDED: _ClassVar[ChangeType]
    CHANGE_TYPE_MODIFIED: _ClassVar[ChangeType]
    CHANGE_TYPE_REMOVED: _ClassVar[ChangeType]

class SnapshotReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_REASON_UNSPECIFIED: _ClassVar[SnapshotReason]
    SNAPSHOT_REASON_INITIAL: _ClassVar[SnapshotReason]
    SNAPSHOT_REASON_RESUME_TOO_OLD: _ClassVar[SnapshotReason]
    SNAPSHOT_REASON_RESYNC: _ClassVar[SnapshotReason]
CHANGE_TYPE_UNSPECIFIED: ChangeType
CHANGE_TYPE_ADDED: ChangeType
CHANGE_TYPE_MODIFIED: ChangeType
CHANGE_TYPE_REMOVED: ChangeType
SNAPSHOT_REASON_UNSPECIFIED: SnapshotReason
SNAPSHOT_REASON_INITIAL: SnapshotReason
SNAPSHOT_REASON_RESUME_TOO_OLD: SnapshotReason
SNAPSHOT_REASON_RESYNC: SnapshotReason

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
