"""The header's alert bell: the unacknowledged count, the newest alerts in a menu with
Acknowledge, and a toast for every alert raised while a page is open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cts.monitoring.v1 import alerts_pb2 as pb
from nicegui import ui

from webui import theme
from webui.alert_feed import AlertFeed, AlertUpdate
from webui.backend import BackendError
from webui.components.accessible import named
from webui.components.status import moment

SHOWN = 10
TOAST_TYPE = {"critical": "negative", "warning": "warning", "info": "info"}
# The tone of an alert's title, by severity.
SEVERITY_TONES = {"critical": "negative", "warning": "caution", "info": "info"}

Acknowledge = Callable[[str], Awaitable[None]]


def raised_at(alert: pb.Alert) -> str:
    """The alert's time in UTC, labelled."""
    return moment(alert.raised_at)


def about(alert: pb.Alert) -> str:
    """The alert's subject: its connection, or the server."""
    return alert.connection_name or (
        "the server" if not alert.connection_id else alert.connection_id
    )


class AlertBell:
    """Bound to the token's :class:`AlertFeed`; ``acknowledge`` is None for a viewer."""

    def __init__(
        self,
        feed: AlertFeed,
        acknowledge: Acknowledge | None,
        acknowledge_all: Callable[[], Awaitable[int]] | None,
    ) -> None:
        self._feed = feed
        self._acknowledge = acknowledge
        self._acknowledge_all = acknowledge_all
        with (
            ui.button(icon="notifications")
            .props("flat round color=white")
            .mark("alert-bell") as self.button
        ):
            self.count = ui.badge("", color="red-9").props("floating").mark("alert-count")
            with ui.menu().classes("w-[22rem] max-w-[95vw]").mark("alert-menu") as self.menu:
                self.items = ui.column().classes("w-full gap-1 p-2")
        self._show_count()
        self._fill()
        feed.updated.subscribe(self._changed)
        feed.raised.subscribe(self._toast)

    def _show_count(self) -> None:
        n = self._feed.unacknowledged
        self.count.set_text(str(n) if n < 100 else "99+")
        self.count.set_visibility(n > 0)
        label = f"Alerts: {n} unacknowledged" if n else "Alerts: none unacknowledged"
        named(self.button, label)

    def _changed(self, _update: AlertUpdate) -> None:
        # The menu's few items are kept current (also while it is closed): it opens at once.
        self._show_count()
        self._fill()

    def _toast(self, alert: pb.Alert) -> None:
        ui.notify(
            alert.title,
            caption=f"{about(alert)} · {raised_at(alert)}",
            type=TOAST_TYPE.get(alert.severity, "info"),
            position="top-right",
            close_button="Dismiss",
            timeout=8000,
        )

    def _fill(self) -> None:
        self.items.clear()
        alerts = self._feed.newest_first()[:SHOWN]
        with self.items:
            with ui.row().classes("w-full items-center"):
                ui.label("Alerts").classes("font-semibold")
                ui.space()
                if self._acknowledge_all is not None and self._feed.unacknowledged:
                    ui.button("Acknowledge all", on_click=self._all).props(
                        "flat dense no-caps"
                    ).mark("alert-ack-all")
            if not alerts:
                ui.label("No alerts").classes("text-neutral").mark("alert-none")
            for alert in alerts:
                self._item(alert)
            ui.link("All alerts, rules and channels", "/alerts").mark("alert-page-link")

    def _item(self, alert: pb.Alert) -> None:
        with ui.row().classes("w-full items-start no-wrap gap-2").mark(f"alert-{alert.id}"):
            with ui.column().classes("gap-0 grow"):
                ui.label(alert.title).classes(
                    f"text-sm font-medium {theme.text(theme.tone(SEVERITY_TONES, alert.severity))}"
                )
                ui.label(f"{about(alert)} · {raised_at(alert)}").classes("text-xs text-neutral")
            if alert.acknowledged:
                named(
                    ui.icon("done", size="xs").classes("text-neutral"),
                    f"Acknowledged by {alert.acknowledged_by or 'a user'}",
                )
            elif self._acknowledge is not None:
                named(
                    ui.button(icon="done", on_click=lambda a=alert: self._one(a.id))
                    .props("flat dense round")
                    .mark("alert-ack"),
                    f"Acknowledge {alert.title}",
                )

    async def _one(self, alert_id: str) -> None:
        assert self._acknowledge is not None
        try:
            await self._acknowledge(alert_id)
        except BackendError as error:
            ui.notify(f"Could not acknowledge: {error.message}", type="negative")

    async def _all(self) -> None:
        assert self._acknowledge_all is not None
        try:
            await self._acknowledge_all()
        except BackendError as error:
            ui.notify(f"Could not acknowledge: {error.message}", type="negative")
