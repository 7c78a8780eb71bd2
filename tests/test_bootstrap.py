"""First start: the admin token and the master key, and the token command."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc
from sqlmodel import select

from server.access.model import ApiToken
from server.access.tokens import ensure_admin_token, hash_token
from server.app import prepare_storage
from server.vault.master_key import MasterKeyError, load_master_key
from tests.conftest import make_settings
from tests.support.cli import run_cts
from tests.support.server_thread import ServerThread


async def list_status(target: str, token: str) -> grpc.StatusCode:
    """The status of a ListConnections call made with ``token``."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        try:
            await stub.ListConnections(
                pb.ListConnectionsRequest(), metadata=(("authorization", f"Bearer {token}"),)
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_generates_an_admin_token_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", admin_token=None)
    db, bootstrap = prepare_storage(settings)
    db.close()
    token = bootstrap.generated_admin_token
    assert token and token.startswith("cts_") and len(token) > 40
    assert settings.admin_token_file.read_text().strip() == token
    assert mode(settings.admin_token_file) == 0o600
    db, again = prepare_storage(settings)  # a restart: nothing new, nothing printed
    try:
        assert again.generated_admin_token is None
        stored = db.read_now(lambda s: s.exec(select(ApiToken)).all())
        assert [t.token_hash for t in stored] == [hash_token(token)]  # only the hash is stored
        assert all(token not in repr(t) for t in stored)
    finally:
        db.close()


async def test_configured_admin_token_is_used_and_follows_changes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", admin_token="first-configured-token")
    db, bootstrap = prepare_storage(settings)
    try:
        assert bootstrap.generated_admin_token is None
        assert not settings.admin_token_file.exists()
        db.write_now(
            lambda s: ensure_admin_token(s, "second-configured-token", settings.admin_token_file)
        )
    finally:
        db.close()
    thread = ServerThread(
        make_settings(tmp_path / "data", admin_token="second-configured-token")
    ).start()
    try:
        assert await list_status(thread.target, "second-configured-token") == grpc.StatusCode.OK
        assert (
            await list_status(thread.target, "first-configured-token")
            == grpc.StatusCode.UNAUTHENTICATED
        )
    finally:
        thread.stop()


def test_master_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key = load_master_key(None, tmp_path)
    assert len(key) == 32
    assert mode(tmp_path / "master.key") == 0o600
    assert load_master_key(None, tmp_path) == key


def test_configured_master_key_wins_and_is_validated(tmp_path: Path) -> None:
    from pydantic import SecretStr

    configured = os.urandom(32)
    text = base64.urlsafe_b64encode(configured).decode().rstrip("=")
    assert load_master_key(SecretStr(text), tmp_path) == configured
    assert not (tmp_path / "master.key").exists()
    with pytest.raises(MasterKeyError, match="32 bytes"):
        load_master_key(SecretStr(base64.urlsafe_b64encode(b"short").decode()), tmp_path)
    with pytest.raises(MasterKeyError, match="base64"):
        load_master_key(SecretStr("not base64 at all!!"), tmp_path)


async def test_token_command_creates_lists_and_revokes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run_cts(data, "token", "create", "--name", "ci-bot", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("cts_")
    thread = ServerThread(make_settings(data, admin_token=None)).start()
    try:
        assert await list_status(thread.target, token) == grpc.StatusCode.OK
        listed = run_cts(data, "token", "list")
        assert (
            "ci-bot" in listed.stdout and token not in listed.stdout and "active" in listed.stdout
        )
        assert "viewer" in listed.stdout
        again = run_cts(data, "token", "create", "ci-bot", "--role", "admin")
        assert again.returncode == 1  # names are unique
        assert run_cts(data, "token", "revoke", "ci-bot").returncode == 0
        assert await list_status(thread.target, token) == grpc.StatusCode.UNAUTHENTICATED
        assert "revoked" in run_cts(data, "token", "list").stdout
    finally:
        thread.stop()
