"""``cts vault rotate`` on SQLite and PostgreSQL: every credential and the canary sealed again
under a new key in one transaction, the old key opening nothing afterwards; a rotation killed
(SIGKILL) at each of its steps leaves every credential readable with the key the data folder
names once the server has opened it; no output ever shows a key."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import LargeBinary

from server.app import prepare_storage
from server.monitoring.check import CheckStatus, Finding
from server.monitoring.master_key_check import master_key
from server.storage.database import Database
from server.storage.metadata import metadata
from server.vault.master_key import MasterKeyError, encode_key, read_key_file
from server.vault.rotation import CHECKPOINTS, ROTATED_COLUMNS
from tests.conftest import make_settings
from tests.support.server_thread import ServerThread
from tests.vault.conftest import PLAINTEXTS, Vault, make_vault


async def verify_master_key(vault: Vault) -> Finding:
    db = Database(vault.settings.resolved_database_url, threads=1)
    try:
        return await master_key(vault.settings, db)
    finally:
        db.close()


def shown(text: str, *keys: bytes) -> list[str]:
    """The keys and plaintexts that ``text`` shows (in any of their encodings)."""
    words = [encode_key(k) for k in keys] + [base64.b64encode(k).decode() for k in keys]
    return [w for w in (*words, *PLAINTEXTS) if w in text]


async def test_rotation_reseals_every_credential_and_the_old_key_opens_nothing(
    vault: Vault,
) -> None:
    old = vault.key()
    before = vault.sealed()
    rotated = vault.cts("vault", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new = vault.key()
    assert new != old
    assert "2 credentials" not in rotated.stdout  # the okx account has three
    assert (
        "5 credentials of 2 connections, 2 alert channel secrets and the canary" in rotated.stdout
    )
    assert str(vault.key_file) in rotated.stdout
    assert shown(rotated.stdout + rotated.stderr, old, new) == []
    assert stat.S_IMODE(vault.key_file.stat().st_mode) == 0o600
    assert not vault.next_key_file.exists()

    after = vault.sealed()
    assert [owner for owner, _ in after] == [owner for owner, _ in before]
    assert all(a != b for (_, a), (_, b) in zip(after, before, strict=True))
    assert vault.opens_all(new) and not vault.opens_all(old)
    assert await vault.readable() == vault.expected


@pytest.mark.parametrize("point", CHECKPOINTS)
async def test_a_rotation_killed_at_any_step_leaves_every_credential_readable(
    vault: Vault, point: str
) -> None:
    old = vault.key()
    rotation = vault.stopped_rotation(point)
    rotation.kill()  # SIGKILL: no clean-up of any kind
    rotation.wait()
    committed = point in ("committed", "renamed")
    new = read_key_file(vault.next_key_file) or vault.key()
    assert new != old
    assert vault.opens_all(new) is committed and vault.opens_all(old) is not committed
    if point != "renamed":  # `cts verify` tells what the next start will do
        finding = await verify_master_key(vault)
        assert finding.status is CheckStatus.WARN
        assert f"{vault.next_key_file} is left by an interrupted key rotation; " in finding.detail
        assert ("it committed" if committed else "it did not commit") in finding.detail

    # What the data folder names once the server has opened the vault: the key that opens all.
    assert await vault.readable() == vault.expected
    assert not vault.next_key_file.exists()
    assert vault.key() == (new if committed else old)
    assert vault.opens_all(vault.key())
    assert stat.S_IMODE(vault.key_file.stat().st_mode) == 0o600


async def test_a_rotation_after_a_killed_one_finishes_it_and_rotates_again(vault: Vault) -> None:
    old = vault.key()
    rotation = vault.stopped_rotation("committed")
    rotation.kill()
    rotation.wait()
    interrupted = read_key_file(vault.next_key_file)
    assert interrupted is not None
    again = vault.cts("vault", "rotate")
    assert again.returncode == 0, again.stderr
    assert "an interrupted master-key rotation was finished" in again.stdout
    newest = vault.key()
    assert newest not in (old, interrupted)
    assert vault.opens_all(newest)
    assert not vault.opens_all(old) and not vault.opens_all(interrupted)
    assert await vault.readable() == vault.expected


async def test_a_server_and_a_rotation_exclude_each_other(vault: Vault) -> None:
    server = ServerThread(vault.settings).start()
    try:
        refused = vault.cts("vault", "rotate")
        assert refused.returncode == 1
        assert f"a CTS server (or another rotation) is using the data folder {vault.data_dir}" in (
            refused.stderr
        )
        assert "stop every server on it" in refused.stderr
    finally:
        server.stop()
    assert not vault.opens_all(secrets.token_bytes(32))
    old = vault.key()
    assert vault.opens_all(old)

    rotation = vault.stopped_rotation("rows-sealed")  # holding the lock and its transaction
    try:
        with pytest.raises(RuntimeError) as failed:
            ServerThread(vault.settings).start()
        assert isinstance(failed.value.__cause__, MasterKeyError)
        assert "a master-key rotation (`cts vault rotate`) is running" in str(
            failed.value.__cause__
        )
    finally:
        rotation.kill()
        rotation.wait()
    server = ServerThread(vault.settings).start()  # the killed rotation's lock is gone
    server.stop()
    assert vault.key() == old and vault.opens_all(old)


async def test_a_key_from_the_environment_is_rotated_only_into_a_named_file(
    tmp_path: Path, database_url: str
) -> None:
    old = secrets.token_bytes(32)
    env = {"CTS_MASTER_KEY": encode_key(old)}
    vault = await make_vault(
        make_settings(tmp_path / "data", database_url=database_url, master_key=encode_key(old))
    )
    assert not vault.key_file.exists()
    before = vault.sealed()

    refused = vault.cts("vault", "rotate", **env)
    assert refused.returncode == 1
    assert "CTS_MASTER_KEY, which this command cannot change" in refused.stderr
    assert "--new-key-file FILE" in refused.stderr
    assert vault.sealed() == before and not vault.key_file.exists()

    new_key_file = tmp_path / "new.key"
    rotated = vault.cts("vault", "rotate", "--new-key-file", str(new_key_file), **env)
    assert rotated.returncode == 0, rotated.stderr
    new = read_key_file(new_key_file)
    assert new is not None and new != old
    assert stat.S_IMODE(new_key_file.stat().st_mode) == 0o600
    assert "Set CTS_MASTER_KEY to the content of that file" in rotated.stdout
    assert shown(rotated.stdout + rotated.stderr, old, new) == []
    assert vault.opens_all(new) and not vault.opens_all(old)
    assert not vault.key_file.exists()

    with pytest.raises(MasterKeyError, match="--new-key-file FILE`, CTS_MASTER_KEY must be"):
        prepare_storage(vault.settings)  # the old key: refused, not used
    vault.settings = vault.settings.model_copy(update={"master_key": SecretStr(encode_key(new))})
    assert await vault.readable() == vault.expected

    again = vault.cts("vault", "rotate", "--new-key-file", str(new_key_file), **env)
    assert again.returncode == 1
    assert f"already sealed with the key in {new_key_file}" in again.stderr


async def test_the_new_key_file_option_is_refused_for_a_key_in_the_data_folder(
    vault: Vault, tmp_path: Path
) -> None:
    refused = vault.cts("vault", "rotate", "--new-key-file", str(tmp_path / "new.key"))
    assert refused.returncode == 1
    assert "--new-key-file is only for a key given by CTS_MASTER_KEY" in refused.stderr
    assert not (tmp_path / "new.key").exists()


def test_rotation_without_a_key_names_the_missing_file(tmp_path: Path) -> None:
    vault = Vault(make_settings(tmp_path / "data"))
    refused = vault.cts("vault", "rotate")
    assert refused.returncode == 1
    assert f"no master key at {vault.key_file}: nothing to rotate" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_every_sealed_column_is_rotated() -> None:
    """A sealed column added later without being rotated would stay under the old key."""
    binary = {
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    assert binary == ROTATED_COLUMNS
