"""AccessService: the caller's token and the audit trail, over :mod:`server.access`."""

from __future__ import annotations

import grpc
from cts.access.v1 import access_pb2 as pb
from cts.access.v1 import access_pb2_grpc

from server.access.audit import AuditEntry, AuditTrail, audit_filter
from server.errors import Unauthenticated
from server.rpc.boundary import current_principal
from server.rpc.messages import timestamp


def audit_entry_message(entry: AuditEntry) -> pb.AuditEntry:
    return pb.AuditEntry(
        id=entry.id,
        time=timestamp(entry.time),
        token_id=str(entry.token_id) if entry.token_id else "",
        token_name=entry.token_name,
        role=entry.role,
        client_address=entry.client_address,
        method=entry.method,
        target_id=entry.target_id,
        fields=entry.fields,
        outcome=entry.outcome,
    )


class AccessServicer(access_pb2_grpc.AccessServiceServicer):  # type: ignore[misc]
    def __init__(self, audit: AuditTrail) -> None:
        self._audit = audit

    async def GetCaller(
        self, request: pb.GetCallerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Caller:
        principal = current_principal.get()
        if principal is None:  # the boundary authenticates every call first
            raise Unauthenticated("no token", reason="TOKEN_MISSING")
        caller = pb.Caller(
            token_id=str(principal.token_id), token_name=principal.name, role=principal.role.word
        )
        if principal.expires_at is not None:
            caller.expires_at.CopyFrom(timestamp(principal.expires_at))
        return caller

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEntriesResponse:
        where = audit_filter(
            token_name=request.token_name,
            method=request.method,
            target_id=request.target_id,
            outcome=request.outcome,
            since=request.since,
            until=request.until,
        )
        page = await self._audit.page(where, request.page_size, request.page_token)
        return pb.ListAuditEntriesResponse(
            entries=[audit_entry_message(e) for e in page.entries],
            next_page_token=page.next_page_token,
        )
