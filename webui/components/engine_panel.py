"""One connection's engine: its state and its user's wish, the error and the next retry, whether
its prices are stale, the commands, the loading stages with their progress, its symbols and its
cycle metrics.

:meth:`EnginePanel.update` is called with every status the engine stream delivers (a running
engine's metrics change every cycle), so everything is updated in place. The commands' replies
are not shown: the stream brings the same change.

Stop is a split button: its face stops the engine and leaves the positions open (the engine
manages them again when it runs); its menu offers that and "Stop and close positions", which
closes every open position first (the page asks for confirmation). Closing also works on a
stopped engine that still has open positions, so the menu stays available while there are any.

A stopped engine says since when (its status's last change); its stages, and its figures, are
those of its last run, and the panel says so.

A *stale* engine (no fresh prices for its threshold, ``CTS_ENGINE_STALE_CYCLES`` cycles) keeps
its state, running or paused; a "Stale prices" badge next to the state and a line under the
commands say since when, until a status with fresh prices takes them away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cts.connection.v1 import connection_pb2 as cpb
from cts.engine.v1 import engine_pb2 as pb
from nicegui import ui

from webui.components.accessible import named
from webui.components.status import (
    duration,
    engine_color,
    halted,
    moment,
    number,
    stage_color,
    stopped_since,
    words,
)

Command = Callable[[str], Awaitable[None]]  # "start", "pause", "resume", "stop", "stop_close"
COMMANDS = (
    ("start", "Start", "play_arrow", "positive"),
    ("pause", "Pause", "pause", "caution"),
    ("resume", "Resume", "play_circle", "primary"),
)
STOP_CHOICES = (  # command, marker, label, caption
    (
        "stop",
        "engine-stop-keep",
        "Stop",
        "Open positions stay open; the engine manages them when it runs again",
    ),
    (
        "stop_close",
        "engine-stop-close",
        "Stop and close positions…",
        "Close every open position first: pseudo at the last prices, live by market orders",
    ),
)
FINISHED = ("done", "skipped")


def allowed(status: pb.EngineStatus, open_positions: int = 0) -> dict[str, bool]:
    """The commands that change something for an engine in this state and with this many open
    positions (the server has the last word: Start on a connection that is not enabled and
    active is refused with its reason)."""
    state, desired = status.state, status.desired
    stop = not (state == "stopped" and desired == "stopped")
    return {
        "start": state == "stopped" or desired == "stopped",
        "pause": desired == "running" and state in ("starting", "running", "error"),
        "resume": desired == "paused" and state != "stopped",
        "stop": stop,
        "stop_close": stop or open_positions > 0,
    }


def stale_warning(status: pb.EngineStatus) -> str:
    """What the panel says of a stale engine; empty while its prices are fresh."""
    if not status.stale:
        return ""
    if status.HasField("prices_at"):
        text = f"No fresh prices since {moment(status.prices_at)}"
    else:
        text = "No fresh prices yet"
    if status.HasField("stale_since"):
        text += f" (stale since {moment(status.stale_since)})"
    return f"{text}: nothing opens, and exits wait for fresh prices."


class StageRow:
    """One loading stage: its state, a progress bar (done of total), duration and detail."""

    def __init__(self, stage: pb.EngineStage) -> None:
        with (
            ui.row()
            .classes("w-full items-center gap-x-3 gap-y-0 text-sm")
            .mark(f"engine-stage stage-{stage.stage}") as self.row
        ):
            ui.label(words(stage.stage)).classes("w-36 font-medium")
            self.state = ui.badge().classes("w-20 justify-center").mark("stage-state")
            self.bar = (
                ui.linear_progress(show_value=False, size="6px")
                .classes("w-24 sm:w-40")
                .mark("stage-bar")
            )
            self.count = ui.label().classes("w-16 text-gray-700").mark("stage-count")
            self.duration = ui.label().classes("w-16 text-gray-500").mark("stage-duration")
            self.detail = ui.label().classes("text-gray-600").mark("stage-detail")
        self._shown: pb.EngineStage | None = None
        self.update(stage)

    def update(self, stage: pb.EngineStage) -> None:
        if stage == self._shown:  # a running engine's status changes every cycle, its stages not
            return
        self._shown = stage
        named(self.bar, f"{words(stage.stage)} progress")
        self.state.set_text(stage.state)
        self.state.props(f"color={stage_color(stage.state)}")
        if stage.total > 0:
            share = min(1.0, stage.done / stage.total)
        else:
            share = 1.0 if stage.state in FINISHED else 0.0
        self.bar.set_value(share)
        self.bar.props(f"color={stage_color(stage.state)}")
        self.count.set_text(f"{stage.done}/{stage.total}" if stage.total else "")
        self.duration.set_text(duration(stage.duration_ms) if stage.state != "pending" else "")
        self.detail.set_text(stage.detail)


class Metric:
    """A figure with its caption."""

    def __init__(self, caption: str, marker: str) -> None:
        with ui.column().classes("gap-0 min-w-24"):
            self.caption = ui.label(caption).classes("text-xs uppercase text-gray-500")
            self.value = ui.label().classes("text-lg font-medium").mark(marker)

    def set(self, text: str) -> None:
        self.value.set_text(text)


class EnginePanel:
    def __init__(self, on_command: Command, *, may_command: bool = True) -> None:
        """Without ``may_command`` (a viewer's token) the command buttons are not shown."""
        self._on_command = on_command
        self._stages: dict[str, StageRow] = {}
        self._allowed: dict[str, bool] = {}
        with ui.card().classes("w-full gap-3").mark("engine-panel") as self.card:
            with ui.row().classes("w-full items-center gap-3"):
                self.name = ui.label().classes("text-lg font-semibold").mark("engine-name")
                self.state = ui.badge().classes("text-sm").mark("engine-state")
                self.stale_badge = (
                    ui.badge("Stale prices", color="caution")
                    .classes("text-sm")
                    .mark("engine-stale")
                )
                self.stale_badge.tooltip(
                    "No fresh prices for the engine's stale threshold (CTS_ENGINE_STALE_CYCLES "
                    "cycles): its state stays as it is, but nothing opens"
                )
                self.desired = ui.label().classes("text-sm text-gray-600").mark("engine-desired")
                self.since = ui.label().classes("text-sm text-gray-500").mark("engine-since")
            with ui.row().classes("w-full items-center gap-2") as self.commands:
                self.buttons: dict[str, Any] = {
                    name: ui.button(
                        label, icon=icon, on_click=lambda _, name=name: on_command(name)
                    )
                    .props(f"outline color={color}")
                    .mark(f"engine-{name}")
                    for name, label, icon, color in COMMANDS
                }
                self.stop = (
                    ui.dropdown_button(
                        "Stop", icon="stop", split=True, auto_close=True, on_click=self._stop
                    )
                    .props("outline color=negative")
                    .mark("engine-stop")
                )
                with self.stop:
                    for name, marker, label, caption in STOP_CHOICES:
                        item = ui.item(on_click=lambda _, name=name: on_command(name))
                        with item.mark(marker), ui.item_section():
                            ui.item_label(label)
                            ui.item_label(caption).props("caption")
                        self.buttons[name] = item
            self.commands.set_visibility(may_command)
            self.hint = ui.label().classes("text-sm text-caution").mark("engine-hint")
            with ui.row().classes("w-full items-center gap-2 no-wrap") as self.stale_line:
                ui.icon("warning", color="caution").classes("text-lg")
                self.stale_text = (
                    ui.label().classes("text-sm text-caution font-medium").mark("engine-stale-text")
                )
            self.error = (
                ui.label().classes("w-full text-sm text-negative font-medium").mark("engine-error")
            )
            self.stages_heading = (
                ui.label("Loading stages")
                .classes("text-sm font-semibold text-gray-700")
                .mark("engine-stages-heading")
            )
            self.stages = ui.column().classes("w-full gap-1").mark("engine-stages")
            self.no_stages = ui.label("Not started yet").classes("text-sm text-gray-500")
            with ui.row().classes("w-full items-start gap-6"):
                self.cycles = Metric("Cycles", "metric-cycles")
                self.p50 = Metric("Cycle p50", "metric-p50")
                self.p99 = Metric("Cycle p99", "metric-p99")
                self.stale = Metric("Stale cycles", "metric-stale")
                self.last_cycle = Metric("Last cycle", "metric-last-cycle")
                self.prices_at = Metric("Prices at", "metric-prices-at")
            with ui.column().classes("w-full gap-0"):
                ui.label("Symbols").classes("text-xs uppercase text-gray-500")
                self.symbols = ui.label().classes("text-sm").mark("engine-symbols")

    async def _stop(self) -> None:
        """The face of Stop: stop, or (the engine is stopped, positions are open) the choices."""
        if self._allowed.get("stop"):
            await self._on_command("stop")
        else:
            self.stop.open()

    def update(
        self, connection: cpb.Connection, status: pb.EngineStatus, open_positions: int = 0
    ) -> None:
        self.name.set_text(connection.name)
        self._name_commands(connection.name)
        if self.state.text != status.state:
            self.state.set_text(status.state)
            self.state.props(f"color={engine_color(status.state)}")
        self.desired.set_text(f"wanted: {status.desired}" if status.desired else "")
        if status.HasField("started_at") and status.state in ("running", "paused"):
            self.since.set_text(f"since {moment(status.started_at)}")
        else:
            self.since.set_text(stopped_since(status))
        self._allowed = allowed(status, open_positions)
        for name, enabled in self._allowed.items():
            self.buttons[name].set_enabled(enabled)
        self.stop.set_enabled(self._allowed["stop"] or self._allowed["stop_close"])
        self._hint(connection)
        self._stale(status)
        self._error(status)
        self._show_stages(status.stages)
        self.stages_heading.set_text(
            "Loading stages · of the last run"
            if halted(status) and status.stages
            else "Loading stages"
        )
        self._metrics(status)
        self.symbols.set_text(" · ".join(status.symbols) if status.symbols else "none yet")

    def _name_commands(self, name: str) -> None:
        """The command buttons' accessible names say whose engine they command."""
        for command, label, _, _ in COMMANDS:
            named(self.buttons[command], f"{label} the engine of {name}")
        toggle = f"More ways to stop the engine of {name}"
        if self.stop.props.get("toggle-aria-label") != toggle:
            self.stop.props["toggle-aria-label"] = toggle
            self.stop.update()

    def _hint(self, connection: cpb.Connection) -> None:
        missing = [
            word
            for word, ok in (("enabled", connection.is_enabled), ("active", connection.is_active))
            if not ok
        ]
        self.hint.set_visibility(bool(missing))
        self.hint.set_text(
            f"The connection is not {' and not '.join(missing)}: an engine runs only on an "
            "enabled and active connection (switch it on the Connections page)."
        )

    def _stale(self, status: pb.EngineStatus) -> None:
        warning = stale_warning(status)
        self.stale_badge.set_visibility(bool(warning))
        self.stale_line.set_visibility(bool(warning))
        self.stale_text.set_text(warning)

    def _error(self, status: pb.EngineStatus) -> None:
        self.error.set_visibility(bool(status.error))
        text = status.error
        if status.attempts:
            text += f" · {status.attempts} failed {'start' if status.attempts == 1 else 'starts'}"
        if status.HasField("retry_at"):
            text += f" · next retry {moment(status.retry_at)}"
        self.error.set_text(text)

    def _show_stages(self, stages: list[pb.EngineStage]) -> None:
        names = [stage.stage for stage in stages]
        if names != list(self._stages):  # another walk: rebuild; else update in place
            self.stages.clear()
            self._stages.clear()
            with self.stages:
                for stage in stages:
                    self._stages[stage.stage] = StageRow(stage)
        else:
            for stage in stages:
                self._stages[stage.stage].update(stage)
        self.no_stages.set_visibility(not stages)

    def _metrics(self, status: pb.EngineStatus) -> None:
        metrics = status.metrics
        self.cycles.set(str(metrics.cycles))
        self.p50.set(f"{number(metrics.cycle_p50_ms)} ms")
        self.p99.set(f"{number(metrics.cycle_p99_ms)} ms")
        self.stale.set(str(metrics.stale_cycles))
        self.last_cycle.set(
            moment(metrics.last_cycle_at) if metrics.HasField("last_cycle_at") else "—"
        )
        self.prices_at.set(moment(status.prices_at) if status.HasField("prices_at") else "—")
        # The last fresh prices' time turns to caution while they are all the engine has.
        if status.stale:
            self.prices_at.value.classes(add="text-caution")
        else:
            self.prices_at.value.classes(remove="text-caution")
