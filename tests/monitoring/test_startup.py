"""Start-up checks against real storage (SQLite and PostgreSQL), real files and modes, a real
Envoy, a real simulator and a real server; ``cts verify`` as a process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.engine.v1 import engine_pb2, engine_pb2_grpc
from pydantic import SecretStr

from server.app import prepare_storage
from server.monitoring.check import CheckResult, CheckStatus
from server.monitoring.file_checks import disk_space
from server.monitoring.startup import CHECKS, StartupChecks, StartupReport
from server.settings import Settings
from server.storage.database import Database
from server.storage.migrate import downgrade
from tests.conftest import auth, make_settings
from tests.connections.conftest import Desk
from tests.support.cli import run_cts
from tests.support.envoy_process import EnvoyProcess
from tests.support.ports import free_port
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread


@pytest.fixture
def prepared(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    """A data folder and SQLite database as the server prepares them at its first start."""
    settings = make_settings(tmp_path / "data")
    database, _ = prepare_storage(settings)
    yield settings, database
    database.close()


async def verify(settings: Settings, database: Database | None, **runtime: Any) -> StartupReport:
    return await StartupChecks(settings, database, **runtime).run()


def check(report: StartupReport, name: str) -> CheckResult:
    [found] = [c for c in report.checks if c.name == name]
    return found


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


async def test_every_check_passes_on_a_freshly_prepared_installation(
    tmp_path: Path, sim: SimulatorThread
) -> None:
    settings = make_settings(tmp_path / "data", simulator_url=sim.base_url)
    database, _ = prepare_storage(settings)
    envoy = EnvoyProcess(settings).start()
    try:
        report = await verify(
            settings, database, clock_offsets=lambda: {"binance": 40}, failed_engines=list
        )
    finally:
        envoy.stop()
        database.close()
    assert [c.name for c in report.checks] == list(CHECKS)
    assert report.skipped == ()
    assert all(c.status is CheckStatus.PASS for c in report.checks), report.checks
    assert report.status is CheckStatus.PASS
    assert all(c.duration_ms >= 0 for c in report.checks)
    assert "answers (select 1 in" in check(report, "storage").detail
    assert re.fullmatch(r"at revision \d{4}, the newest", check(report, "schema").detail)
    assert "opens the stored canary" in check(report, "master_key").detail
    assert "mode 0700: private to its owner" in check(report, "data_folder").detail
    assert "Envoy is ready" in check(report, "envoy").detail
    assert sim.base_url in check(report, "simulator").detail
    assert "binance +40 ms" in check(report, "clock_offsets").detail


async def test_replacing_the_master_key_file_fails_the_master_key_check(
    prepared: tuple[Settings, Database],
) -> None:
    settings, database = prepared
    key_file = settings.resolved_data_dir / "master.key"
    original = key_file.read_text().strip()
    assert check(await verify(settings, database), "master_key").status is CheckStatus.PASS

    replacement = new_key()
    key_file.write_text(replacement + "\n")  # keeps the file's 0600
    report = await verify(settings, database)
    found = check(report, "master_key")
    assert found.status is CheckStatus.FAIL and report.status is CheckStatus.FAIL
    assert "does not open the stored canary" in found.detail
    assert "restore the key the credentials were sealed with" in found.detail
    for result in report.checks:
        assert original not in result.detail and replacement not in result.detail


async def test_a_missing_key_file_fails_once_credentials_were_sealed(
    prepared: tuple[Settings, Database],
) -> None:
    settings, database = prepared
    (settings.resolved_data_dir / "master.key").unlink()
    found = check(await verify(settings, database), "master_key")
    assert found.status is CheckStatus.FAIL
    assert "no master key" in found.detail and "restore" in found.detail


async def test_a_key_file_readable_by_others_fails_the_master_key_check(
    prepared: tuple[Settings, Database],
) -> None:
    settings, database = prepared
    key_file = settings.resolved_data_dir / "master.key"
    key_file.chmod(0o644)
    found = check(await verify(settings, database), "master_key")
    assert found.status is CheckStatus.FAIL
    assert f"{key_file} has mode 0644" in found.detail and "chmod 600" in found.detail


async def test_a_key_from_the_environment_is_proven_by_the_canary(tmp_path: Path) -> None:
    key = new_key()
    settings = make_settings(tmp_path / "data", master_key=SecretStr(key))
    database, _ = prepare_storage(settings)
    try:
        found = check(await verify(settings, database), "master_key")
        assert found.status is CheckStatus.PASS and "CTS_MASTER_KEY" in found.detail
        other = settings.model_copy(update={"master_key": SecretStr(new_key())})
        report = await verify(other, database)
        assert check(report, "master_key").status is CheckStatus.FAIL
        assert all(key not in c.detail for c in report.checks)
    finally:
        database.close()


@pytest.mark.parametrize("mode", [0o755, 0o777])
async def test_a_world_readable_data_folder_fails_the_mode_check(
    prepared: tuple[Settings, Database], mode: int
) -> None:
    settings, database = prepared
    folder = settings.resolved_data_dir
    assert check(await verify(settings, database), "data_folder").status is CheckStatus.PASS
    (folder / "cts.db").chmod(0o644)  # as SQLite creates it under the usual umask (022)
    assert (
        "shielded by the folder: cts.db (0644)"
        in check(await verify(settings, database), "data_folder").detail
    )
    folder.chmod(mode)
    report = await verify(settings, database)
    found = check(report, "data_folder")
    assert found.status is CheckStatus.FAIL and report.status is CheckStatus.FAIL
    assert f"has mode {mode:04o}: other users can list" in found.detail
    assert f"chmod 700 {folder}" in found.detail
    assert "open to other users: cts.db (0644)" in found.detail
    assert "master.key" not in found.detail  # 0600 stays private whatever the folder


async def test_a_folder_open_to_its_group_warns(prepared: tuple[Settings, Database]) -> None:
    settings, database = prepared
    (settings.resolved_data_dir / "cts.db").chmod(0o644)
    settings.resolved_data_dir.chmod(0o750)
    found = check(await verify(settings, database), "data_folder")
    assert found.status is CheckStatus.WARN
    assert "its group can list and enter it" in found.detail
    assert "open to its group: cts.db (0644)" in found.detail


async def test_the_schema_check_names_the_revisions_behind(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", database_url=database_url)
    database, _ = prepare_storage(settings)
    try:
        report = await verify(settings, database)
        assert check(report, "storage").status is CheckStatus.PASS
        assert check(report, "schema").status is CheckStatus.PASS
        assert check(report, "master_key").status is CheckStatus.PASS

        downgrade(database.engine, "0004")  # before the canary existed
        report = await verify(settings, database)
        schema = check(report, "schema")
        assert schema.status is CheckStatus.FAIL
        assert re.fullmatch(
            r"at revision 0004; the newest is \d{4}: run `cts db upgrade` \(the server also "
            r"migrates at its start\)",
            schema.detail,
        )
        key = check(report, "master_key")
        assert (
            key.status is CheckStatus.WARN and "the stored canary could not be read" in key.detail
        )
    finally:
        database.close()


async def test_unreachable_storage_fails_and_skips_what_needs_it(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://cts@127.0.0.1:{free_port()}/cts"
    settings = make_settings(tmp_path / "data", database_url=url)
    database = Database(url, threads=1)
    try:
        report = await verify(settings, database)
    finally:
        database.close()
    storage = check(report, "storage")
    assert storage.status is CheckStatus.FAIL
    assert storage.detail.startswith("PostgreSQL at 127.0.0.1:")
    assert "does not answer: " in storage.detail and "Error" not in storage.detail
    assert ("schema", "storage is unreachable") in [(s.name, s.reason) for s in report.skipped]
    assert check(report, "master_key").status is CheckStatus.WARN


async def test_envoy_not_running_warns(prepared: tuple[Settings, Database]) -> None:
    settings, database = prepared  # its Envoy admin port is free: nothing listens there
    found = check(await verify(settings, database), "envoy")
    assert found.status is CheckStatus.WARN
    assert "Envoy is not running" in found.detail
    assert "REST clients cannot reach CTS" in found.detail


async def test_the_simulator_answers_and_a_silent_one_warns(
    prepared: tuple[Settings, Database], sim: SimulatorThread
) -> None:
    settings, database = prepared
    report = await verify(settings, database)
    assert "simulator" in [s.name for s in report.skipped]  # none configured

    answering = settings.model_copy(update={"simulator_url": sim.base_url})
    found = check(await verify(answering, database), "simulator")
    assert found.status is CheckStatus.PASS

    silent_url = f"http://127.0.0.1:{free_port()}"
    silent = settings.model_copy(update={"simulator_url": silent_url})
    found = check(await verify(silent, database), "simulator")
    assert found.status is CheckStatus.WARN
    assert f"the exchange simulator at {silent_url} does not answer" in found.detail


def test_disk_space_warns_and_fails_below_its_thresholds(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    plenty = disk_space(tmp_path, warn_below=free // 4, fail_below=free // 8)
    low = disk_space(tmp_path, warn_below=free * 4, fail_below=free // 8)
    full = disk_space(tmp_path, warn_below=free * 8, fail_below=free * 4)
    assert plenty.status is CheckStatus.PASS and "free of" in plenty.detail
    assert low.status is CheckStatus.WARN and "free some space soon" in low.detail
    assert full.status is CheckStatus.FAIL and "free space now" in full.detail


async def test_runtime_checks_outside_the_server_are_skipped(
    prepared: tuple[Settings, Database],
) -> None:
    settings, database = prepared
    report = await verify(settings, database)
    skipped = {s.name: s.reason for s in report.skipped}
    assert set(skipped) == {"simulator", "clock_offsets", "engines"}
    assert skipped["engines"].startswith("only the running server knows it")


async def test_the_running_server_reports_clock_offsets_and_engines_in_error(
    tmp_path: Path, sim: SimulatorThread
) -> None:
    settings = make_settings(
        tmp_path / "data",
        simulator_url=sim.base_url,
        demo=False,
        engines=True,
        engine_cycle_seconds=0.1,
        engine_symbols=3,
        engine_history_bars=60,
        engine_retry_seconds=0.2,
    )
    server = ServerThread(settings).start()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            desk = Desk(channel, server, sim)
            desk.faults(exchange="binance", clock_skew_ms=2500)
            desk.faults(exchange="okx", down=True)
            clocked = await desk.connect("binance", desk.account("binance"))
            await desk.test(clocked.id)
            failing = await desk.connect(
                "okx", desk.account("okx"), is_enabled=True, is_active=True
            )
            await engine_in_error(channel, failing.id)

            assert server.server is not None
            running = server.server
            report = server.run(lambda: running.startup_checks().run())
    finally:
        server.stop()
    clock = check(report, "clock_offsets")
    assert clock.status is CheckStatus.WARN
    measured = re.search(r"binance \(simulator\) \+(\d+) ms", clock.detail)
    assert measured is not None and abs(int(measured.group(1)) - 2500) < 500
    assert "beyond ±1000 ms" in clock.detail
    engines = check(report, "engines")
    assert engines.status is CheckStatus.WARN
    assert engines.detail.startswith(f"1 engine in error, retried with back-off: {failing.name}: ")


async def engine_in_error(channel: grpc.aio.Channel, connection_id: str) -> None:
    stub = engine_pb2_grpc.EngineServiceStub(channel)
    stream = stub.WatchEngines(
        engine_pb2.WatchEnginesRequest(connection_id=connection_id), metadata=auth()
    )
    async with asyncio.timeout(30):
        async for message in stream:
            event = message.WhichOneof("event")
            if event == "snapshot":
                states = [e.state for e in message.snapshot.engines]
            elif event == "change":
                states = [message.change.engine.state]
            else:
                continue
            if "error" in states:
                stream.cancel()
                return


def cts(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Envoy's admin port: the test's own (free); the table wraps details at the terminal's width.
    return run_cts(data_dir, *args, CTS_ENVOY_ADMIN_PORT=str(free_port()), COLUMNS="400")


def test_cts_verify_exits_zero_unless_a_check_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = cts(data, "verify")
    assert missing.returncode == 1, missing.stderr
    assert re.search(r"^FAIL\s+storage\s+\d+ ms\s+no database at ", missing.stdout, re.M)
    assert not data.exists()  # verifying creates nothing

    database, _ = prepare_storage(make_settings(data))
    database.close()
    sound = cts(data, "verify")
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert re.search(r"^PASS\s+master_key\s+\d+ ms\s+key from ", sound.stdout, re.M)
    assert re.search(r"^WARN\s+envoy\s+\d+ ms\s+Envoy is not running", sound.stdout, re.M)
    assert re.search(r"^SKIP\s+engines\s+only the running server", sound.stdout, re.M)

    data.chmod(0o777)
    opened = cts(data, "verify", "--json")
    assert opened.returncode == 1, opened.stderr
    report = json.loads(opened.stdout)
    assert report["status"] == "fail"
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["data_folder"] == "fail" and statuses["storage"] == "pass"
    assert {"name", "status", "detail", "duration_ms"} == set(report["checks"][0])
    assert [s["name"] for s in report["skipped"]] == ["simulator", "clock_offsets", "engines"]
