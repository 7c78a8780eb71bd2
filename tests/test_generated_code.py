"""The committed stubs and descriptor set are exactly what the .proto files generate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("proto_generate", ROOT / "proto" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    generator = _generator()
    generated = generator.generate(tmp_path)
    assert generated, "the generator produced nothing"
    stale = [
        str(rel)
        for rel in generated
        if (tmp_path / rel).read_bytes() != (ROOT / "proto" / rel).read_bytes()
    ]
    assert not stale, f"stale generated files (run `python proto/generate.py`): {stale}"


def test_no_generated_file_is_left_over_from_a_deleted_proto(tmp_path: Path) -> None:
    generator = _generator()
    expected = {str(rel) for rel in generator.generate(tmp_path)}
    committed = {
        str(p.relative_to(ROOT / "proto"))
        for p in (ROOT / "proto").rglob("*")
        if p.is_file()
        and (p.name.endswith(generator.GENERATED_SUFFIXES) or p.name == generator.DESCRIPTOR_NAME)
    }
    assert committed == expected


@pytest.mark.parametrize("service", ["cts.connection.v1.ConnectionService"])
def test_descriptor_set_holds_services_and_error_details(service: str) -> None:
    from google.protobuf import descriptor_pb2

    descriptors = descriptor_pb2.FileDescriptorSet.FromString(
        (ROOT / "proto" / "cts.pb").read_bytes()
    )
    files = {f.name: f for f in descriptors.file}
    assert "google/rpc/error_details.proto" in files  # Envoy renders error details from it
    services = {f"{f.package}.{s.name}" for f in descriptors.file for s in f.service}
    assert service in services
