"""TLS for Envoy's public listener and the dashboard: the checked ``CTS_TLS_CERT`` /
``CTS_TLS_KEY`` pair, and a self-signed pair for local use (``cts cert self-signed``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.settings import Settings
from server.vault.master_key import write_private_file

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
SELF_SIGNED_DAYS = 365
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class TlsError(Exception):
    """A TLS setting or file that cannot be used; the message says which and why (never the
    file's content)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TlsFiles:
    """A certificate chain and its private key, both checked: readable, PEM, matching."""

    cert: Path
    key: Path


def tls_files(settings: Settings) -> TlsFiles | None:
    """The configured pair, or None when TLS is off. Raises TlsError when only one of the two
    is set, a file cannot be read, holds no certificate or key, the key is not the
    certificate's, or the certificate has expired."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "CTS_TLS_CERT" if cert is None else "CTS_TLS_KEY"
        raise TlsError(
            f"CTS_TLS_CERT and CTS_TLS_KEY go together: {missing} is not set "
            "(set both to serve TLS, or neither)"
        )
    cert, key = cert.expanduser().resolve(), key.expanduser().resolve()
    chain = _certificates(cert)
    private_key = _private_key(key)
    if _public_bytes(private_key.public_key()) != _public_bytes(chain[0].public_key()):
        raise TlsError(
            f"CTS_TLS_KEY: {key} is not the private key of the certificate in CTS_TLS_CERT ({cert})"
        )
    expires = chain[0].not_valid_after_utc
    if expires <= dt.datetime.now(dt.UTC):
        raise TlsError(f"CTS_TLS_CERT: the certificate in {cert} expired on {expires:%Y-%m-%d}")
    return TlsFiles(cert=cert, key=key)


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsError(f"{variable}: {path} does not exist") from None
    except IsADirectoryError:
        raise TlsError(f"{variable}: {path} is a folder, not a file") from None
    except PermissionError:
        raise TlsError(f"{variable}: {path} cannot be read by this user") from None
    except OSError as exc:
        raise TlsError(f"{variable}: {path} cannot be read ({exc.strerror})") from None


def _certificates(path: Path) -> list[x509.Certificate]:
    data = _read(path, "CTS_TLS_CERT")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsError(
            f"CTS_TLS_CERT: {path} holds no PEM certificate "
            "(expected a '-----BEGIN CERTIFICATE-----' block)"
        ) from None


def _private_key(path: Path) -> PrivateKeyTypes:
    data = _read(path, "CTS_TLS_KEY")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:  # encrypted with a passphrase
        raise TlsError(
            f"CTS_TLS_KEY: {path} is protected by a passphrase; Envoy and the dashboard need "
            "an unencrypted key (keep it mode 0600)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsError(
            f"CTS_TLS_KEY: {path} holds no usable PEM private key "
            "(expected a '-----BEGIN PRIVATE KEY-----' block)"
        ) from None


def _public_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed(data_dir: Path, hosts: Iterable[str] = (), *, force: bool = False) -> TlsFiles:
    """Write a new key (EC P-256) and a self-signed certificate for ``localhost``,
    ``127.0.0.1``, ``::1`` and ``hosts`` into ``data_dir``, both mode 0600. Raises TlsError
    when either file exists, unless ``force``."""
    cert_path, key_path = data_dir / CERT_FILE, data_dir / KEY_FILE
    existing = [str(p) for p in (cert_path, key_path) if p.exists()]
    if existing and not force:
        raise TlsError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "use --force to replace"
        )
    names = list(dict.fromkeys([*LOCAL_NAMES, *hosts]))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CTS local (self-signed)")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in (cert_path, key_path):
        path.unlink(missing_ok=True)
    write_private_file(key_path, key_pem.decode())
    write_private_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM).decode())
    return TlsFiles(cert=cert_path.resolve(), key=key_path.resolve())


def _alt_names(names: Iterable[str]) -> list[x509.GeneralName]:
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    return alt
