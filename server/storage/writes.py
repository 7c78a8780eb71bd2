"""One thread for SQLite's writes: in the order asked, bulk writes after every other waiting.

SQLite takes one writer at a time, and a writer waiting for its lock polls for it (the busy
handler): while the engines' position writer committed chunk after chunk, another write (a new
connection, a command) lost nearly every time and waited 10-30 s with a thousand engines
running. Here our own writes queue in process instead, and a *bulk* write (the engines'
positions, which never make anyone wait) goes after every other write waiting when it is taken:
a user's write waits at most for the one chunk being written.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_STOP = 2  # after everything queued


class WriteThread:
    def __init__(self, name: str = "cts-db-write") -> None:
        self._queue: queue.PriorityQueue[
            tuple[int, int, Callable[[], Any] | None, Future[Any] | None]
        ] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], Any], *, bulk: bool) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((1 if bulk else 0, next(self._order), work, future))
        return future

    def shutdown(self) -> None:
        """Finish every write queued, then end the thread."""
        self._queue.put((_STOP, next(self._order), None, None))
        self._thread.join()

    def _run(self) -> None:
        while True:
            _, _, work, future = self._queue.get()
            if work is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as error:  # the awaiting task gets it
                future.set_exception(error)
            else:
                future.set_result(result)
