"""Each channel's message as a real local receiver gets it: the signed webhook JSON, Slack's
blocks, Discord's embed, Telegram's sendMessage — and every format within its service's
limits."""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator

import pytest

from server.alerts.delivery import formats
from server.alerts.delivery.contract import ChannelKind, ChannelTarget, Severity
from server.alerts.delivery.dispatcher import ChannelDispatcher
from tests.alerts.delivery_support import (
    Outcomes,
    Receiver,
    alert,
    receiving,
    signature_of,
    webhook_target,
)

SECRET = "whsec-9f1c2d3e4b5a6978"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as receiver:
        yield receiver


@pytest.fixture
async def dispatcher() -> AsyncIterator[tuple[ChannelDispatcher, Outcomes]]:
    outcomes = Outcomes()
    dispatcher = ChannelDispatcher(outcomes)
    yield dispatcher, outcomes
    await dispatcher.close()


async def test_webhook_is_signed_over_the_raw_body_and_carries_the_alert(
    receiver: Receiver, dispatcher: tuple[ChannelDispatcher, Outcomes]
) -> None:
    deliver, outcomes = dispatcher
    deliver.submit(webhook_target(receiver.url(), SECRET), alert())
    got = await receiver.next()

    # The receiver checks the signature the way a GitHub webhook receiver does.
    sent = got.headers["X-CTS-Signature-256"]
    assert hmac.compare_digest(sent, signature_of(got.body, SECRET))
    assert not hmac.compare_digest(sent, signature_of(got.body, SECRET + "x"))
    assert not hmac.compare_digest(sent, signature_of(got.body + b" ", SECRET))
    assert got.headers["X-CTS-Event"] == "engine_error"
    assert got.headers["X-CTS-Delivery"] == "alert-1"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "CTS-Alerts/1"
    assert got.json() == {
        "id": "alert-1",
        "kind": "engine_error",
        "severity": "critical",
        "title": "Engine stopped on Demo",
        "text": "The engine hit an error: <timeout> & gave up",
        "occurred_at": "2026-12-06T14:05:09.250Z",
        "connection": {"id": "c-1", "name": "Demo"},
        "details": {"realised_pnl": "-12.3400", "symbol": "BTC/USDT"},
    }
    outcome = await outcomes.final("alert-1")
    assert (outcome.delivered, outcome.attempt, outcome.status_code, outcome.error) == (
        True,
        1,
        200,
        "",
    )


async def test_webhook_without_a_secret_is_unsigned_and_without_a_connection_has_null(
    receiver: Receiver, dispatcher: tuple[ChannelDispatcher, Outcomes]
) -> None:
    deliver, outcomes = dispatcher
    deliver.submit(webhook_target(receiver.url()), alert(connection_id="", details=()))
    got = await receiver.next()
    assert "X-CTS-Signature-256" not in got.headers
    assert got.json()["connection"] is None
    assert got.json()["details"] == {}
    assert (await outcomes.final("alert-1")).delivered


async def test_slack_gets_escaped_mrkdwn_text_and_blocks(
    receiver: Receiver, dispatcher: tuple[ChannelDispatcher, Outcomes]
) -> None:
    deliver, outcomes = dispatcher
    target = ChannelTarget("s", "Slack", ChannelKind.SLACK, receiver.url("/services/T1/B2/tok3n"))
    deliver.submit(target, alert(title="PnL < 0 & falling"))
    got = await receiver.next()
    assert got.path == "/services/T1/B2/tok3n"
    body = got.json()
    assert body["text"] == (
        "[CRITICAL] PnL &lt; 0 &amp; falling: "
        "The engine hit an error: &lt;timeout&gt; &amp; gave up"
    )
    section, facts, context = body["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"] == (
        "🚨 *[CRITICAL] PnL &lt; 0 &amp; falling*\n"
        "The engine hit an error: &lt;timeout&gt; &amp; gave up"
    )
    assert [f["text"] for f in facts["fields"]] == [
        "*Connection*\nDemo",
        "*realised_pnl*\n-12.3400",
        "*symbol*\nBTC/USDT",
    ]
    assert context["elements"][0]["text"] == "engine_error · 2026-12-06T14:05:09.250Z"
    assert "X-CTS-Signature-256" not in got.headers
    assert (await outcomes.final("alert-1")).delivered


async def test_discord_gets_content_and_one_embed(
    receiver: Receiver, dispatcher: tuple[ChannelDispatcher, Outcomes]
) -> None:
    deliver, outcomes = dispatcher
    target = ChannelTarget("d", "Discord", ChannelKind.DISCORD, receiver.url("/api/webhooks/1/x"))
    deliver.submit(target, alert(severity=Severity.WARNING, text="@everyone look"))
    body = (await receiver.next()).json()
    assert body["content"] == "⚠️ **[WARNING]** Engine stopped on Demo"
    assert body["allowed_mentions"] == {"parse": []}  # "@everyone" in a text pings nobody
    (embed,) = body["embeds"]
    assert embed["title"] == "Engine stopped on Demo"
    assert embed["description"] == "@everyone look"
    assert embed["color"] == 0xD29922
    assert embed["timestamp"] == "2026-12-06T14:05:09.250Z"
    assert embed["fields"] == [
        {"name": "Connection", "value": "Demo", "inline": True},
        {"name": "realised_pnl", "value": "-12.3400", "inline": True},
        {"name": "symbol", "value": "BTC/USDT", "inline": True},
    ]
    assert embed["footer"] == {"text": "engine_error"}
    assert (await outcomes.final("alert-1")).delivered


async def test_telegram_posts_send_message_with_escaped_html(
    receiver: Receiver, dispatcher: tuple[ChannelDispatcher, Outcomes]
) -> None:
    deliver, outcomes = dispatcher
    token = "123456:AAE-bot-token"
    target = ChannelTarget(
        "t", "Telegram", ChannelKind.TELEGRAM, receiver.url("/"), token, chat_id="-1001"
    )
    deliver.submit(target, alert())
    got = await receiver.next()
    assert got.path == f"/bot{token}/sendMessage"
    body = got.json()
    assert body == {
        "chat_id": "-1001",
        "text": "<b>🚨 [CRITICAL] Engine stopped on Demo</b>\n"
        "The engine hit an error: &lt;timeout&gt; &amp; gave up\n"
        "<b>Connection</b>: Demo\n"
        "<b>realised_pnl</b>: -12.3400\n"
        "<b>symbol</b>: BTC/USDT\n"
        "<i>engine_error · 2026-12-06T14:05:09.250Z</i>",
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }
    assert (await outcomes.final("alert-1")).delivered


async def test_telegram_without_a_chat_is_a_final_failure_naming_it(
    dispatcher: tuple[ChannelDispatcher, Outcomes],
) -> None:
    deliver, outcomes = dispatcher
    target = ChannelTarget("t", "T", ChannelKind.TELEGRAM, "http://127.0.0.1:9", "tok:en12")
    deliver.submit(target, alert())
    outcome = await outcomes.final("alert-1")
    assert (outcome.delivered, outcome.attempt, outcome.error) == (
        False,
        1,
        "the Telegram channel has no chat id",
    )


def _visible(telegram_html: str) -> str:
    """The text as Telegram shows it: tags dropped, entities decoded."""
    import html
    import re

    return html.unescape(re.sub(r"</?[bi]>", "", telegram_html))


def test_long_alerts_stay_within_every_service_limit() -> None:
    huge = alert(
        title="T" * 400,
        text="<&>" * 3000 + "😀" * 3000,
        details=tuple((f"key{i}" * 60, "v" * 1500) for i in range(40)),
    )
    body, _ = formats.slack(huge)
    slack = json.loads(body)
    section, facts, _context = slack["blocks"]
    assert len(section["text"]["text"]) <= 3000
    assert len(facts["fields"]) == 10
    assert all(len(f["text"]) <= 2000 for f in facts["fields"])
    assert len(slack["text"]) <= 3000
    # A clip never cuts an entity in two.
    assert section["text"]["text"].endswith(("&lt;…", "&amp;…", "&gt;…", "😀…"))

    body, _ = formats.discord(huge)
    discord = json.loads(body)
    (embed,) = discord["embeds"]
    assert len(discord["content"]) <= 2000
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    assert len(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed["fields"])
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000

    body, _ = formats.telegram(huge, "42")
    text = json.loads(body)["text"]
    assert len(_visible(text).encode("utf-16-le")) // 2 <= 4096
    assert "&lt;&amp;&gt;" in text and "<&>" not in text

    # Short alerts are not clipped at all.
    plain = json.loads(formats.telegram(alert(), "42")[0])["text"]
    assert "…" not in plain


def test_signature_matches_github_scheme() -> None:
    body, headers = formats.webhook(alert(), "It's a Secret to Everybody")
    expected = signature_of(body, "It's a Secret to Everybody")
    assert headers["X-CTS-Signature-256"] == expected
    # GitHub's documented example pair (docs: validating webhook deliveries).
    assert formats.signature(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
