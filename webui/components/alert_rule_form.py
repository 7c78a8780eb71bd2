"""The add / edit dialog of an alert rule: what it fires on, for which connection, how loud,
when it stays quiet, and which channels carry it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cts.monitoring.v1 import alerts_pb2 as pb
from nicegui import ui

from webui.components.form_dialog import Submit, form_dialog, refusal_line

# What each rule kind fires on, in the trader's words.
KINDS = {
    "engine_error": "Engine error",
    "engine_recovered": "Engine recovered",
    "circuit_open": "Circuit breaker opened",
    "circuit_closed": "Circuit breaker closed",
    "health_below": "Health band falls below",
    "connection_test_failed": "Connection test failed",
    "live_order_failed": "Live order failed",
    "live_order_unresolved": "Live order unresolved",
    "live_position_opened": "Live position opened",
    "live_position_closed": "Live position closed",
    "stop_loss_hit": "Stop-loss hit",
    "startup_check_failed": "Start-up check failed",
    "rate_limit_pause": "Rate-limit pause",
}
SEVERITIES = {
    "": "Default of the kind",
    "info": "Info",
    "warning": "Warning",
    "critical": "Critical",
}
BANDS = {"good": "good", "degraded": "degraded", "poor": "poor"}
ALL_CONNECTIONS = ""


class RuleForm:
    def __init__(
        self,
        original: pb.AlertRule | None,
        connections: Mapping[str, str],
        channels: Mapping[str, str],
    ) -> None:
        self.original = original
        self.inputs: dict[str, Any] = {}
        kind = original.kind if original else "engine_error"
        self.inputs["kind"] = ui.select(KINDS, label="Fires on", value=kind).mark("rule-kind")
        if original is not None:
            self.inputs["kind"].disable()  # a rule's kind cannot change
        scope = {ALL_CONNECTIONS: "Every connection", **connections}
        self.inputs["connection_id"] = ui.select(
            scope,
            label="Connection",
            value=original.connection_id if original and original.connection_id in scope else "",
        ).mark("rule-connection")
        self.inputs["health_band"] = ui.select(
            BANDS,
            label="Below band",
            value=(original.health_band if original else "") or "degraded",
        ).mark("rule-band")
        self.inputs["severity"] = ui.select(
            SEVERITIES, label="Severity", value=original.severity if original else ""
        ).mark("rule-severity")
        with ui.row().classes("w-full gap-2 no-wrap"):
            self.inputs["quiet_from"] = (
                ui.input("Quiet from (UTC, HH:MM)", value=original.quiet_from if original else "")
                .classes("grow")
                .mark("rule-quiet-from")
            )
            self.inputs["quiet_until"] = (
                ui.input("Quiet until (UTC, HH:MM)", value=original.quiet_until if original else "")
                .classes("grow")
                .mark("rule-quiet-until")
            )
        self.inputs["channel_ids"] = (
            ui.select(
                dict(channels),
                label="Channels (none: dashboard only)",
                multiple=True,
                value=[c for c in original.channel_ids if c in channels] if original else [],
            )
            .props("use-chips")
            .mark("rule-channels")
        )
        self.inputs["enabled"] = ui.switch(
            "Enabled", value=original.enabled if original else True
        ).mark("rule-enabled")
        self.refusal = refusal_line("rule-refusal")
        self.inputs["kind"].on_value_change(lambda e: self._show_band(e.value))
        self._show_band(kind)

    def _show_band(self, kind: str) -> None:
        self.inputs["health_band"].set_visibility(kind == "health_below")

    def changes(self) -> dict[str, Any]:
        kind = self.inputs["kind"].value
        values: dict[str, Any] = {
            "connection_id": self.inputs["connection_id"].value or "",
            "severity": self.inputs["severity"].value or "",
            "quiet_from": (self.inputs["quiet_from"].value or "").strip(),
            "quiet_until": (self.inputs["quiet_until"].value or "").strip(),
            "channel_ids": list(self.inputs["channel_ids"].value or []),
            "enabled": bool(self.inputs["enabled"].value),
        }
        if kind == "health_below":
            values["health_band"] = self.inputs["health_band"].value
        if self.original is None:
            return {"kind": kind, **{k: v for k, v in values.items() if v not in ("", [])}}
        return {
            name: value
            for name, value in values.items()
            if (
                list(getattr(self.original, name))
                if name == "channel_ids"
                else getattr(self.original, name)
            )
            != value
        }


async def rule_dialog(
    original: pb.AlertRule | None,
    connections: Mapping[str, str],
    channels: Mapping[str, str],
    submit: Submit,
) -> None:
    kind = KINDS.get(original.kind, original.kind) if original else ""
    await form_dialog(
        "Add alert rule" if original is None else f"Edit rule: {kind}",
        "rule-dialog",
        "w-[30rem]",
        lambda: RuleForm(original, connections, channels),
        submit,
        message="rule",
        buttons=("rule-cancel", "rule-save"),
    )
