"""Start-up check of the master key: present, private, and the key the credentials were sealed
with (it opens the canary sealed when the database was first prepared).

Unlike the server, the check never creates a key: a missing key is reported, not replaced.
"""

from __future__ import annotations

import asyncio
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from server.monitoring.check import Finding
from server.monitoring.storage_checks import reason
from server.settings import Settings
from server.storage.database import Database
from server.vault.canary import MASTER_KEY_CANARY, CanaryRecord, canary_opens
from server.vault.cipher import CredentialCipher
from server.vault.master_key import (
    KEY_FILE_NAME,
    NEXT_KEY_FILE_NAME,
    MasterKeyError,
    decode_key,
    read_key_file,
)

RESTORE = (
    "restore the key the credentials were sealed with (master.key from a backup, or CTS_MASTER_KEY)"
)


@dataclass(frozen=True, slots=True)
class _Key:
    """The key as configured, or why it cannot be used."""

    source: str  # where it comes from, in words
    key: bytes | None = None
    problem: Finding | None = None
    missing: bool = False


def _read_key(settings: Settings) -> _Key:
    if settings.master_key is not None:
        source = "CTS_MASTER_KEY"
        try:
            return _Key(source, key=decode_key(settings.master_key.get_secret_value()))
        except MasterKeyError as error:
            return _Key(source, problem=Finding.failed(f"{source}: {error}"))
    path = settings.resolved_data_dir / KEY_FILE_NAME
    source = str(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        content = path.read_text()
    except FileNotFoundError:
        return _Key(source, missing=True)
    except OSError as error:
        return _Key(source, problem=Finding.failed(f"{source} cannot be read ({error.strerror})"))
    if mode & 0o077:
        return _Key(
            source,
            problem=Finding.failed(
                f"{source} has mode {mode:04o}: only its owner may read it (chmod 600 {path})"
            ),
        )
    try:
        return _Key(f"{source} (mode {mode:04o})", key=decode_key(content))
    except MasterKeyError as error:
        return _Key(source, problem=Finding.failed(f"{source}: {error}"))


async def master_key(settings: Settings, database: Database | None) -> Finding:
    """``database`` None: storage is unreachable, so the canary cannot be opened."""
    found = await asyncio.to_thread(_read_key, settings)
    if found.problem is not None:
        return found.problem
    if database is None:
        unknown = "is unknown: storage is unreachable"
        if found.missing:
            return Finding.warned(
                f"no master key at {found.source} (nor CTS_MASTER_KEY); whether credentials "
                f"were sealed with one {unknown}"
            )
        return Finding.warned(
            f"key read from {found.source}; whether it opens the stored credentials {unknown}"
        )
    pending = settings.resolved_data_dir / NEXT_KEY_FILE_NAME
    if settings.master_key is None and pending.exists():
        return await _interrupted_rotation(database, pending)
    try:
        if found.key is None:
            sealed = await database.read(
                lambda s: s.get(CanaryRecord, MASTER_KEY_CANARY) is not None
            )
            return _missing(found.source, canary_stored=sealed)
        cipher = CredentialCipher(found.key)
        opens = await database.read(lambda session: canary_opens(session, cipher))
    except SQLAlchemyError as error:
        return Finding.warned(
            f"key read from {found.source}; the stored canary could not be read "
            f"({reason(error)}): is the schema at the newest migration?"
        )
    if opens is None:
        return Finding.warned(
            f"key read from {found.source}; no canary is stored yet to prove it (the server "
            "seals one at its next start)"
        )
    if not opens:
        return Finding.failed(
            f"the key from {found.source} does not open the stored canary: it is not the key "
            f"the stored credentials were sealed with (replaced?); {RESTORE}"
        )
    return Finding.passed(f"key from {found.source} opens the stored canary")


async def _interrupted_rotation(database: Database, pending: Path) -> Finding:
    """``master.key.next`` exists: a key rotation was interrupted; the next start settles it."""
    try:
        key = read_key_file(pending)
    except MasterKeyError:
        key = None
    committed = False
    if key is not None:
        cipher = CredentialCipher(key)
        try:
            committed = bool(await database.read(lambda session: canary_opens(session, cipher)))
        except SQLAlchemyError as error:
            return Finding.warned(
                f"{pending} is left by an interrupted key rotation; whether it committed is "
                f"unknown ({reason(error)})"
            )
    outcome = (
        f"it committed: the next start renames {pending.name} over {KEY_FILE_NAME}"
        if committed
        else f"it did not commit: the next start removes {pending.name}"
    )
    return Finding.warned(f"{pending} is left by an interrupted key rotation; {outcome}")


def _missing(source: str, *, canary_stored: bool) -> Finding:
    if canary_stored:
        return Finding.failed(
            f"no master key: {source} does not exist and CTS_MASTER_KEY is not set, but "
            f"credentials were sealed with one; {RESTORE}"
        )
    return Finding.warned(
        f"no master key yet: the server creates {source} (mode 0600) at its first start"
    )
