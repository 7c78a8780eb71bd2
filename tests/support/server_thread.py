"""A real CTS gRPC server running in its own thread and event loop.

Tests run on their own (function-scoped) event loops and talk to the server over real
sockets, as any client would. ``run()`` executes a coroutine on the server's loop when a test
needs to look inside (for example at a topic's subscriber count).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from server.app import CtsServer
from server.settings import Settings

T = TypeVar("T")


class ServerThread:
    def __init__(
        self, settings: Settings, make: Callable[[Settings], CtsServer] = CtsServer
    ) -> None:
        """``make`` builds the server (a test may give it more than its settings)."""
        self.settings = settings
        self._make = make
        self.server: CtsServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="cts-test-server", daemon=True)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._started.wait(timeout=60):
            raise RuntimeError("the test server did not start within 60 s")
        if self._error is not None:
            raise RuntimeError("the test server failed to start") from self._error
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            self.server = self._make(self.settings)
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        await self._stop.wait()
        await self.server.stop(grace=1.0)

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make()`` on the server's loop and return its result."""
        assert self._loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(_call(make), self._loop)
        return future.result(timeout=30)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()
