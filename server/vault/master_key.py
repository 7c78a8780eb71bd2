"""Where the master key comes from: ``CTS_MASTER_KEY`` or a 0600 key file in the data folder.

``master.key.next`` exists only while a key rotation is under way (or was interrupted): the
canary decides which of the two keys opens the database (see ``server.vault.opening``).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

KEY_FILE_NAME = "master.key"
NEXT_KEY_FILE_NAME = "master.key.next"


class MasterKeyError(Exception):
    pass


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError("the master key is not valid url-safe base64") from exc
    if len(key) != 32:
        raise MasterKeyError(f"the master key must decode to 32 bytes, not {len(key)}")
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def write_private_file(path: Path, content: str) -> None:
    """Create ``path`` with mode 0600 (never world- or group-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to a new 0600 file and make it durable (the file and its folder synced)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (encode_key(key) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or removal in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path) -> bytes | None:
    """The key in ``path``, or None when there is no such file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return decode_key(text)
    except MasterKeyError as error:
        raise MasterKeyError(f"{path}: {error}") from None


def load_master_key(configured: SecretStr | None, data_dir: Path) -> bytes:
    """The configured key, else the key file's, else a new key written to the key file."""
    if configured is not None:
        return decode_key(configured.get_secret_value())
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return decode_key(path.read_text())
    key = secrets.token_bytes(32)
    try:
        write_private_file(path, encode_key(key) + "\n")
    except FileExistsError:  # another process created it first: use theirs
        return decode_key(path.read_text())
    return key
