"""The real Envoy binary in front of a test server, on free ports."""

from __future__ import annotations

import subprocess
import time

from server.settings import Settings
from server.stack.envoy import envoy_command, write_config
from server.stack.up import answers


class EnvoyProcess:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"

    def start(self, timeout: float = 30.0) -> EnvoyProcess:
        config = write_config(self.settings)
        log = open(self.settings.resolved_data_dir / "envoy.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            envoy_command(self.settings, config), stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        delay = 0.02
        while not answers(f"http://127.0.0.1:{self.settings.envoy_admin_port}/ready"):
            if self.process.poll() is not None:
                raise RuntimeError(f"envoy exited with {self.process.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError("envoy did not become ready")
            time.sleep(delay)  # start-up readiness back-off, not test synchronisation
            delay = min(delay * 2, 0.2)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
