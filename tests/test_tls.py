"""TLS: `cts cert self-signed`, the checks of CTS_TLS_CERT / CTS_TLS_KEY, and the whole stack
(`cts up`: Envoy's REST and native gRPC, the dashboard) over TLS."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc

from server.settings import Settings
from server.tls import CERT_FILE, KEY_FILE, TlsError, TlsFiles, self_signed, tls_files
from tests.support.stack_process import REPOSITORY, Up


def cts(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CTS_")}
    clean.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=REPOSITORY,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cert_self_signed_writes_a_private_pair_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = cts("cert", "self-signed", env={"CTS_DATA_DIR": str(data)})
    assert made.returncode == 0, made.stderr
    cert, key = data / CERT_FILE, data / KEY_FILE
    assert f"export CTS_TLS_CERT={cert}" in made.stdout.splitlines()
    assert f"export CTS_TLS_KEY={key}" in made.stdout.splitlines()
    for path in (cert, key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert "PRIVATE KEY" not in made.stdout
    # The pair is what the settings accept.
    assert tls_files(Settings(tls_cert=cert, tls_key=key)) == TlsFiles(cert, key)

    before = cert.read_bytes(), key.read_bytes()
    again = cts("cert", "self-signed", env={"CTS_DATA_DIR": str(data)})
    assert again.returncode == 1
    assert "already exist" in again.stderr and "--force" in again.stderr
    assert (cert.read_bytes(), key.read_bytes()) == before

    forced = cts("cert", "self-signed", "--force", env={"CTS_DATA_DIR": str(data)})
    assert forced.returncode == 0, forced.stderr
    assert cert.read_bytes() != before[0] and key.read_bytes() != before[1]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_half_a_pair_stops_the_dashboard_at_start_with_a_clear_error(tmp_path: Path) -> None:
    files = self_signed(tmp_path / "data")
    started = cts(
        "webui", env={"CTS_DATA_DIR": str(tmp_path / "data"), "CTS_TLS_CERT": str(files.cert)}
    )
    assert started.returncode == 2
    assert started.stderr.strip().splitlines()[-1] == (
        "error: CTS_TLS_CERT and CTS_TLS_KEY go together: CTS_TLS_KEY is not set "
        "(set both to serve TLS, or neither)"
    )
    assert "Traceback" not in started.stderr


def test_unusable_files_are_named_with_the_reason(tmp_path: Path) -> None:
    files = self_signed(tmp_path / "data")
    other = self_signed(tmp_path / "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a pem file\n")
    locked = tmp_path / "locked.pem"
    locked.write_bytes(encrypted_key())

    def error(cert: Path | None, key: Path | None) -> str:
        with pytest.raises(TlsError) as raised:
            tls_files(Settings(tls_cert=cert, tls_key=key))
        return raised.value.message

    assert "CTS_TLS_CERT is not set" in error(None, files.key)
    missing = tmp_path / "missing.pem"
    assert error(missing, files.key) == f"CTS_TLS_CERT: {missing} does not exist"
    assert error(files.cert, tmp_path) == f"CTS_TLS_KEY: {tmp_path} is a folder, not a file"
    assert error(garbage, files.key).startswith(f"CTS_TLS_CERT: {garbage} holds no PEM certificate")
    assert error(files.cert, garbage).startswith(f"CTS_TLS_KEY: {garbage} holds no usable PEM")
    assert error(files.cert, files.cert).startswith("CTS_TLS_KEY:")  # a certificate, not a key
    assert "protected by a passphrase" in error(files.cert, locked)
    assert error(files.cert, other.key) == (
        f"CTS_TLS_KEY: {other.key} is not the private key of the certificate in CTS_TLS_CERT "
        f"({files.cert})"
    )
    if os.geteuid() != 0:  # root reads any file
        files.key.chmod(0)
        assert (
            error(files.cert, files.key) == f"CTS_TLS_KEY: {files.key} cannot be read by this user"
        )
    # Empty variables mean "not set".
    assert tls_files(Settings(tls_cert="", tls_key="")) is None  # type: ignore[arg-type]


def encrypted_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )


@pytest.fixture
def tls_stack(tmp_path: Path) -> Iterator[tuple[Up, TlsFiles]]:
    files = self_signed(tmp_path / "data")  # the code behind `cts cert self-signed`
    running = Up(
        tmp_path / "data", env={"CTS_TLS_CERT": str(files.cert), "CTS_TLS_KEY": str(files.key)}
    )
    running.wait_for("CTS is running")
    yield running, files
    running.stop()


async def test_the_whole_stack_serves_tls(tls_stack: tuple[Up, TlsFiles], tmp_path: Path) -> None:
    up, files = tls_stack
    http, webui = up.ports["CTS_HTTP_PORT"], up.ports["CTS_WEBUI_PORT"]
    banner = "".join(up.output)
    assert f"https://127.0.0.1:{webui}" in banner
    assert f"https://127.0.0.1:{http}/api/settings/connections" in banner
    token = (tmp_path / "data" / "admin.token").read_text().strip()
    headers = {"authorization": f"Bearer {token}"}
    trusted = ssl.create_default_context(cafile=str(files.cert))

    # REST through Envoy, the certificate checked against the generated one as the CA.
    async with httpx.AsyncClient(verify=trusted, timeout=10) as client:
        listed = await client.get(
            f"https://127.0.0.1:{http}/api/settings/connections", headers=headers
        )
        assert listed.status_code == 200, listed.text
        assert "Demo — simulated exchange" in {c["name"] for c in listed.json()["connections"]}
        # The dashboard over HTTPS: its login page, and a Secure session cookie.
        login = await client.get(f"https://127.0.0.1:{webui}/login")
        assert login.status_code == 200 and "Sign in" in login.text
        cookie = login.headers["set-cookie"].lower()
        assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie

    # Native gRPC through Envoy over TLS.
    credentials = grpc.ssl_channel_credentials(root_certificates=files.cert.read_bytes())
    async with grpc.aio.secure_channel(f"127.0.0.1:{http}", credentials) as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        answer = await stub.ListConnections(
            pb.ListConnectionsRequest(),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        assert "Demo — simulated exchange" in {c.name for c in answer.connections}

    # Plaintext to the TLS ports gets no answer.
    async with httpx.AsyncClient(timeout=10) as plain:
        for port in (http, webui):
            with pytest.raises(httpx.TransportError):
                await plain.get(
                    f"http://127.0.0.1:{port}/api/settings/connections", headers=headers
                )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{http}") as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListConnections(
                pb.ListConnectionsRequest(),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
