"""Following a server stream from a test: every value an item took, with when it arrived, and
waits that wake on each new value (no polling)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
# The failure condition of every wait, not a timing requirement: the machines are shared.
WAIT_SECONDS = 30.0


class Follow(Generic[T]):
    """Every value one item took on a Watch* stream, with when it arrived (the latest last).

    A background task reads the stream; waits are woken by each new value."""

    def __init__(self, name: str, describe_item: Callable[[T], str] = str) -> None:
        self.name = name
        self.values: list[tuple[float, T]] = []
        self._describe = describe_item
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    def start(self, stream: Any, pick: Callable[[Any], Iterable[T]]) -> None:
        async def run() -> None:
            try:
                async for message in stream:
                    at = time.time()
                    for item in pick(message):
                        self.values.append((at, item))
                    self._wake()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.error = exc
                self._wake()

        self._stream = stream
        self._task = asyncio.ensure_future(run())

    async def close(self) -> None:
        self._stream.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _wake(self) -> None:
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()

    @property
    def latest(self) -> T | None:
        return self.values[-1][1] if self.values else None

    def since(self, at: float) -> list[T]:
        """The value current at ``at`` and every later one."""
        start = 0
        for index, (arrived, _) in enumerate(self.values):
            if arrived <= at:
                start = index
        return [value for _, value in self.values[start:]]

    async def first(
        self,
        accept: Callable[[T], bool],
        *,
        since: float,
        what: str,
        timeout: float = WAIT_SECONDS,
        current: bool = True,
    ) -> tuple[float, T]:
        """The first value from ``since`` on (with ``current``, the one current then too) that
        ``accept`` takes, and when it arrived; fails after ``timeout`` seconds."""
        checked = 0
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    values = self.values
                    for index in range(checked, len(values)):
                        arrived, value = values[index]
                        if current:
                            old = index + 1 < len(values) and values[index + 1][0] <= since
                        else:
                            old = arrived <= since
                        if not old and accept(value):
                            return max(arrived, since), value
                    checked = len(values)
                    self._raise_if_broken()
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"{what}: not seen within {timeout:g} s; {self.name} is now {self._now()}"
            ) from None

    async def after(
        self,
        accept: Callable[[T], bool],
        *,
        since: float,
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> tuple[float, T]:
        """The first value that arrived after ``since`` and that ``accept`` takes (an event,
        unlike :meth:`first`, which also takes the value current at ``since``)."""
        return await self.first(accept, since=since, what=what, timeout=timeout, current=False)

    async def settled(
        self,
        accept: Callable[[T], bool],
        *,
        since: float,
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> float:
        """Wait until the latest value is one ``accept`` takes; returns when the unbroken run
        of accepted values that ends with it began (``since`` if it began before)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    if self.values and accept(self.values[-1][1]):
                        start = len(self.values) - 1
                        while start > 0 and accept(self.values[start - 1][1]):
                            start -= 1
                        return max(self.values[start][0], since)
                    self._raise_if_broken()
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"{what}: not back within {timeout:g} s; {self.name} is now {self._now()}"
            ) from None

    def _raise_if_broken(self) -> None:
        if self.error is not None:
            raise AssertionError(f"the {self.name} stream failed: {self.error!r}")

    def _now(self) -> str:
        latest = self.latest
        return "unknown (nothing received)" if latest is None else self._describe(latest)
