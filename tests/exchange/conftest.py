"""Exchange-access tests talk to an in-process exchange simulator on this test's own loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.simulator.server import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=21)
    await simulator.start()
    yield simulator
    await simulator.stop()
