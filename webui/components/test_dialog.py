"""Testing one connection: a dialog that shows the test's log as it is written, then the result.

:func:`test_connection` opens the dialog, starts a :class:`~webui.feeds.TestRunWatch` on the
connection's tests, and only once its snapshot has arrived calls ``TestConnection``, so no line
is missed. The run shown is the first single test (no batch id) of the connection that
appears after the snapshot; if another tab or client started one in that instant, the result
(which names its test) replaces the log with its own when it returns. Nothing secret is
shown: the server's log and result never contain credentials.
"""

from __future__ import annotations

from collections.abc import Iterable

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui import theme
from webui.backend import TEST_TIMEOUT_SECONDS, Backend, BackendError
from webui.components.status import (
    capabilities_words,
    may_withdraw,
    signed_ms,
    test_color,
    yes_no,
)
from webui.feeds import TestRunWatch

TOAST_TYPES = {"success": "positive", "warning": "warning", "failed": "negative"}  # Quasar's


class TestDialog:
    __test__ = False  # not a pytest test class

    def __init__(self, connection: pb.Connection) -> None:
        self.connection = connection
        self.test_id: str | None = None
        self.finished = False
        self._shown = 0
        with (
            ui.dialog(value=True) as self.dialog,
            ui.card().classes(theme.dialog_card("w-[40rem]")).mark("test-dialog"),
        ):
            with ui.row().classes("w-full items-center"):
                ui.label(f"Testing {connection.name}").classes("text-lg font-semibold")
                if connection.is_simulated:
                    ui.badge("simulated exchange", color="simulated").props("outline")
            self.log = (
                ui.column()
                .classes("w-full gap-0 p-2 bg-slate-900 text-slate-100 font-mono text-xs rounded")
                .mark("test-log")
            )
            with ui.row().classes("items-center gap-2") as self.running:
                ui.spinner(size="sm")
                ui.label("Running…").mark("test-running")
            self.result = ui.column().classes("w-full gap-2").mark("test-result")
            with ui.row().classes(theme.DIALOG_ACTIONS):
                ui.button("Close", on_click=self.dialog.close).props("flat").mark("test-close")
        self.dialog.on_value_change(self._visibility_changed)

    def _visibility_changed(self) -> None:
        if not self.dialog.value and self.finished:
            self.dialog.delete()

    def show_run(self, run: pb.TestRun) -> None:
        """A run appeared or grew (from the test stream)."""
        if self.log.is_deleted or run.batch_id:  # the tab is gone; a batch's test, not ours
            return
        if self.test_id is None:
            self.test_id = run.test_id
        if run.test_id == self.test_id:
            self._show_lines(run.log)

    def _show_lines(self, log: Iterable[str]) -> None:
        lines = list(log)
        with self.log:
            for line in lines[self._shown :]:
                ui.label(line).classes("whitespace-pre-wrap break-all").mark("test-log-line")
        self._shown = max(self._shown, len(lines))

    def show_result(self, result: pb.ConnectionTestResult) -> None:
        if result.test_id != self.test_id:  # the stream showed another client's test
            self.log.clear()
            self._shown = 0
            self.test_id = result.test_id
        self._show_lines(result.log)
        with self.result:
            with ui.row().classes("items-center gap-3"):
                ui.badge(result.status, color=test_color(result.status)).classes("text-base").mark(
                    "test-status"
                )
                if result.balance:
                    ui.label(f"Balance {result.balance} USDT").classes("font-medium").mark(
                        "test-balance"
                    )
            others = [b for b in result.balances if b.asset != "USDT"]
            if others:
                ui.label(" · ".join(f"{b.total} {b.asset}" for b in others)).classes(
                    "text-sm text-gray-600"
                ).mark("test-balances")
            if result.HasField("capabilities"):
                with ui.row().classes("items-center gap-1").mark("test-capabilities"):
                    for name, allowed in capabilities_words(result.capabilities):
                        risky = name == "withdrawals" and allowed
                        color = "negative" if risky else "positive" if allowed else "neutral"
                        ui.chip(f"{name}: {yes_no(allowed)}", color=color).props(
                            "dense square text-color=white"
                        )
                if may_withdraw(result.capabilities):
                    ui.label(
                        "This key may WITHDRAW funds. CTS never needs that: use a key "
                        "without withdrawal permission."
                    ).classes("text-negative font-semibold").mark("test-withdrawals-warning")
            timing = [f"duration {result.duration_ms} ms"]
            if result.latency_ms or result.status != "failed":
                timing[:0] = [
                    f"latency {result.latency_ms} ms",
                    f"clock drift {signed_ms(result.clock_drift_ms)}",
                ]
            ui.label(" · ".join(timing)).classes("text-sm text-gray-700").mark("test-timing")
            if result.status == "failed":
                reason = f"{result.error_reason}: " if result.error_reason else ""
                ui.label(f"{reason}{result.error_message}").classes(
                    "text-negative whitespace-pre-wrap"
                ).mark("test-error")
        self._finish()

    def show_error(self, message: str) -> None:
        """The test could not be run at all (unknown connection, server unreachable)."""
        with self.result:
            ui.label(message).classes("text-negative").mark("test-error")
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.running.set_visibility(False)
        if not self.dialog.value:  # closed while the test ran
            self.dialog.delete()


async def test_connection(backend: Backend, token: str, connection: pb.Connection) -> None:
    """Run one test with its dialog open; a toast says how it ended."""
    dialog = TestDialog(connection)
    watch = TestRunWatch(backend, token, dialog.show_run, connection_id=connection.id)
    try:
        await watch.open()
        result = await backend.call(
            backend.connections.TestConnection,
            pb.TestConnectionRequest(id=connection.id),
            token,
            timeout=TEST_TIMEOUT_SECONDS,
        )
    except BackendError as error:
        dialog.show_error(error.message)
        ui.notify(f"{connection.name}: {error.message}", type="negative", multi_line=True)
        return
    finally:
        await watch.close()
    dialog.show_result(result)
    summary = f"{connection.name}: test {result.status}"
    if result.status == "failed":
        summary += f" — {result.error_message}"
    elif result.balance:
        summary += f" ({result.balance} USDT)"
    ui.notify(summary, type=TOAST_TYPES.get(result.status, "info"), multi_line=True)
