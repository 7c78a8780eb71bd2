"""Reading rich error details off a failed gRPC call."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def details(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    """(ErrorInfo reason, {field: description} of BadRequest violations)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"
    reason, fields = "", {}
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "cts"
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = {v.field: v.description for v in bad.field_violations}
    return reason, fields
