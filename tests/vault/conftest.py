"""A data folder and database holding sealed credentials, ``cts vault rotate`` as a process
(run to its end, or stopped at one of its checkpoints to be killed), and the server's own path
to open the vault and each credential."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select

from server.alerts.model import ChannelRecord
from server.alerts.routing import RoutingStore
from server.app import prepare_storage
from server.connections.model import ConnectionRecord
from server.connections.service import Connections
from server.connections.view import ConnectionView
from server.exchange.access import Credentials
from server.settings import Settings
from server.storage.database import Database
from server.storage.types import utc_now
from server.streams.topic import Topic
from server.vault.canary import CanaryRecord
from server.vault.cipher import CredentialCipher, SealedValueError
from server.vault.master_key import (
    KEY_FILE_NAME,
    NEXT_KEY_FILE_NAME,
    load_master_key,
    read_key_file,
)
from server.vault.rotation import CHANNEL_SEALED_FIELDS, SEALED_FIELDS
from tests.conftest import make_settings
from tests.support.cli import REPOSITORY

ACCOUNTS = (
    {
        "name": "okx main",
        "exchange": "okx",
        "api_type": "spot",
        "api_key": "OKX-KEY-A1B2C3D4",
        "api_secret": "OKX-SECRET-E5F6G7H8",
        "api_passphrase": "OKX-PASS-I9J0",
    },
    {
        "name": "binance main",
        "exchange": "binance",
        "api_type": "spot",
        "api_key": "BINANCE-KEY-K1L2M3N4",
        "api_secret": "BINANCE-SECRET-O5P6Q7R8",
    },
    {"name": "bybit without keys", "exchange": "bybit", "api_type": "spot"},
)
# Alert channels: a signed webhook (its secret sealed) and Slack (its URL is the secret).
CHANNELS = (
    {
        "name": "ops webhook",
        "kind": "webhook",
        "url": "https://hooks.example.test/cts",
        "secret": "WEBHOOK-HMAC-S3CR3T",
    },
    {
        "name": "ops slack",
        "kind": "slack",
        "url": "https://hooks.slack.example.test/services/T0/B0/SLACK-URL-TOKEN",
    },
)
PLAINTEXTS = (
    *(v for a in ACCOUNTS for k, v in a.items() if k.startswith("api_") and "-" in v),
    "WEBHOOK-HMAC-S3CR3T",
    CHANNELS[1]["url"],
)
CANARY_OWNER = "canary:master_key"


@dataclass
class Vault:
    """An installation whose database holds the credentials of ``ACCOUNTS``."""

    settings: Settings
    expected: dict[str, Credentials | None] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.settings.resolved_data_dir

    @property
    def key_file(self) -> Path:
        return self.data_dir / KEY_FILE_NAME

    @property
    def next_key_file(self) -> Path:
        return self.data_dir / NEXT_KEY_FILE_NAME

    def key(self) -> bytes:
        key = read_key_file(self.key_file)
        assert key is not None
        return key

    def command(self, *args: str, **env: str) -> tuple[list[str], dict[str, str]]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
        environment.update(
            CTS_DATA_DIR=str(self.data_dir),
            CTS_DATABASE_URL=self.settings.resolved_database_url,
            **env,
        )
        return [sys.executable, "-m", "server.cli", *args], environment

    def cts(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        argv, environment = self.command(*args, **env)
        return subprocess.run(
            argv, env=environment, cwd=REPOSITORY, capture_output=True, text=True, timeout=60
        )

    def stopped_rotation(self, point: str, **env: str) -> subprocess.Popen[bytes]:
        """``cts vault rotate`` stopped (SIGSTOP, by itself) at ``point``, still holding what it
        holds there: to be killed, or continued."""
        argv, environment = self.command("vault", "rotate", "--test-stop-at", point, **env)
        log = self.data_dir.parent / f"rotate-{point}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                argv, env=environment, cwd=REPOSITORY, stdout=output, stderr=output
            )
        watchdog = threading.Timer(60, process.kill)  # a rotation that never stops fails
        watchdog.start()
        try:
            _, status = os.waitpid(process.pid, os.WUNTRACED)  # returns once stopped or ended
        finally:
            watchdog.cancel()
        assert os.WIFSTOPPED(status), f"the rotation did not stop at {point}: {log.read_text()}"
        return process

    async def readable(self) -> dict[str, Credentials | None]:
        """Every connection's credentials, opened as the server opens them at its start."""
        db, _ = prepare_storage(self.settings)
        try:
            cipher = CredentialCipher(load_master_key(self.settings.master_key, self.data_dir))
            connections = Connections(db, cipher, Topic[ConnectionView]("connections"))
            await connections.load()
            return {
                str(view.id): (await connections.target(str(view.id))).credentials
                for view in connections.views()
            }
        finally:
            db.close()

    def sealed(self) -> list[tuple[str, bytes]]:
        """Every sealed value in the database with its owner, the canary included."""
        db = Database(self.settings.resolved_database_url, threads=1)
        try:
            records = db.read_now(
                lambda s: s.exec(select(ConnectionRecord).order_by(ConnectionRecord.id)).all()
            )
            canaries = db.read_now(lambda s: s.exec(select(CanaryRecord)).all())
            channels = db.read_now(
                lambda s: s.exec(select(ChannelRecord).order_by(ChannelRecord.id)).all()
            )
        finally:
            db.close()
        values = [
            (f"connection:{r.id}:{f}", getattr(r, f"{f}_sealed"))
            for r in records
            for f in SEALED_FIELDS
            if getattr(r, f"{f}_sealed") is not None
        ]
        values += [
            (f"alert_channel:{c.id}:{f}", getattr(c, f"{f}_sealed"))
            for c in channels
            for f in CHANNEL_SEALED_FIELDS
            if getattr(c, f"{f}_sealed") is not None
        ]
        return values + [(CANARY_OWNER, c.sealed) for c in canaries]

    def opens_all(self, key: bytes) -> bool:
        """True: ``key`` opens every sealed value; False: it opens none (anything else fails)."""
        cipher = CredentialCipher(key)
        opened = []
        for owner, sealed in self.sealed():
            try:
                cipher.open(sealed, owner=owner)
                opened.append(True)
            except SealedValueError:
                opened.append(False)
        assert len(set(opened)) == 1, f"the key opens {sum(opened)} of {len(opened)} values"
        return opened[0]


async def make_vault(settings: Settings) -> Vault:
    db, _ = prepare_storage(settings)
    vault = Vault(settings)
    try:
        cipher = CredentialCipher(load_master_key(settings.master_key, vault.data_dir))
        connections = Connections(db, cipher, Topic[ConnectionView]("connections"))
        await connections.load()
        for account in ACCOUNTS:
            await connections.create(account)
        store = RoutingStore(db, cipher)
        for channel in CHANNELS:
            await store.save_channel(None, channel, utc_now())
    finally:
        db.close()
    vault.expected = await vault.readable()
    assert sum(c is not None for c in vault.expected.values()) == 2
    return vault


@pytest.fixture
async def vault(tmp_path: Path, database_url: str) -> Vault:
    """On SQLite and on PostgreSQL; the key in ``master.key``."""
    return await make_vault(make_settings(tmp_path / "data", database_url=database_url))
