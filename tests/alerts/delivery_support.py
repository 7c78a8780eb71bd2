"""Real HTTP receivers for the alert delivery tests, and a collector of delivery outcomes.

A :class:`Receiver` is an aiohttp.web server on 127.0.0.1 that records every request (path,
headers, raw body) and answers from a script of responses; it can also hold a request open
until the test releases it, to play a channel that never answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.alerts.delivery.contract import (
    AlertMessage,
    ChannelKind,
    ChannelTarget,
    DeliveryOutcome,
    Severity,
)

WAIT = 10.0  # seconds any single awaited event may take before the test fails


@dataclass(frozen=True)
class Received:
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"
    hold: bool = False  # keep the request open until Receiver.release is set
    echo: bool = False  # add the request's path and query to the body, as error pages do


class Receiver:
    """One local HTTP server; answers follow ``script``, then ``default``."""

    def __init__(self, *answers: Answer, default: Answer | None = None) -> None:
        self.script = list(answers)
        self.default = default or Answer()
        self.requests: list[Received] = []
        self.arrived: asyncio.Queue[Received] = asyncio.Queue()
        self.holding = asyncio.Event()  # a held request is open
        self.release = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(
            request.path, request.query_string, dict(request.headers), await request.read()
        )
        self.requests.append(received)
        self.arrived.put_nowait(received)
        answer = self.script.pop(0) if self.script else self.default
        if answer.hold:
            self.holding.set()
            await self.release.wait()
        text = f"{answer.body} {request.path_qs}" if answer.echo else answer.body
        return web.Response(status=answer.status, headers=answer.headers, text=text)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def next(self) -> Received:
        return await asyncio.wait_for(self.arrived.get(), WAIT)


@asynccontextmanager
async def receiving(*answers: Answer, default: Answer | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(*answers, default=default)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


class Outcomes:
    """Every outcome the dispatcher reports, and a way to wait for the ones a test expects."""

    def __init__(self) -> None:
        self.all: list[DeliveryOutcome] = []
        self._changed = asyncio.Event()

    def __call__(self, outcome: DeliveryOutcome) -> None:
        self.all.append(outcome)
        self._changed.set()

    async def final(self, alert_id: str, channel_id: str = "") -> DeliveryOutcome:
        """The final outcome of ``alert_id`` (on ``channel_id`` when given), once reported."""

        async def wait() -> DeliveryOutcome:
            while True:
                for outcome in self.all:
                    if (
                        outcome.alert_id == alert_id
                        and outcome.final
                        and (not channel_id or outcome.channel_id == channel_id)
                    ):
                        return outcome
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), WAIT)

    def of(self, alert_id: str) -> list[DeliveryOutcome]:
        return [o for o in self.all if o.alert_id == alert_id]


class VirtualSleep:
    """The dispatcher's back-off waits, recorded instead of slept (virtual time)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def signature_of(body: bytes, secret: str) -> str:
    """What a receiver computes itself to check X-CTS-Signature-256 (GitHub's scheme)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alert(number: int = 1, **changes: Any) -> AlertMessage:
    values: dict[str, Any] = {
        "id": f"alert-{number}",
        "kind": "engine_error",
        "severity": Severity.CRITICAL,
        "title": "Engine stopped on Demo",
        "text": "The engine hit an error: <timeout> & gave up",
        "occurred_at": datetime(2026, 12, 6, 14, 5, 9, 250000, tzinfo=UTC),
        "connection_id": "c-1",
        "connection_name": "Demo",
        "details": (("realised_pnl", "-12.3400"), ("symbol", "BTC/USDT")),
    }
    values.update(changes)
    return AlertMessage(**values)


def webhook_target(url: str, secret: str = "", channel_id: str = "ch-1") -> ChannelTarget:
    return ChannelTarget(channel_id, f"Channel {channel_id}", ChannelKind.WEBHOOK, url, secret)
