"""The exchange simulator in its own thread and event loop, as a separate server would be."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from server.simulator.server import Simulator

T = TypeVar("T")


class SimulatorThread:
    def __init__(self, simulator: Simulator | None = None) -> None:
        self.simulator = simulator or Simulator(seed=7)
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="cts-test-simulator", daemon=True)

    def start(self) -> SimulatorThread:
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("the simulator did not start")
        return self

    def _main(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.base_url = await self.simulator.start()
        self._started.set()
        await self._stop.wait()
        await self.simulator.stop()

    def call(self, action: Callable[[], T]) -> T:
        """Run ``action`` on the simulator's loop (its state belongs to that loop)."""
        assert self._loop is not None
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(action())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=30)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
