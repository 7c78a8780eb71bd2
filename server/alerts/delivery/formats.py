"""How an alert looks on each channel: pure functions from an :class:`AlertMessage` to the body
and headers of one HTTP POST.

Every format keeps within the receiving service's documented limits, clipping the longest free
text (the alert's text) first and marking a cut with "…", so that an over-long alert is still
delivered rather than refused with a 400 (which is never retried).

Sources (checked when this was written):

- Webhook signature, as GitHub signs its webhooks: ``X-Hub-Signature-256: sha256=<hex
  HMAC-SHA256 of the raw body, keyed with the secret>``, compared in constant time by the
  receiver — docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries.
- Slack incoming webhooks take ``text`` (the notification fallback) and ``blocks``; in
  ``mrkdwn`` text only ``&``, ``<`` and ``>`` are escaped, as ``&amp;``, ``&lt;``, ``&gt;``, and
  nothing else is entity-encoded — api.slack.com/reference/surfaces/formatting#escaping. A
  section block's text holds at most 3000 characters; its ``fields`` at most 10 items of 2000
  — api.slack.com/reference/block-kit/blocks#section.
- Discord Execute Webhook: ``content`` up to 2000 characters, up to 10 ``embeds``; an embed's
  title 256, description 4096, up to 25 fields (name 256, value 1024), footer 2048, and 6000
  characters across all of them; ``allowed_mentions`` with an empty ``parse`` list keeps text
  such as "@everyone" from pinging anyone — discord.com/developers/docs/resources/webhook
  #execute-webhook and .../resources/message#embed-object-embed-limits.
- Telegram Bot API ``sendMessage``: ``chat_id``, ``text`` of 1 to 4096 characters after entities
  parsing, ``parse_mode`` "HTML" (where ``<``, ``>`` and ``&`` outside tags are written
  ``&lt;``, ``&gt;``, ``&amp;``), ``disable_web_page_preview`` — core.telegram.org/bots/api
  #sendmessage and #html-style. Telegram measures entity offsets in UTF-16 code units; the
  limit is measured the same way here, which is never more than 4096 characters either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from server.alerts.delivery.contract import AlertMessage, Severity

Headers = dict[str, str]
Formatted = tuple[bytes, Headers]

SIGNATURE_HEADER = "X-CTS-Signature-256"
EVENT_HEADER = "X-CTS-Event"
DELIVERY_HEADER = "X-CTS-Delivery"
USER_AGENT = "CTS-Alerts/1"
ELLIPSIS = "…"

SLACK_SECTION_TEXT = 3000
SLACK_FIELDS = 10
SLACK_FIELD_TEXT = 2000
DISCORD_CONTENT = 2000
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FOOTER = 2048
DISCORD_EMBED_TOTAL = 6000
TELEGRAM_TEXT = 4096

# Discord embed colours by severity (0xRRGGBB).
DISCORD_COLOURS = {
    Severity.INFO: 0x1F6FEB,
    Severity.WARNING: 0xD29922,
    Severity.CRITICAL: 0xCF222E,
}
SEVERITY_MARKS = {Severity.INFO: "ℹ️", Severity.WARNING: "⚠️", Severity.CRITICAL: "🚨"}


def utc_text(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, to the millisecond (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signature(body: bytes, secret: str) -> str:
    """The ``X-CTS-Signature-256`` value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def clip(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """``text`` if it fits in ``limit``, else its longest head that fits with "…" after it."""
    if measure(text) <= limit:
        return text
    if limit < measure(ELLIPSIS):
        return ""
    low, high = 0, len(text)  # the longest head that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle] + ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low] + ELLIPSIS


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _facts(alert: AlertMessage) -> list[tuple[str, str]]:
    """The connection (when there is one) and the details, as (label, value) pairs."""
    facts: list[tuple[str, str]] = []
    if alert.connection_id:
        facts.append(("Connection", alert.connection_name or alert.connection_id))
    facts.extend(alert.details)
    return facts


def webhook(alert: AlertMessage, secret: str = "") -> Formatted:
    """The generic webhook: CTS's own JSON, signed with ``secret`` when there is one."""
    connection = (
        {"id": alert.connection_id, "name": alert.connection_name} if alert.connection_id else None
    )
    body = _json(
        {
            "id": alert.id,
            "kind": alert.kind,
            "severity": alert.severity.value,
            "title": alert.title,
            "text": alert.text,
            "occurred_at": utc_text(alert.occurred_at),
            "connection": connection,
            "details": dict(alert.details),
        }
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: alert.kind,
        DELIVERY_HEADER: alert.id,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    return body, headers


def _json_headers() -> Headers:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT}


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities; nothing else is encoded."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_length(text: str) -> int:
    return len(slack_escape(text))


def slack(alert: AlertMessage) -> Formatted:
    """A Slack incoming-webhook message: a fallback ``text`` and mrkdwn blocks.

    Text is clipped before it is escaped (measured escaped), so no entity is ever cut in two.
    """
    mark = SEVERITY_MARKS[alert.severity]
    severity = alert.severity.value.upper()
    title = clip(alert.title, SLACK_SECTION_TEXT // 4, _slack_length)
    headline = f"{mark} *[{severity}] {slack_escape(title)}*"
    room = SLACK_SECTION_TEXT - len(headline) - 1
    section = headline
    if alert.text:
        section += "\n" + slack_escape(clip(alert.text, room, _slack_length))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": section}}
    ]
    facts = _facts(alert)
    if facts:
        fields = []
        for label, value in facts[:SLACK_FIELDS]:
            label = clip(label, SLACK_FIELD_TEXT // 4, _slack_length)
            name = f"*{slack_escape(label)}*\n"
            value = clip(value, SLACK_FIELD_TEXT - len(name), _slack_length)
            fields.append({"type": "mrkdwn", "text": name + slack_escape(value)})
        blocks.append({"type": "section", "fields": fields})
    context = f"{slack_escape(alert.kind)} · {utc_text(alert.occurred_at)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    fallback = f"[{severity}] {alert.title}" + (f": {alert.text}" if alert.text else "")
    fallback = slack_escape(clip(fallback, SLACK_SECTION_TEXT, _slack_length))
    return _json({"text": fallback, "blocks": blocks}), _json_headers()


def discord(alert: AlertMessage) -> Formatted:
    """A Discord webhook message: a short ``content`` line and one embed, within the limits."""
    severity = alert.severity.value.upper()
    title = clip(alert.title, DISCORD_TITLE)
    footer = clip(alert.kind, DISCORD_FOOTER)
    pairs = [
        (clip(label, DISCORD_FIELD_NAME) or "-", clip(value, DISCORD_FIELD_VALUE) or "-")
        for label, value in _facts(alert)[:DISCORD_FIELDS]
    ]
    used = len(title) + len(footer) + sum(len(name) + len(value) for name, value in pairs)
    while used > DISCORD_EMBED_TOTAL - 1 and pairs:  # leave the description at least "…"
        name, value = pairs.pop()
        used -= len(name) + len(value)
    fields = [{"name": name, "value": value, "inline": True} for name, value in pairs]
    description = clip(alert.text, min(DISCORD_DESCRIPTION, DISCORD_EMBED_TOTAL - used))
    embed: dict[str, Any] = {
        "title": title,
        "description": description,
        "color": DISCORD_COLOURS[alert.severity],
        "timestamp": utc_text(alert.occurred_at),
        "fields": fields,
        "footer": {"text": footer},
    }
    content = clip(f"{SEVERITY_MARKS[alert.severity]} **[{severity}]** {alert.title}", 2000)
    payload = {"content": content, "embeds": [embed], "allowed_mentions": {"parse": []}}
    return _json(payload), _json_headers()


def html_escape(text: str) -> str:
    """Telegram HTML: ``<``, ``>`` and ``&`` as entities (quotes only matter inside tags)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def telegram_text(alert: AlertMessage) -> str:
    """The message in Telegram's HTML, at most 4096 UTF-16 units once entities are parsed."""
    severity = alert.severity.value.upper()
    head = f"{SEVERITY_MARKS[alert.severity]} [{severity}] {alert.title}"
    facts = [f"{label}: {value}" for label, value in _facts(alert)]
    tail = [*facts, f"{alert.kind} · {utc_text(alert.occurred_at)}"]
    # What the reader sees (tags and entities parsed) is what Telegram counts.
    visible_tail = "\n" + "\n".join(tail)
    head = clip(head, TELEGRAM_TEXT // 4, utf16_length)
    room = TELEGRAM_TEXT - utf16_length(head) - utf16_length(visible_tail) - 1
    if room < 1:  # the facts themselves are too long: keep head and clipped text only
        text = clip(alert.text, TELEGRAM_TEXT - utf16_length(head) - 1, utf16_length)
        return f"<b>{html_escape(head)}</b>\n{html_escape(text)}"
    text = clip(alert.text, room, utf16_length)
    lines = [f"<b>{html_escape(head)}</b>", html_escape(text)]
    for label, value in _facts(alert):
        lines.append(f"<b>{html_escape(label)}</b>: {html_escape(value)}")
    lines.append(f"<i>{html_escape(alert.kind)} · {utc_text(alert.occurred_at)}</i>")
    return "\n".join(lines)


def telegram(alert: AlertMessage, chat_id: str) -> Formatted:
    """The JSON body of a Bot API ``sendMessage`` call to ``chat_id``."""
    payload = {
        "chat_id": chat_id,
        "text": telegram_text(alert),
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }
    return _json(payload), _json_headers()
