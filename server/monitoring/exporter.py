"""The metrics endpoint: prometheus_client's own HTTP server (a thread) for one registry."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger("cts.monitoring")


class MetricsExporter:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> int:
        """Serve ``/metrics`` on ``host:port`` (0: a free port); returns the bound port."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self._registry)
        bound = int(self._server.server_port)
        log.info("metrics on http://%s:%d/metrics", host, bound)
        return bound

    async def stop(self) -> None:
        """Stop serving and close the socket."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        # Its loop polls for the stop every half second; a listening socket shut down wakes it
        # at once (accepting then fails, which it ignores), so stopping takes no time.
        server.socket.shutdown(socket.SHUT_RDWR)
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        await asyncio.to_thread(thread.join)
