"""The engine tests use the same server-in-front-of-the-simulator fixtures as the connection
tests."""

from tests.connections.conftest import desk, desk_server, server_settings

__all__ = ["desk", "desk_server", "server_settings"]
