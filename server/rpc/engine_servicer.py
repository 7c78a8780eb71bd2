"""EngineService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

import grpc
from cts.engine.v1 import engine_pb2 as pb
from cts.engine.v1 import engine_pb2_grpc

from server.engine.dry_run import DryRunResult, EngineDryRun
from server.errors import InvalidArgument
from server.rpc.messages import timestamp


def test_result_message(result: DryRunResult) -> pb.EngineTestResult:
    message = pb.EngineTestResult(
        connection_id=result.connection_id,
        status=result.status,
        stages=[
            pb.EngineStage(
                stage=s.stage.value,
                state=s.state.value,
                done=s.done,
                total=s.total,
                duration_ms=s.duration_ms,
                detail=s.detail,
            )
            for s in result.stages
        ],
        symbols=list(result.symbols),
        history_bars=result.history_bars,
        duration_ms=result.duration_ms,
        tested_at=timestamp(result.tested_at),
        error_reason=result.error_reason,
        error_message=result.error_message,
        is_simulated=result.simulated,
    )
    if result.open_orders is not None:
        message.open_orders = result.open_orders
    if result.positions is not None:
        message.positions = result.positions
    return message


class EngineServicer(engine_pb2_grpc.EngineServiceServicer):  # type: ignore[misc]
    def __init__(self, dry_run: EngineDryRun) -> None:
        self._dry_run = dry_run

    async def TestEngine(
        self, request: pb.TestEngineRequest, context: grpc.aio.ServicerContext
    ) -> pb.EngineTestResult:
        if not request.connection_id:
            raise InvalidArgument.field("connection_id", "required")
        return test_result_message(await self._dry_run.run(request.connection_id))
