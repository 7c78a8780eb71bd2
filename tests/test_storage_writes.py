"""SQLite's one write thread: writes in the order asked, bulk writes after every other waiting."""

from __future__ import annotations

import threading

import pytest

from server.storage.writes import WriteThread


def test_writes_run_in_order_and_bulk_ones_after_every_other_waiting() -> None:
    writes = WriteThread()
    release = threading.Event()
    ran: list[str] = []

    def first() -> str:
        release.wait(10)
        ran.append("first")
        return "first"

    def write(name: str) -> None:
        ran.append(name)

    busy = writes.submit(first, bulk=False)
    queued = [
        writes.submit(lambda name=name: write(name), bulk=bulk)  # type: ignore[misc]
        for name, bulk in (
            ("chunk 1", True),
            ("connection", False),
            ("chunk 2", True),
            ("command", False),
        )
    ]
    release.set()
    assert busy.result(10) == "first"
    for future in queued:
        future.result(10)
    # the one running finishes; then every waiting write, in order; then the bulk ones, in order
    assert ran == ["first", "connection", "command", "chunk 1", "chunk 2"]

    failing = writes.submit(lambda: 1 / 0, bulk=False)
    with pytest.raises(ZeroDivisionError):
        failing.result(10)  # its caller gets the failure; the thread goes on
    assert writes.submit(lambda: "after", bulk=True).result(10) == "after"
    writes.shutdown()
