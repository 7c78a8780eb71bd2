"""Delivery channels as clients set them: what each kind needs, its secrets sealed at rest
(owner ``alert_channel:<id>:<field>``) and opened only to hand a target to the dispatcher."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from server.alerts.delivery.contract import ChannelKind, ChannelTarget
from server.alerts.model import ChannelRecord
from server.alerts.rules import checked_fields
from server.alerts.views import ChannelView, DeliveryView
from server.errors import FieldViolation, InvalidArgument
from server.vault.cipher import CredentialCipher

NAME_MAX = 100
URL_MAX = 2000
SECRET_MAX = 500
CHAT_ID_MAX = 100
TELEGRAM_API = "https://api.telegram.org"
# Kinds whose URL carries the credential (Slack and Discord incoming webhooks).
SECRET_URL = frozenset({ChannelKind.SLACK, ChannelKind.DISCORD})

CHANNEL_FIELDS = frozenset({"name", "kind", "url", "secret", "chat_id", "enabled"})
CHANNEL_OUTPUT_ONLY = frozenset({"id", "has_secret", "last_delivery", "created_at", "updated_at"})


def parse_channel_kind(value: str) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InvalidArgument.field(
            "kind", f"unknown channel kind '{shown}'; one of: webhook, slack, discord, telegram"
        ) from None


def _printable(field: str, value: str, limit: int, *, spaces: bool = False) -> str:
    if len(value) > limit:
        raise InvalidArgument.field(field, f"at most {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 or (ch.isspace() and not spaces) for ch in value):
        raise InvalidArgument.field(field, "must not contain control characters or whitespace")
    return value


def _url(value: str) -> str:
    _printable("url", value, URL_MAX)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL is not echoed: for Slack and Discord it is the secret.
        raise InvalidArgument.field("url", "must be an http or https URL with a host")
    return value


def channel_changes(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The client's fields checked one by one (``None``: not sent or reset)."""
    return checked_fields(
        values,
        lambda name, value: _field(name, value, creating=creating),
        ("name", "kind") if creating else (),
    )


def _field(name: str, value: Any, *, creating: bool) -> Any:
    if name == "kind":
        if not creating:
            raise InvalidArgument.field("kind", "cannot change; create a channel of the other kind")
        return parse_channel_kind(value) if value else None
    if name == "enabled":
        return None if value is None else bool(value)
    if value is None:
        return None
    if name == "name":
        text = _printable("name", value.strip(), NAME_MAX, spaces=True)
        if not text:
            raise InvalidArgument.field("name", "required")
        return text
    if name == "url":
        return _url(value.strip()) if value.strip() else ""
    if name == "secret":
        return _printable("secret", value, SECRET_MAX)
    if name == "chat_id":
        return _printable("chat_id", value.strip(), CHAT_ID_MAX)
    raise InvalidArgument.field(name, "unknown field")


def apply_channel(
    record: ChannelRecord, changes: Mapping[str, Any], cipher: CredentialCipher
) -> None:
    """Set ``changes`` on ``record``, sealing what is secret, then check the whole channel."""
    kind = ChannelKind(record.kind)
    owner = f"alert_channel:{record.id}"
    for name, value in changes.items():
        if name in ("kind",):
            continue
        if name == "name":
            record.name, record.name_key = value, value.casefold()
        elif name == "enabled":
            if value is not None:
                record.enabled = value
        elif name == "chat_id":
            record.chat_id = value or ""
        elif name == "secret":
            record.secret_sealed = cipher.seal(value, owner=f"{owner}:secret") if value else None
        elif name == "url":
            if kind in SECRET_URL:
                record.url_sealed = cipher.seal(value, owner=f"{owner}:url") if value else None
            else:
                record.url = value or ""
    _check_complete(record, kind)


def _check_complete(record: ChannelRecord, kind: ChannelKind) -> None:
    missing = []
    if kind is ChannelKind.WEBHOOK and not record.url:
        missing.append(FieldViolation("url", "required for a webhook channel"))
    if kind in SECRET_URL and record.url_sealed is None:
        missing.append(FieldViolation("url", f"required for a {kind.value} channel"))
    if kind is ChannelKind.TELEGRAM:
        if record.secret_sealed is None:
            missing.append(FieldViolation("secret", "required: the Telegram bot token"))
        if not record.chat_id:
            missing.append(FieldViolation("chat_id", "required for a telegram channel"))
    if kind in SECRET_URL and record.secret_sealed is not None:
        missing.append(
            FieldViolation("secret", f"a {kind.value} channel has no secret but its URL")
        )
    if missing:
        raise InvalidArgument(missing)


def channel_view(record: ChannelRecord) -> ChannelView:
    kind = ChannelKind(record.kind)
    last = None
    if record.last_state is not None:
        last = DeliveryView(
            str(record.id),
            record.name,
            record.last_state,
            record.last_attempts,
            record.last_status_code,
            record.last_error,
            record.last_at,
        )
    url = (
        ""
        if kind in SECRET_URL
        else record.url or (TELEGRAM_API if kind is ChannelKind.TELEGRAM else "")
    )
    return ChannelView(
        id=str(record.id),
        name=record.name,
        kind=kind,
        url=url,
        chat_id=record.chat_id,
        enabled=record.enabled,
        has_secret=record.secret_sealed is not None or record.url_sealed is not None,
        last_delivery=last,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def channel_target(record: ChannelRecord, cipher: CredentialCipher) -> ChannelTarget:
    """The channel with its secrets opened, for the dispatcher only."""
    kind = ChannelKind(record.kind)
    owner = f"alert_channel:{record.id}"
    secret = (
        cipher.open(record.secret_sealed, owner=f"{owner}:secret") if record.secret_sealed else ""
    )
    if kind in SECRET_URL:
        url = cipher.open(record.url_sealed, owner=f"{owner}:url") if record.url_sealed else ""
    else:
        url = record.url or (TELEGRAM_API if kind is ChannelKind.TELEGRAM else "")
    return ChannelTarget(str(record.id), record.name, kind, url, secret, record.chat_id)


def new_channel(kind: ChannelKind) -> ChannelRecord:
    return ChannelRecord(id=uuid.uuid4(), name="", name_key="", kind=kind.value)
