"""Start-up checks of the data folder: who else may read it, and the room left on its disk.

The data folder holds the SQLite database, the master key, the admin token and the dashboard's
session store. Modes are read, never changed.

- The folder: any permission for others fails; for its group, warns (a shared group may be
  intended, but it lets every member in).
- Each file (and the dashboard's session folder): what its mode lets others (fail) or the
  group (warn) do *through the folder* — a file readable by others inside a folder they cannot
  enter is shielded, and reported as such without changing the status.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from server.monitoring.check import Finding
from server.monitoring.storage_checks import sqlite_file
from server.settings import Settings
from server.vault.master_key import KEY_FILE_NAME

GIB = 1024**3
MIB = 1024**2
#: Below this much free space on the data folder's disk the check warns.
DISK_WARN_BYTES = 1 * GIB
#: Below this much it fails: SQLite's journal and the log need room to grow.
DISK_FAIL_BYTES = 100 * MIB

# What the server keeps in the data folder besides the database.
PRIVATE_ENTRIES = (KEY_FILE_NAME, "admin.token", "webui.secret", "webui-storage", "tls-key.pem")

_OTHERS, _GROUP = 0o007, 0o070
_OTHERS_ENTER, _GROUP_ENTER = 0o001, 0o010


def private_paths(settings: Settings) -> list[Path]:
    """The files that must stay private: the SQLite files, then the data folder's secrets."""
    paths: list[Path] = []
    database = sqlite_file(settings.resolved_database_url)
    if database is not None:
        paths += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return paths + [settings.resolved_data_dir / name for name in PRIVATE_ENTRIES]


def data_folder(settings: Settings) -> Finding:
    folder = settings.resolved_data_dir
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except FileNotFoundError:
        return Finding.failed(f"no data folder at {folder}: the server creates it at its start")
    if not folder.is_dir():
        return Finding.failed(f"{folder} is not a folder")
    exposed: list[str] = []
    shared: list[str] = []
    shielded: list[str] = []
    for path in private_paths(settings):
        try:
            entry = stat.S_IMODE(path.lstat().st_mode)
            parent = stat.S_IMODE(path.parent.stat().st_mode)
        except FileNotFoundError:
            continue
        name = path.name if path.parent == folder else str(path)
        if entry & _OTHERS and parent & _OTHERS_ENTER:
            exposed.append(f"{name} ({entry:04o})")
        elif entry & _GROUP and parent & _GROUP_ENTER:
            shared.append(f"{name} ({entry:04o})")
        elif entry & (_OTHERS | _GROUP):
            shielded.append(f"{name} ({entry:04o})")
    state = f"the data folder {folder} has mode {mode:04o}"
    if mode & _OTHERS or exposed:
        return Finding.failed(
            _words(state, "other users", mode & _OTHERS, exposed, folder)
            + _also("open to its group", shared)
        )
    if mode & _GROUP or shared:
        return Finding.warned(
            _words(state, "its group", (mode & _GROUP) >> 3, shared, folder)
            + " (unless the group is meant to share it)"
        )
    detail = f"{state}: private to its owner"
    if shielded:
        detail += f"; open, but shielded by the folder: {', '.join(shielded)}"
    return Finding.passed(detail)


def _words(state: str, who: str, bits: int, entries: list[str], folder: Path) -> str:
    """``who`` may do ``bits`` (rwx) to the folder, and reach ``entries``: say so, and the fix."""
    said = []
    if bits:
        verbs = [w for bit, w in ((4, "list"), (2, "change"), (1, "enter")) if bits & bit]
        said.append(f"{state}: {who} can {' and '.join(verbs)} it (chmod 700 {folder})")
    if entries:
        said.append(f"open to {who}: {', '.join(entries)} (chmod 600)")
    return "; ".join(said)


def _also(label: str, entries: list[str]) -> str:
    return f"; {label}: {', '.join(entries)}" if entries else ""


def disk_space(
    folder: Path, *, warn_below: int = DISK_WARN_BYTES, fail_below: int = DISK_FAIL_BYTES
) -> Finding:
    """Free space on the disk of ``folder`` (or of its nearest existing parent)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    found = f"{_size(usage.free)} free of {_size(usage.total)} on the data folder's disk"
    if usage.free < fail_below:
        return Finding.failed(
            f"{found}: below {_size(fail_below)}, the database and the log cannot grow; free "
            "space now"
        )
    if usage.free < warn_below:
        return Finding.warned(f"{found}: below {_size(warn_below)}; free some space soon")
    return Finding.passed(found)


def _size(count: int) -> str:
    if count >= GIB:
        return f"{count / GIB:.1f} GiB"
    return f"{count / MIB:.0f} MiB"
