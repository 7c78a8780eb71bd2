"""``cts vault rotate``: every stored credential (alert channels' secrets included) and the
canary sealed again under a new master key, in one database transaction; afterwards the old key
opens nothing.

Safe against a kill at any point, in this order (``master.key`` holds the key):

1. the new key is written to ``master.key.next`` (0600, synced);
2. one transaction re-seals every credential and the canary with it and commits;
3. ``master.key.next`` is renamed over ``master.key`` (the folder synced).

Killed before 2 commits, the database is still sealed with the old key; after, with the new one;
the canary says which, and the next start (server or rotation) finishes or undoes step 3
(``server.vault.opening.settle_rotation``). Servers must be stopped: the rotation holds the data
folder's vault lock exclusively, which a running server holds shared.

With ``CTS_MASTER_KEY`` the data folder holds no key to replace: the new key is written to the
file the operator names (``--new-key-file``), who then sets ``CTS_MASTER_KEY`` to it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlmodel import Session, select

from server.alerts.model import ChannelRecord
from server.connections.model import ConnectionRecord
from server.storage.database import Database
from server.storage.migrate import upgrade
from server.vault.canary import reseal_canary
from server.vault.cipher import CredentialCipher, SealedValueError
from server.vault.lock import VaultLock
from server.vault.master_key import (
    KEY_FILE_NAME,
    NEXT_KEY_FILE_NAME,
    MasterKeyError,
    decode_key,
    read_key_file,
    sync_folder,
    write_key_file,
)
from server.vault.opening import RESTORE, opens_canary, settle_rotation

#: Where a rotation may be stopped for a test (``cts vault rotate --test-stop-at``).
CHECKPOINTS = ("key-written", "rows-sealed", "committed", "renamed")
SEALED_FIELDS = ("api_key", "api_secret", "api_passphrase")
#: The sealed fields of an alert channel (owner ``alert_channel:<id>:<field>``).
CHANNEL_SEALED_FIELDS = ("secret", "url")
#: Every sealed column the rotation re-seals (a test holds the schema to it).
ROTATED_COLUMNS = frozenset(
    {f"connections.{field}_sealed" for field in SEALED_FIELDS}
    | {f"alert_channels.{field}_sealed" for field in CHANNEL_SEALED_FIELDS}
    | {"canaries.sealed"}
)

ENVIRONMENT_KEY = (
    "the master key comes from CTS_MASTER_KEY, which this command cannot change: run "
    "`cts vault rotate --new-key-file FILE` (FILE must not exist; it receives the new key with "
    "mode 0600) and set CTS_MASTER_KEY to the content of FILE before the next start; or unset "
    "CTS_MASTER_KEY and keep the key in {key_file} (mode 0600)"
)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a finished rotation did."""

    connections: int  # connections with at least one credential
    credentials: int  # sealed values re-sealed (the canary not counted)
    key_file: Path  # where the new key is
    from_environment: bool
    settled: str | None  # an earlier, interrupted rotation finished or undone first
    channel_secrets: int = 0  # alert channels' sealed secrets and URLs re-sealed

    def report(self) -> str:
        lines = [self.settled] if self.settled else []
        lines.append(
            f"master key rotated: {_count(self.credentials, 'credential')} of "
            f"{_count(self.connections, 'connection')}"
            + (
                f", {_count(self.channel_secrets, 'alert channel secret')}"
                if self.channel_secrets
                else ""
            )
            + " and the canary are now sealed with a "
            f"new key, in {self.key_file} "
            "(mode 0600); the old key opens none of them."
        )
        if self.from_environment:
            lines.append(
                "Set CTS_MASTER_KEY to the content of that file before the next start (the "
                "server refuses the old key), keep the key where you keep secrets, then delete "
                "the file."
            )
        else:
            lines.append(
                "Back up the new key now; keep the old one only as long as you keep database "
                "backups made before this rotation."
            )
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _no_checkpoint(_name: str) -> None:
    pass


def rotate(
    db: Database,
    data_dir: Path,
    configured: SecretStr | None,
    *,
    new_key_file: Path | None = None,
    checkpoint: Callable[[str], None] = _no_checkpoint,
) -> Rotation:
    """Rotate the master key of ``data_dir`` and ``db`` (see the module's docstring)."""
    key_file = data_dir / KEY_FILE_NAME
    if configured is None and new_key_file is not None:
        raise MasterKeyError(
            f"--new-key-file is only for a key given by CTS_MASTER_KEY; this installation's key "
            f"is {key_file}, where the rotation puts the new key"
        )
    if configured is not None and new_key_file is None:
        raise MasterKeyError(ENVIRONMENT_KEY.format(key_file=key_file))
    if configured is None and not (key_file.exists() or (data_dir / NEXT_KEY_FILE_NAME).exists()):
        raise MasterKeyError(
            f"no master key at {key_file}: nothing to rotate (the server creates the key at its "
            "first start)"
        )
    lock = VaultLock.for_rotation(data_dir)
    try:
        upgrade(db.engine)
        if configured is not None:
            assert new_key_file is not None
            return _rotate_configured(db, configured, new_key_file, checkpoint)
        return _rotate_file(db, data_dir, checkpoint)
    finally:
        lock.release()


def _rotate_file(db: Database, data_dir: Path, checkpoint: Callable[[str], None]) -> Rotation:
    settled = settle_rotation(db, data_dir)
    key_file = data_dir / KEY_FILE_NAME
    old = read_key_file(key_file)
    if old is None:
        raise MasterKeyError(
            f"no master key at {key_file}: nothing to rotate; if credentials were sealed, "
            + RESTORE.format(key_file=key_file)
        )
    _require_opens(db, old, str(key_file), key_file)
    new = secrets.token_bytes(32)
    pending = data_dir / NEXT_KEY_FILE_NAME
    write_key_file(pending, new)
    checkpoint("key-written")
    connections, credentials, channel_secrets = _reseal(db, old, new, checkpoint)
    checkpoint("committed")
    os.replace(pending, key_file)
    sync_folder(data_dir)
    checkpoint("renamed")
    return Rotation(connections, credentials, key_file, False, settled, channel_secrets)


def _rotate_configured(
    db: Database, configured: SecretStr, new_key_file: Path, checkpoint: Callable[[str], None]
) -> Rotation:
    target = new_key_file.expanduser().resolve()
    if target.exists():
        earlier = read_key_file(target)
        if earlier is not None and opens_canary(db, earlier):
            raise MasterKeyError(
                f"the database is already sealed with the key in {target} (an earlier rotation "
                "committed): set CTS_MASTER_KEY to the content of that file"
            )
        raise MasterKeyError(
            f"{target} already exists and does not open the database (a key left by a rotation "
            "that did not commit, or another file): remove it or name a file that does not exist"
        )
    if not target.parent.is_dir():
        raise MasterKeyError(f"{target.parent} is not a folder: name a file in an existing one")
    old = decode_key(configured.get_secret_value())
    _require_opens(db, old, "CTS_MASTER_KEY", None)
    new = secrets.token_bytes(32)
    write_key_file(target, new)
    checkpoint("key-written")
    connections, credentials, channel_secrets = _reseal(db, old, new, checkpoint)
    checkpoint("committed")
    return Rotation(connections, credentials, target, True, None, channel_secrets)


def _require_opens(db: Database, key: bytes, source: str, key_file: Path | None) -> None:
    if opens_canary(db, key) is False:
        raise MasterKeyError(
            f"the master key from {source} does not open the stored canary, so it cannot be "
            "rotated: " + RESTORE.format(key_file=key_file or KEY_FILE_NAME)
        )


def _reseal_fields(
    record: object,
    owner: str,
    fields: tuple[str, ...],
    what: str,
    ciphers: tuple[CredentialCipher, CredentialCipher],
) -> int:
    """``record``'s sealed fields (``<field>_sealed``, owner ``<owner>:<field>``) under the
    new key: how many there were. ``what`` names the record in the refusal."""
    old_cipher, new_cipher = ciphers
    count = 0
    for field in fields:
        sealed = getattr(record, f"{field}_sealed")
        if sealed is None:
            continue
        try:
            plaintext = old_cipher.open(sealed, owner=f"{owner}:{field}")
        except SealedValueError:
            raise MasterKeyError(
                f"the {field} of {what} does not open with the current master key: nothing was "
                "changed"
            ) from None
        setattr(record, f"{field}_sealed", new_cipher.seal(plaintext, owner=f"{owner}:{field}"))
        count += 1
    return count


def _reseal(
    db: Database, old: bytes, new: bytes, checkpoint: Callable[[str], None]
) -> tuple[int, int, int]:
    """Every credential, alert channel secret and the canary opened with ``old`` and sealed
    with ``new``, in one committed transaction; nothing changes when any of them does not open:
    how many connections, their credentials and the channels' secrets."""
    old_cipher, new_cipher = CredentialCipher(old), CredentialCipher(new)

    def work(session: Session) -> tuple[int, int, int]:
        connections = credentials = 0
        ciphers = (old_cipher, new_cipher)
        for record in session.exec(select(ConnectionRecord)).all():
            owner = f"connection:{record.id}"
            what = f"connection {record.id}"
            sealed_here = _reseal_fields(record, owner, SEALED_FIELDS, what, ciphers)
            if sealed_here:
                session.add(record)
                connections += 1
                credentials += sealed_here
        channel_secrets = 0
        for channel in session.exec(select(ChannelRecord)).all():
            owner, what = f"alert_channel:{channel.id}", f"alert channel {channel.id}"
            channel_secrets += _reseal_fields(channel, owner, CHANNEL_SEALED_FIELDS, what, ciphers)
            session.add(channel)
        try:
            reseal_canary(session, old_cipher, new_cipher)
        except SealedValueError:
            raise MasterKeyError(
                "the stored canary does not open with the current master key: nothing was changed"
            ) from None
        session.flush()
        checkpoint("rows-sealed")  # written, not yet committed
        return connections, credentials, channel_secrets

    return db.write_now(work)
