"""`cts up` started as a real process on free ports, its output collected line by line."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.ports import free_port

REPOSITORY = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Up:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.ports = {
            "CTS_GRPC_PORT": free_port(),
            "CTS_HTTP_PORT": free_port(),
            "CTS_WEBUI_PORT": free_port(),
            "CTS_ENVOY_ADMIN_PORT": free_port(),
            "CTS_METRICS_PORT": free_port(),
            "CTS_SIMULATOR_PORT": free_port(),
        }
        extra = env or {}
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CTS_") and k != "PYTEST_CURRENT_TEST"
        }
        env.update({k: str(v) for k, v in self.ports.items()}, CTS_DATA_DIR=str(data_dir))
        env.update(extra)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "up"],
            cwd=REPOSITORY,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 90) -> None:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"`cts up` never printed {text!r}; output:\n{''.join(self.output)}")
            if text in line:
                return

    def stop(self) -> None:
        """SIGTERM (which stops the children too), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
