"""AccountService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

import grpc
from cts.connection.v1 import account_pb2 as pb
from cts.connection.v1 import account_pb2_grpc

from server.accounts.service import Accounts
from server.rpc.account_messages import (
    pnl_history_message,
    summary_message,
    watch_summaries_message,
)


class AccountServicer(account_pb2_grpc.AccountServiceServicer):  # type: ignore[misc]
    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def ListAccountSummaries(
        self, request: pb.ListAccountSummariesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAccountSummariesResponse:
        # REST sends `connectionIds` repeated or comma-separated.
        ids = [part.strip() for item in request.connection_ids for part in item.split(",")]
        summaries = self._accounts.summaries(ids)  # an empty one among them: INVALID_ARGUMENT
        return pb.ListAccountSummariesResponse(summaries=[summary_message(s) for s in summaries])

    async def WatchAccountSummaries(
        self, request: pb.WatchAccountSummariesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchAccountSummariesResponse]:
        async for item in self._accounts.watch(resume_revision=request.resume_revision):
            yield watch_summaries_message(item)

    async def GetPnlHistory(
        self, request: pb.GetPnlHistoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.PnlHistory:
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        history = await self._accounts.pnl_history(
            connection_id=request.connection_id,
            since=since,
            bucket_seconds=request.bucket_seconds,
        )
        return pnl_history_message(history)
