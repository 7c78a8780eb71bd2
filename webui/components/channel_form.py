"""The add / edit dialog of an alert channel. Its secret (signing secret, bot token, or the
Slack or Discord webhook URL) is a password field, never prefilled: the server never returns it."""

from __future__ import annotations

from typing import Any

from cts.monitoring.v1 import alerts_pb2 as pb
from nicegui import ui

from webui.components.form_dialog import Submit, form_dialog, refusal_line

KINDS = {
    "webhook": "Webhook (signed JSON)",
    "slack": "Slack",
    "discord": "Discord",
    "telegram": "Telegram",
}
# The URL is itself the secret for these kinds.
SECRET_URL = {"slack", "discord"}
TELEGRAM_API = "https://api.telegram.org"


class ChannelForm:
    def __init__(self, original: pb.Channel | None) -> None:
        self.original = original
        kind = original.kind if original else "webhook"
        self.inputs: dict[str, Any] = {}
        self.inputs["name"] = ui.input("Name", value=original.name if original else "").mark(
            "channel-name"
        )
        self.inputs["kind"] = ui.select(KINDS, label="Kind", value=kind).mark("channel-kind")
        if original is not None:
            self.inputs["kind"].disable()  # a channel's kind cannot change
        self.inputs["url"] = ui.input("URL").mark("channel-url")
        self.inputs["secret"] = ui.input("Secret", password=True, password_toggle_button=True).mark(
            "channel-secret"
        )
        self.inputs["chat_id"] = ui.input(
            "Chat id", value=original.chat_id if original else ""
        ).mark("channel-chat-id")
        self.inputs["enabled"] = ui.switch(
            "Enabled", value=original.enabled if original else True
        ).mark("channel-enabled")
        self.refusal = refusal_line("channel-refusal")
        self.inputs["kind"].on_value_change(lambda e: self._explain(e.value))
        self._explain(kind)

    def _explain(self, kind: str) -> None:
        """Labels and hints that say what each field is for this kind."""
        url, secret, chat = self.inputs["url"], self.inputs["secret"], self.inputs["chat_id"]
        kept = (
            " (stored; leave empty to keep)" if self.original and self.original.has_secret else ""
        )
        if kind in SECRET_URL:
            url.props(f'label="{KINDS[kind]} webhook URL{kept}" type=password')
            url.value = ""
            secret.set_visibility(False)
        else:
            shown = self.original.url if self.original and self.original.kind == kind else ""
            if kind == "telegram":
                url.props('label="Bot API base URL" type=text')
                url.value = shown or TELEGRAM_API
                secret.props(f'label="Bot token{kept}"')
            else:
                url.props('label="Receiver URL" type=text')
                url.value = shown
                secret.props(f'label="Signing secret (HMAC-SHA256){kept}"')
            secret.set_visibility(True)
        chat.set_visibility(kind == "telegram")

    def changes(self) -> dict[str, Any]:
        """Every field on create; on edit the ones that differ, and secrets typed in."""
        kind = self.inputs["kind"].value
        values: dict[str, Any] = {
            "name": (self.inputs["name"].value or "").strip(),
            "enabled": bool(self.inputs["enabled"].value),
        }
        url = (self.inputs["url"].value or "").strip()
        if url:
            values["url"] = url
        if kind not in SECRET_URL:
            secret = (self.inputs["secret"].value or "").strip()
            if secret:
                values["secret"] = secret
        if kind == "telegram":
            values["chat_id"] = (self.inputs["chat_id"].value or "").strip()
        if self.original is None:
            return {"kind": kind, **values}
        return {
            name: value
            for name, value in values.items()
            if name == "secret"
            or (name == "url" and kind in SECRET_URL)
            or getattr(self.original, name) != value
        }


async def channel_dialog(original: pb.Channel | None, submit: Submit) -> None:
    """Show the dialog until saved or cancelled; it (and any typed secret) is deleted on close."""
    title = "Add alert channel" if original is None else f"Edit {original.name}"
    await form_dialog(
        title,
        "channel-dialog",
        "w-[28rem]",
        lambda: ChannelForm(original),
        submit,
        message="channel",
        buttons=("channel-cancel", "channel-save"),
    )
