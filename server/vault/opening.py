"""Which master key opens the stored credentials, decided at start (server and rotation).

The stored canary is the proof: a key that does not open it opens no credential either. A key
is created only for a database that holds no canary (nothing was ever sealed); a missing or
wrong key is refused with what to do, never replaced.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import SecretStr

from server.storage.database import Database
from server.vault.canary import MASTER_KEY_CANARY, CanaryRecord, canary_opens
from server.vault.cipher import CredentialCipher
from server.vault.master_key import (
    KEY_FILE_NAME,
    NEXT_KEY_FILE_NAME,
    MasterKeyError,
    decode_key,
    load_master_key,
    read_key_file,
    sync_folder,
)

log = logging.getLogger("cts.vault")

RESTORE = (
    "restore the key the credentials were sealed with ({key_file} from a backup, mode 0600, or "
    "CTS_MASTER_KEY); the server never creates a new key for sealed credentials, since it "
    "would open none of them"
)


def canary_stored(db: Database) -> bool:
    return db.read_now(lambda s: s.get(CanaryRecord, MASTER_KEY_CANARY) is not None)


def opens_canary(db: Database, key: bytes) -> bool | None:
    """True or False: whether ``key`` opens the stored canary; None: no canary is stored."""
    cipher = CredentialCipher(key)
    return db.read_now(lambda s: canary_opens(s, cipher))


def settle_rotation(db: Database, data_dir: Path) -> str | None:
    """Finish or undo a key rotation that ``master.key.next`` shows was interrupted; what was
    done, in words (None: there was none).

    The rotation wrote ``master.key.next`` before its database commit and renames it over
    ``master.key`` after: when the new key opens the canary, the commit happened and the rename
    is done now; otherwise it did not, and the unused new key is removed.
    """
    pending = data_dir / NEXT_KEY_FILE_NAME
    if not pending.exists():
        return None
    current_file = data_dir / KEY_FILE_NAME
    try:
        new = read_key_file(pending)
    except MasterKeyError:
        new = None  # written only in part: the rotation never reached its commit
    if new is not None and opens_canary(db, new):
        os.replace(pending, current_file)
        sync_folder(data_dir)
        done = f"an interrupted master-key rotation was finished: {current_file} holds the new key"
        log.warning(done)
        return done
    current = read_key_file(current_file)
    # The rotation's commit always leaves a canary sealed with the new key.
    if not canary_stored(db) or (current is not None and opens_canary(db, current)):
        pending.unlink()
        sync_folder(data_dir)
        done = (
            "an interrupted master-key rotation was undone (it had not committed): "
            f"{current_file} stays the key"
        )
        log.warning(done)
        return done
    raise MasterKeyError(
        f"neither {current_file} nor {pending} opens the stored canary; "
        + RESTORE.format(key_file=current_file)
    )


def open_vault(db: Database, configured: SecretStr | None, data_dir: Path) -> CredentialCipher:
    """The cipher of the key that opens the stored credentials (``db`` at the newest schema)."""
    key_file = data_dir / KEY_FILE_NAME
    if configured is not None:
        source = "CTS_MASTER_KEY"
        key = decode_key(configured.get_secret_value())
    else:
        source = str(key_file)
        settle_rotation(db, data_dir)
        found = read_key_file(key_file)
        if found is None:
            if canary_stored(db):
                raise MasterKeyError(
                    f"no master key: {key_file} does not exist and CTS_MASTER_KEY is not set, "
                    "but the database holds credentials sealed with a key; "
                    + RESTORE.format(key_file=key_file)
                )
            found = load_master_key(None, data_dir)  # a new database: a new key
        key = found
    if opens_canary(db, key) is False:
        hint = (
            "; after `cts vault rotate --new-key-file FILE`, CTS_MASTER_KEY must be the key in FILE"
            if configured is not None
            else ""
        )
        raise MasterKeyError(
            f"the master key from {source} does not open the stored canary: it is not the key "
            f"the stored credentials were sealed with; {RESTORE.format(key_file=key_file)}{hint}"
        )
    return CredentialCipher(key)
