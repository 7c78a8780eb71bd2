"""Where and what one delivery attempt posts, and what may be said about it in public.

A channel's destination is often the secret itself (a Slack or Discord webhook URL carries its
token in the path; a Telegram URL carries the bot token), so the only description of a
destination that ever reaches a log line or an outcome is :func:`public_destination`: the
channel's kind, and for a plain webhook its ``scheme://host:port``.
"""

from __future__ import annotations

from dataclasses import dataclass

from yarl import URL

from server.alerts.delivery import formats
from server.alerts.delivery.contract import AlertMessage, ChannelKind, ChannelTarget

SEGMENT_TOKEN_LENGTH = 8  # a path segment this long may be a token (Slack's ids are 9+)


class UndeliverableTarget(ValueError):
    """The channel cannot be posted to as configured (no retry helps); the message names what
    is missing and never holds a secret."""


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    url: str  # holds secrets for Slack, Discord and Telegram: never log or report it
    body: bytes
    headers: dict[str, str]


def _http_url(text: str) -> URL:
    try:
        url = URL(text)
    except (ValueError, TypeError):
        raise UndeliverableTarget("the channel's URL is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise UndeliverableTarget("the channel's URL must be an http(s) URL with a host")
    return url


def request_for(target: ChannelTarget, alert: AlertMessage) -> DeliveryRequest:
    """The POST that delivers ``alert`` to ``target`` (raises :class:`UndeliverableTarget`)."""
    url = _http_url(target.url)
    if target.kind is ChannelKind.WEBHOOK:
        body, headers = formats.webhook(alert, target.secret)
        return DeliveryRequest(target.url, body, headers)
    if target.kind is ChannelKind.SLACK:
        body, headers = formats.slack(alert)
        return DeliveryRequest(target.url, body, headers)
    if target.kind is ChannelKind.DISCORD:
        body, headers = formats.discord(alert)
        return DeliveryRequest(target.url, body, headers)
    if target.kind is ChannelKind.TELEGRAM:
        if not target.secret:
            raise UndeliverableTarget("the Telegram channel has no bot token")
        if not target.chat_id:
            raise UndeliverableTarget("the Telegram channel has no chat id")
        body, headers = formats.telegram(alert, target.chat_id)
        base = str(url).rstrip("/")
        return DeliveryRequest(f"{base}/bot{target.secret}/sendMessage", body, headers)
    raise UndeliverableTarget(f"unknown channel kind {target.kind!r}")


def public_destination(target: ChannelTarget) -> str:
    """What may be shown of a channel's destination: ``scheme://host:port`` for a webhook, the
    kind alone for the services whose URL is a secret."""
    if target.kind is not ChannelKind.WEBHOOK:
        return str(target.kind.value)
    try:
        url = URL(target.url)
    except (ValueError, TypeError):
        return "webhook (invalid URL)"
    if not url.scheme or not url.host:
        return "webhook (invalid URL)"
    return f"{url.scheme}://{url.host}:{url.port}"


def secret_parts(target: ChannelTarget) -> list[str]:
    """Strings that must be cut out of any text that came back from the receiver (an error
    page may echo the request): the secret, the whole URL, and for the services whose URL is
    a secret, every path segment and the query."""
    parts = [target.secret, target.url]
    try:
        url = URL(target.url)
    except (ValueError, TypeError):
        url = None
    if url is not None:
        parts += [url.path_qs, url.path, url.query_string, url.user or "", url.password or ""]
        # Words such as "hooks" or "services" stay readable; tokens are longer.
        parts += [segment for segment in url.parts if len(segment) >= SEGMENT_TOKEN_LENGTH]
    return sorted({p for p in parts if len(p) >= 4}, key=len, reverse=True)


def without_secrets(text: str, target: ChannelTarget) -> str:
    for part in secret_parts(target):
        text = text.replace(part, "****")
    return text
