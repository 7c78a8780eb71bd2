"""The engine tests use the same server-in-front-of-the-simulator fixtures as the connection
tests, and an engine whose market feed the test steps (``tests/support/stepping.py``)."""

from collections.abc import AsyncIterator

import pytest

from tests.connections.conftest import desk, desk_server, server_settings
from tests.support.stepping import Bench, open_bench


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async for opened in open_bench(database_url):
        yield opened


__all__ = ["bench", "desk", "desk_server", "server_settings"]
