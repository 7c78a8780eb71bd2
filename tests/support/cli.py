"""The ``cts`` command as a process, on a data folder of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def run_cts(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``cts ARGS`` with ``CTS_DATA_DIR`` = ``data_dir``, no other ``CTS_`` variable of the
    caller's environment, and ``env`` added."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    environment.update(CTS_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=environment,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )
