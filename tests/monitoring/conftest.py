"""The connections' fixtures: a real server in front of the exchange simulator (``desk``)."""

from tests.connections.conftest import desk, desk_server, server_settings

__all__ = ("desk", "desk_server", "server_settings")
