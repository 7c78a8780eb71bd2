"""Alerts from a real live-trading engine on the exchange simulator (its market feed stepped by
the test): live positions opened and closed with their PnL, a stop loss hit, a live order that
failed and one whose outcome stays unknown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from server.alerts.events import AlertSources
from server.alerts.service import Alerts
from server.alerts.views import AlertEntry, AlertView
from server.connections.testing import TestRun as ConnectionTestRun
from server.engine.positions import Mode, Status
from server.engine.store import PositionStore
from server.streams.topic import Change, Subscription, Topic
from tests.alerts.conftest import Clock, loaded_alerts
from tests.support.stepping import Bench, open_bench


@dataclass
class Live:
    bench: Bench
    alerts: Alerts
    subscription: Subscription[AlertEntry]

    async def raised(self, count: int, timeout: float = 20) -> list[AlertView]:
        """The first ``count`` alerts raised since the start (waits for them)."""
        seen: list[AlertView] = []
        async with asyncio.timeout(timeout):
            while len(seen) < count:
                item = await self.subscription.next()
                if isinstance(item, Change) and item.previous is None:
                    seen.append(item.current.alert)
        return seen


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[Live]:
    async for bench in open_bench(database_url):
        topic: Topic[AlertEntry] = Topic("alerts", history_size=100)
        alerts, _ = await loaded_alerts(bench.book, topic, Clock())
        subscription, _ = topic.subscribe()
        for rule in await alerts.rules():
            if rule.kind.value in ("live_position_opened", "live_position_closed"):
                await alerts.update_rule(rule.id, {"enabled": True})
        sources = AlertSources(alerts, lambda cid: "live one")
        sources.follow(
            engines=bench.engine_topic,
            connections=bench.book.topic,
            tests=Topic[ConnectionTestRun]("tests"),
            positions=bench.position_topic,
        )
        yield Live(bench, alerts, subscription)
        subscription.close()
        await sources.stop()
        await alerts.close()


async def test_live_positions_opened_and_closed_by_a_stop_loss_alert_with_their_pnl(
    live: Live,
) -> None:
    bench = live.bench
    _, engine, symbol = await bench.live_engine(
        ("trend/trailing",), ["trend/trailing"], volume_factor="5"
    )
    assert engine.desk is not None
    await bench.prices(symbol, ["102"])  # opens long at 102.051
    await engine.desk.drain()
    await bench.prices(symbol, ["100.4"])  # below the stop-loss level 100.52: closes
    await engine.desk.drain()
    opened, closed, stop = await live.raised(3)
    (position,) = await PositionStore(bench.book.db).find(
        connection_id=engine.connection_id, status=Status.CLOSED, mode=Mode.LIVE, limit=9
    )
    assert (opened.kind, closed.kind, stop.kind) == (
        "live_position_opened",
        "live_position_closed",
        "stop_loss_hit",
    )
    assert opened.details["symbol"] == symbol and opened.details["side"] == "long"
    assert Decimal(opened.details["quantity"]) == position.state.quantity
    assert position.realized_pnl is not None and position.realized_pnl < 0
    for alert in (closed, stop):
        assert Decimal(alert.details["realized_pnl"]) == position.realized_pnl
        assert alert.details["close_reason"] == "stop_loss"
        assert alert.details["position_id"] == str(position.id)
        assert alert.connection_id == engine.connection_id
    assert stop.severity.value == "warning"
    await engine.stop()


async def test_a_live_order_the_exchange_refuses_alerts_as_failed(live: Live) -> None:
    bench = live.bench
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",), ["trend/trailing"], volume_factor="5"
    )
    assert engine.desk is not None
    account.revoked = True  # the key stops working: the order is refused
    await bench.prices(symbol, ["102"])
    await engine.desk.drain()
    (failed,) = await live.raised(1)
    assert (failed.kind, failed.severity.value) == ("live_order_failed", "critical")
    assert failed.details["reason"] == engine.status.trading.last_live_error
    assert engine.status.trading.failed_orders == 1
    await engine.stop()


async def test_a_live_order_whose_outcome_stays_unknown_alerts_as_unresolved(live: Live) -> None:
    bench = live.bench
    account, engine, symbol = await bench.live_engine(
        ("trend/trailing",), ["trend/trailing"], volume_factor="5"
    )
    assert engine.desk is not None
    bench.sim.faults.set({"down": True}, api_key=account.api_key)  # every signed call: 5xx
    await bench.prices(symbol, ["102"])
    (unresolved,) = await live.raised(1)
    assert unresolved.kind == "live_order_unresolved"
    assert "outcome is unknown" in unresolved.text
    assert engine.status.trading.unresolved_orders == 1
    bench.sim.faults.clear()
    await engine.stop()
