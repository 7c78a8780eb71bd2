"""Entry point of the dashboard: ``cts webui`` calls :func:`run`; tests run this file."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path

from server.settings import Settings
from server.tls import tls_files

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
    """Serve the dashboard in the foreground until SIGINT or SIGTERM; over HTTPS when
    CTS_TLS_CERT / CTS_TLS_KEY are set (its gRPC calls stay plaintext on CTS_HOST)."""
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
    tls = tls_files(settings)
    # The session cookie is HttpOnly (always, in Starlette), SameSite=Lax, and Secure over TLS.
    cookie = {"same_site": "lax", "https_only": tls is not None}
    ssl = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)} if tls else {}
    ui.run(
        host=settings.host,
        port=settings.webui_port,
        title="CTS",
        reload=False,
        show=False,
        storage_secret=storage_secret(data_dir),
        session_middleware_kwargs=cookie,
        show_welcome_message=False,
        **ssl,
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
