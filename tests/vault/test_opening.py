"""Opening the vault at start: a missing or replaced master key is refused with what to do
(never replaced by a new key while the database holds sealed credentials); what an
interrupted rotation left behind is settled by the canary."""

from __future__ import annotations

import secrets

import pytest

from server.app import prepare_storage
from server.vault.master_key import MasterKeyError, encode_key
from tests.support.ports import free_port
from tests.vault.conftest import Vault


def serve(vault: Vault) -> tuple[int, str]:
    """``cts serve`` on this installation: its exit status and what it wrote to stderr."""
    done = vault.cts(
        "serve",
        CTS_GRPC_PORT=str(free_port()),
        CTS_METRICS_PORT="0",
        CTS_DEMO="false",
        CTS_ENGINES="false",
        CTS_HEALTH_CHECKS="false",
    )
    return done.returncode, done.stderr


async def test_the_server_refuses_to_start_without_the_key_that_sealed_the_credentials(
    vault: Vault,
) -> None:
    vault.key_file.unlink()
    status, stderr = serve(vault)
    assert status == 1
    assert stderr.startswith("error: the server does not start: no master key: ")
    assert f"{vault.key_file} does not exist and CTS_MASTER_KEY is not set" in stderr
    assert "the database holds credentials sealed with a key" in stderr
    assert f"restore the key the credentials were sealed with ({vault.key_file} from a" in stderr
    assert "Traceback" not in stderr
    assert not vault.key_file.exists()  # no new key that would open nothing
    with pytest.raises(MasterKeyError, match="no master key"):
        prepare_storage(vault.settings)
    assert not vault.key_file.exists()


async def test_the_server_refuses_a_replaced_key(vault: Vault) -> None:
    original = vault.key()
    vault.key_file.write_text(encode_key(secrets.token_bytes(32)) + "\n")
    status, stderr = serve(vault)
    assert status == 1
    assert f"the master key from {vault.key_file} does not open the stored canary" in stderr
    assert "Traceback" not in stderr
    vault.key_file.write_text(encode_key(original) + "\n")
    assert await vault.readable() == vault.expected


async def test_a_partly_written_next_key_is_dropped_and_the_key_kept(vault: Vault) -> None:
    """A rotation killed while writing master.key.next never reached its commit."""
    vault.next_key_file.write_text("AbC")
    assert await vault.readable() == vault.expected
    assert not vault.next_key_file.exists()


async def test_when_neither_key_opens_the_canary_both_files_are_named(vault: Vault) -> None:
    vault.next_key_file.write_text(encode_key(secrets.token_bytes(32)) + "\n")
    vault.key_file.write_text(encode_key(secrets.token_bytes(32)) + "\n")
    with pytest.raises(MasterKeyError) as refused:
        prepare_storage(vault.settings)
    assert f"neither {vault.key_file} nor {vault.next_key_file} opens the stored canary" in str(
        refused.value
    )
    assert vault.next_key_file.exists()  # left for the operator to examine
