"""The committed stubs, descriptor set and OpenAPI document are exactly what the .proto files
generate, and the document is valid OpenAPI 3 that says what Envoy does."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("proto_generate", ROOT / "proto" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
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
        if p.is_file() and generator.is_generated(p.relative_to(ROOT / "proto"))
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


def _openapi() -> dict[str, Any]:
    return dict(json.loads((ROOT / "proto" / "cts" / "openapi.json").read_text()))


def test_the_openapi_document_is_valid_openapi_3() -> None:
    from openapi_spec_validator import validate

    document = _openapi()
    validate(document)  # raises, naming the first problem
    assert document["openapi"].startswith("3.")


def test_every_http_annotation_is_an_operation_with_its_verb_and_path() -> None:
    from google.api import annotations_pb2
    from google.protobuf import descriptor_pb2

    descriptors = descriptor_pb2.FileDescriptorSet.FromString(
        (ROOT / "proto" / "cts.pb").read_bytes()
    )
    expected = set()
    for file in descriptors.file:
        for service in file.service:
            for method in service.method:
                if method.options.HasExtension(annotations_pb2.http):
                    rule = method.options.Extensions[annotations_pb2.http]
                    for binding in [rule, *rule.additional_bindings]:
                        verb = binding.WhichOneof("pattern")
                        expected.add((verb, getattr(binding, verb)))
    documented = {(verb, path) for path, item in _openapi()["paths"].items() for verb in item}
    assert documented == expected
    assert ("delete", "/api/settings/connections/{id}") in documented
    assert len(documented) >= 40


def test_the_document_uses_the_names_and_json_mapping_envoy_does() -> None:
    document = _openapi()
    paths, schemas = document["paths"], document["components"]["schemas"]
    listed = paths["/api/settings/connections"]["get"]
    query = {p["name"]: p["schema"] for p in listed["parameters"]}
    assert {"exchange", "apiType", "enabled", "pageSize", "pageToken"} <= set(query)
    assert query["enabled"]["type"] == "boolean" and query["pageSize"]["type"] == "integer"
    batch = paths["/api/settings/connections/batch-test"]["post"]
    body = batch["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["connectionIds"]["type"] == "array"
    patch = paths["/api/settings/connections/{id}"]["patch"]
    assert [p["name"] for p in patch["parameters"]] == ["id", "updateMask"]
    assert patch["parameters"][1]["schema"]["type"] == "string"  # FieldMask: "a,b"
    # Requests in lowerCamelCase, with write-only credentials and no output-only fields.
    made = schemas["ConnectionInput"]["properties"]
    assert {"apiType", "apiKey", "apiSecret", "isEnabled"} <= set(made)
    assert "id" not in made and "createdAt" not in made and "api_type" not in made
    # Responses in proto names (Envoy prints them), never the credentials.
    shown = schemas["Connection"]["properties"]
    assert {"id", "api_type", "is_enabled", "api_key_hint"} <= set(shown)
    assert not {"api_key", "api_secret", "api_passphrase"} & set(shown)
    assert shown["created_at"]["format"] == "date-time"  # Timestamp: RFC 3339
    # Counts and durations are JSON numbers (int32); revisions stay int64, strings.
    assert shown["last_test_duration_ms"]["type"] == "integer"
    health = schemas["ConnectionHealth"]["properties"]
    count = health["success_count"]
    assert (count["type"], count["format"]) == ("integer", "int32")
    revision = schemas["WatchConnectionsResponse"]["properties"]["revision"]
    assert (revision["type"], revision["format"]) == ("string", "int64")
    change = schemas["ConnectionChange"]["properties"]["type"]
    assert change["type"] == "string" and "CHANGE_TYPE_ADDED" in change["enum"]
    # Streams are server-sent events and marked so; every call needs the bearer token.
    watch = paths["/v1/connections:watch"]["get"]
    assert watch["x-cts-stream"] is True
    assert "text/event-stream" in watch["responses"]["200"]["content"]
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = schemas["Error"]
    assert error["required"] == ["code", "message"]
    for item in paths.values():
        for operation in item.values():
            assert operation["responses"]["401"]["$ref"] == "#/components/responses/Error"
