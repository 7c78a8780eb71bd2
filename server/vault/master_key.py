"""Where the master key comes from: ``CTS_MASTER_KEY`` or a 0600 key file in the data folder."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

KEY_FILE_NAME = "master.key"


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
