"""The one error mapping: domain errors to gRPC status with rich details.

Every error carries a ``google.rpc.ErrorInfo`` (stable reason, domain "cts") and, for bad
input, ``google.rpc.BadRequest`` field violations. A rate limit's refusal also carries a
``google.rpc.RetryInfo`` and a ``retry-after`` trailer in whole seconds (Envoy passes it on as
the HTTP ``Retry-After`` header of its 429). Unexpected exceptions become INTERNAL with
an opaque reference; their text (which may hold anything) only goes to the server log.
"""

from __future__ import annotations

import collections
import logging
import uuid

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.errors import DomainError, ErrorKind, InvalidArgument, RateLimited

log = logging.getLogger("cts.rpc")

ERROR_DOMAIN = "cts"

STATUS_OF_KIND: dict[ErrorKind, grpc.StatusCode] = {
    ErrorKind.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorKind.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorKind.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorKind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorKind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_of(error: DomainError) -> grpc.Status:
    """The gRPC status (code, message, details trailer) for a domain error."""
    code = STATUS_OF_KIND[error.kind]
    details = [
        _packed(
            error_details_pb2.ErrorInfo(
                reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
            )
        )
    ]
    if isinstance(error, InvalidArgument):
        details.append(
            _packed(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    trailers: tuple[tuple[str, str], ...] = ()
    if isinstance(error, RateLimited):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(max(1, round(error.retry_after * 1000)))
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
        trailers = (("retry-after", str(error.retry_seconds)),)
    status = status_pb2.Status(code=code.value[0], message=error.message, details=details)
    converted = rpc_status.to_status(status)
    return _Status(converted.code, converted.details, converted.trailing_metadata + trailers)


class _Status(
    collections.namedtuple("_Status", ("code", "details", "trailing_metadata")),
    grpc.Status,  # type: ignore[misc]
):
    pass


def internal_status() -> tuple[grpc.Status, str]:
    """An INTERNAL status that reveals nothing but a reference to find the log entry by."""
    reference = uuid.uuid4().hex[:12]
    status = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (reference {reference})",
        details=[_packed(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN))],
    )
    return rpc_status.to_status(status), reference
