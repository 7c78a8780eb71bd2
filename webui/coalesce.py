"""Redraw once after a burst of stream messages rather than once per message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Coalesced:
    """Runs ``action`` once, ``delay`` seconds after the first :meth:`soon` of a burst."""

    def __init__(self, delay: float, action: Callable[[], None]) -> None:
        self._delay = delay
        self._action = action
        self._handle: asyncio.TimerHandle | None = None

    def soon(self) -> None:
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._run)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self) -> None:
        self._handle = None
        self._action()
