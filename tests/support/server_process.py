"""A real CTS server as its own process (``cts serve``), to be stopped by SIGTERM or killed by
SIGKILL and started again on the same data — as an operator's process manager would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.ports import free_port

REPOSITORY = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``cts serve`` on a free port with ``CTS_`` settings given as environment variables."""

    def __init__(
        self, data_dir: Path, settings: dict[str, str], *, log_name: str = "server"
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CTS_") and k != "PYTEST_CURRENT_TEST"
        }
        self.env.update(
            {
                "CTS_DATA_DIR": str(data_dir),
                "CTS_GRPC_PORT": str(self.port),
                "CTS_METRICS_PORT": "0",
                "CTS_DEMO": "false",
                "CTS_HEALTH_CHECKS": "false",
                **settings,
            }
        )
        self.log_path = data_dir.parent / f"{log_name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the process and return once its health check answers SERVING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve"],
                cwd=REPOSITORY,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        with grpc.insecure_channel(self.target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=timeout
            )
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"the server answered {response.status}; log: {self.log()}")
        return self

    def terminate(self) -> float:
        """SIGTERM; the seconds until the process had exited on its own (killed after 60 s)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"the server ignored SIGTERM for 60 s; log: {self.log()}"
            ) from None
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def stop(self) -> None:
        """Whatever state it is in: ended (used by fixtures)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
