"""Entry point of the dashboard: ``cts webui`` calls :func:`run`; tests run this file."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path

from server.settings import Settings

SECRET_FILE = "webui.secret"


def storage_secret(data_dir: Path) -> str:
    """The key that signs the dashboard's session cookies, kept in the data folder (0600)."""
    from server.vault.master_key import write_private_file

    path = data_dir / SECRET_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process wrote it first
            write_private_file(path, secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def run(settings: Settings) -> None:
    """Serve the dashboard in the foreground until SIGINT or SIGTERM."""
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.umask(0o077)  # session storage (which holds signed-in tokens) is private to this user
    # NiceGUI reads its storage location at import time.
    os.environ.setdefault("NICEGUI_STORAGE_PATH", str(data_dir / "webui-storage"))
    from nicegui import ui

    from webui.app import build

    build(settings)

    def stop(_signum: int, _frame: object) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ui.run(
        host=settings.host,
        port=settings.webui_port,
        title="CTS",
        reload=False,
        show=False,
        storage_secret=storage_secret(data_dir),
        show_welcome_message=False,
    )


if __name__ in {"__main__", "__mp_main__"}:
    # Run as a file (NiceGUI's pytest plugin does this before each `user` test).
    if os.environ.get("NICEGUI_USER_SIMULATION"):
        from nicegui import ui

        from webui.app import build

        build(Settings())
        ui.run(storage_secret="simulated secret", reload=False, show=False)
    else:
        run(Settings())
