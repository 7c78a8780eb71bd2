"""AlertService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from cts.monitoring.v1 import alerts_pb2 as pb
from cts.monitoring.v1 import alerts_pb2_grpc
from google.protobuf import empty_pb2

from server.alerts.service import Alerts
from server.rpc.alert_messages import (
    alert_message,
    channel_input,
    channel_message,
    delivery_message,
    rule_input,
    rule_message,
    watch_alerts_message,
)
from server.rpc.boundary import current_principal


def _caller() -> str:
    """Who acknowledges: the name of the caller's token."""
    principal = current_principal.get()
    return principal.name if principal is not None else "unknown"


class AlertServicer(alerts_pb2_grpc.AlertServiceServicer):  # type: ignore[misc]
    def __init__(self, alerts: Alerts) -> None:
        self._alerts = alerts

    async def ListAlerts(
        self, request: pb.ListAlertsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAlertsResponse:
        page = await self._alerts.list_alerts(
            connection_id=request.connection_id,
            kind=request.kind,
            unacknowledged=request.unacknowledged,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListAlertsResponse(
            alerts=[alert_message(a) for a in page.alerts],
            next_page_token=page.next_page_token,
            unacknowledged_count=page.unacknowledged,
        )

    async def WatchAlerts(
        self, request: pb.WatchAlertsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchAlertsResponse]:
        async for item in self._alerts.watch(request.resume_revision):
            yield watch_alerts_message(item)

    async def AcknowledgeAlert(
        self, request: pb.AcknowledgeAlertRequest, context: grpc.aio.ServicerContext
    ) -> pb.Alert:
        return alert_message(await self._alerts.acknowledge(request.id, _caller()))

    async def AcknowledgeAlerts(
        self, request: pb.AcknowledgeAlertsRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcknowledgeAlertsResponse:
        count = await self._alerts.acknowledge_up_to(request.up_to_id, _caller())
        return pb.AcknowledgeAlertsResponse(acknowledged=count)

    async def ListAlertRules(
        self, request: pb.ListAlertRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAlertRulesResponse:
        return pb.ListAlertRulesResponse(
            rules=[rule_message(r) for r in await self._alerts.rules()]
        )

    async def GetAlertRule(
        self, request: pb.GetAlertRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.AlertRule:
        return rule_message(await self._alerts.rule(request.id))

    async def CreateAlertRule(
        self, request: pb.CreateAlertRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.AlertRule:
        return rule_message(await self._alerts.create_rule(rule_input(request.rule)))

    async def UpdateAlertRule(
        self, request: pb.UpdateAlertRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.AlertRule:
        values = rule_input(request.rule, list(request.update_mask.paths))
        return rule_message(await self._alerts.update_rule(request.id, values))

    async def DeleteAlertRule(
        self, request: pb.DeleteAlertRuleRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._alerts.delete_rule(request.id)
        return empty_pb2.Empty()

    async def ListChannels(
        self, request: pb.ListChannelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListChannelsResponse:
        return pb.ListChannelsResponse(
            channels=[channel_message(c) for c in await self._alerts.channels()]
        )

    async def GetChannel(
        self, request: pb.GetChannelRequest, context: grpc.aio.ServicerContext
    ) -> pb.Channel:
        return channel_message(await self._alerts.channel(request.id))

    async def CreateChannel(
        self, request: pb.CreateChannelRequest, context: grpc.aio.ServicerContext
    ) -> pb.Channel:
        return channel_message(await self._alerts.create_channel(channel_input(request.channel)))

    async def UpdateChannel(
        self, request: pb.UpdateChannelRequest, context: grpc.aio.ServicerContext
    ) -> pb.Channel:
        values = channel_input(request.channel, list(request.update_mask.paths))
        return channel_message(await self._alerts.update_channel(request.id, values))

    async def DeleteChannel(
        self, request: pb.DeleteChannelRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._alerts.delete_channel(request.id)
        return empty_pb2.Empty()

    async def TestChannel(
        self, request: pb.TestChannelRequest, context: grpc.aio.ServicerContext
    ) -> pb.ChannelDelivery:
        return delivery_message(await self._alerts.test_channel(request.id))
