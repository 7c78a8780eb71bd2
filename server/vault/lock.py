"""Who may use the master key now: a running server holds ``vault.lock`` in the data folder
shared, a key rotation holds it exclusively. The kernel drops the lock when its process ends,
so a killed server or rotation never leaves it behind."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from server.vault.master_key import MasterKeyError

LOCK_FILE_NAME = "vault.lock"


class VaultLock:
    """A held lock on ``vault.lock``; :meth:`release` (or the process's end) gives it back."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def for_server(cls, data_dir: Path) -> VaultLock:
        """Shared with other servers on this data folder; refused while a rotation runs."""
        return cls._take(
            data_dir,
            fcntl.LOCK_SH,
            "a master-key rotation (`cts vault rotate`) is running on the data folder "
            f"{data_dir}: start the server when it has finished",
        )

    @classmethod
    def for_rotation(cls, data_dir: Path) -> VaultLock:
        """Exclusive: refused while a server (or another rotation) uses this data folder."""
        return cls._take(
            data_dir,
            fcntl.LOCK_EX,
            f"a CTS server (or another rotation) is using the data folder {data_dir}: stop "
            "every server on it (`cts up`, `cts serve`) and run the rotation again",
        )

    @classmethod
    def _take(cls, data_dir: Path, mode: int, refusal: str) -> VaultLock:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(data_dir / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise MasterKeyError(refusal) from None
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the lock
            self._fd = None
