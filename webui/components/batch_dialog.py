"""Testing the selected connections together: live progress, then the batch's summary.

The batch id is known only when ``BatchTestConnections`` returns, so the progress comes from a
:class:`~webui.feeds.TestRunWatch` on *every* test, opened (snapshot received) before the call:
of the runs that start after that, the dialog counts those that belong to a batch
(``batch_id`` set) and test one of the selected connections, and it follows the first such
batch it sees. Only a batch that someone else starts in the same instant on an overlapping
selection could be mistaken for this one, and then only the live progress: the summary and the
per-connection statuses come from the call's own result.
"""

from __future__ import annotations

from collections.abc import Sequence

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui import theme
from webui.backend import BATCH_TIMEOUT_SECONDS, Backend, BackendError
from webui.components.accessible import named
from webui.components.status import test_color
from webui.feeds import TestRunWatch

BATCH_LIMIT = 50  # the server's limit, checked here first


class BatchRow:
    def __init__(self, connection: pb.Connection) -> None:
        with ui.row().classes("w-full items-center gap-3").mark(f"batch-row-{connection.id}"):
            ui.label(connection.name).classes("w-56 max-w-full truncate font-medium")
            self.status = ui.badge("waiting", color="neutral").mark("batch-status")
            self.detail = ui.label().classes("text-sm text-gray-600").mark("batch-detail")

    def running(self) -> None:
        self.status.set_text("running")
        self.status.props("color=primary")

    def finished(self, result: pb.ConnectionTestResult) -> None:
        self.status.set_text(result.status)
        self.status.props(f"color={test_color(result.status)}")
        if result.status == "failed":
            self.detail.set_text(f"{result.error_reason}: {result.error_message}")
        elif result.balance:
            self.detail.set_text(f"{result.balance} USDT · {result.duration_ms} ms")


class BatchDialog:
    def __init__(self, connections: Sequence[pb.Connection]) -> None:
        self.total = len(connections)
        self.batch_id: str | None = None
        self.done: set[str] = set()
        self.finished = False
        with (
            ui.dialog(value=True) as self.dialog,
            ui.card().classes(theme.dialog_card("w-[36rem]")).mark("batch-dialog"),
        ):
            ui.label(f"Testing {self.total} connections").classes("text-lg font-semibold")
            self.progress_text = ui.label().mark("batch-progress")
            self.progress = named(
                ui.linear_progress(value=0, show_value=False), "Batch test progress"
            )
            self.rows = {c.id: BatchRow(c) for c in connections}
            self.summary = ui.label().classes("font-semibold").mark("batch-summary")
            with ui.row().classes(theme.DIALOG_ACTIONS):
                ui.button("Close", on_click=self.dialog.close).props("flat").mark("batch-close")
        self.summary.set_visibility(False)
        self._show_progress()
        self.dialog.on_value_change(self._visibility_changed)

    def _visibility_changed(self) -> None:
        if not self.dialog.value and self.finished:
            self.dialog.delete()

    def _finish(self) -> None:
        self.finished = True
        if not self.dialog.value:  # closed while the batch ran
            self.dialog.delete()

    def show_run(self, run: pb.TestRun) -> None:
        """A test started, grew or finished somewhere (from the stream of all tests)."""
        if self.dialog.is_deleted or not run.batch_id or run.connection_id not in self.rows:
            return
        if self.batch_id is None:
            self.batch_id = run.batch_id
        if run.batch_id != self.batch_id:
            return
        row = self.rows[run.connection_id]
        if run.state == "finished":
            self.done.add(run.connection_id)
            row.finished(run.result)
        else:
            row.running()
        self._show_progress()

    def _show_progress(self) -> None:
        self.progress_text.set_text(f"{len(self.done)} of {self.total} finished")
        self.progress.set_value(len(self.done) / self.total if self.total else 0)

    def show_result(self, batch: pb.BatchTestResult) -> None:
        for result in batch.results:
            if result.connection_id in self.rows:
                self.done.add(result.connection_id)
                self.rows[result.connection_id].finished(result)
        self._show_progress()
        self.summary.set_text(
            f"{batch.success_count} succeeded · {batch.failure_count} failed · "
            f"{batch.total_duration_ms} ms in total"
        )
        self.summary.classes(
            replace="font-semibold " + ("text-negative" if batch.failure_count else "text-positive")
        )
        self.summary.set_visibility(True)
        self._finish()

    def show_error(self, message: str) -> None:
        self.summary.set_text(message)
        self.summary.classes(replace="font-semibold text-negative")
        self.summary.set_visibility(True)
        self._finish()


async def test_batch(backend: Backend, token: str, connections: Sequence[pb.Connection]) -> None:
    """Test ``connections`` in one batch with the progress dialog open; a toast sums it up."""
    if not connections:
        ui.notify("Select the connections to test first", type="warning")
        return
    if len(connections) > BATCH_LIMIT:
        ui.notify(
            f"At most {BATCH_LIMIT} connections can be tested at once "
            f"({len(connections)} are selected)",
            type="negative",
        )
        return
    dialog = BatchDialog(connections)
    watch = TestRunWatch(backend, token, dialog.show_run)
    try:
        await watch.open()
        batch = await backend.call(
            backend.connections.BatchTestConnections,
            pb.BatchTestConnectionsRequest(connection_ids=[c.id for c in connections]),
            token,
            timeout=BATCH_TIMEOUT_SECONDS,
        )
    except BackendError as error:
        dialog.show_error(error.message)
        ui.notify(f"Batch test: {error.message}", type="negative", multi_line=True)
        return
    finally:
        await watch.close()
    dialog.show_result(batch)
    ui.notify(
        f"Batch test: {batch.success_count} succeeded, {batch.failure_count} failed",
        type="negative" if batch.failure_count else "positive",
    )
