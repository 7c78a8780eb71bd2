"""Monitoring tests drive the same desk (server + simulator) as the connection tests."""

from tests.connections.conftest import desk, desk_server, server_settings

__all__ = ["desk", "desk_server", "server_settings"]
