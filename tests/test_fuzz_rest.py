"""Schemathesis over the REST face: every operation of the committed OpenAPI document, through
the real Envoy in front of a real server, with generated valid and invalid input.

Per operation a bounded, deterministic run (fixed seed, derandomized, no example database):
no answer is a 5xx; every 4xx is JSON with a message and names no internal type; a refused
request (4xx) changes nothing in storage; a success matches the documented response schema.
About half the examples of an operation on one connection name a connection that exists (made
by the test), so that updates, switches and settings reach the domain code, not only its 404.
The server-sent-event streams (the ``x-cts-stream`` operations, all ``:watch``) never end by
themselves, so they are left out here; the token checks below cover them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import create_engine

from tests.conftest import TEST_TOKEN, make_settings
from tests.support.envoy_process import EnvoyProcess
from tests.support.server_thread import ServerThread
from tests.support.storage import dump

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "proto" / "cts" / "openapi.json"
HEADERS = {"authorization": f"Bearer {TEST_TOKEN}"}
INTERNAL_WORDS = ("DecodeError", "<class", "Traceback", "protobuf.", "Exception", "google.protobuf")
EXAMPLES_PER_OPERATION = 12
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 1010,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "mode": "all",  # valid and invalid input
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
            # The token is this test's (below): never replaced by generated ones.
            "with-security-parameters": False,
        },
        # Only the generated phase: the document has no examples, and stateful links none.
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)


def _is_stream(context: Any) -> bool:
    return bool(context.operation.definition.raw.get("x-cts-stream"))


schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG).exclude(func=_is_stream)


# Path or body fields that name a connection, and the operations that would call its exchange
# with it (no test may reach a real exchange): those keep the generated, unknown ids.
CONNECTION_FIELDS = ("id", "connection_id", "connectionId")
CALLS_THE_EXCHANGE = {
    ("POST", "/api/settings/connections/{id}/test"),
    ("POST", "/api/trade-engine/test"),
}


class Stack:
    def __init__(self, server: ServerThread, envoy: EnvoyProcess) -> None:
        self.server, self.envoy = server, envoy
        self.session = requests.Session()
        self.engine = create_engine(server.settings.resolved_database_url)
        self.known = ""

    def storage(self) -> dict[str, list[tuple[Any, ...]]]:
        return dump(self.engine)

    def known_connection(self) -> str:
        """The id of a connection that exists (made again after a fuzzed delete)."""
        url = f"{self.envoy.base_url}/api/settings/connections"
        if self.known:
            found = self.session.get(f"{url}/{self.known}", headers=HEADERS, timeout=10)
            if found.status_code == 200:
                return self.known
            assert found.status_code == 404, found.text
        made = self.session.post(
            url,
            json={"name": f"fuzzed {uuid.uuid4()}", "exchange": "okx", "api_type": "spot"},
            headers=HEADERS,
            timeout=10,
        )
        assert made.status_code == 200, made.text
        self.known = made.json()["id"]
        return self.known


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("fuzz-rest") / "data"
    # The fuzzer's bursts and its 135 bad tokens in a row are what the abuse limits are for;
    # here they would only hide the answers under test.
    unlimited = {
        "rate_limit_per_second": 0,
        "address_rate_limit_per_second": 0,
        "auth_failures_per_second": 0,
    }
    server = ServerThread(make_settings(data, **unlimited)).start()
    envoy = EnvoyProcess(server.settings.model_copy(update={"grpc_port": server.port})).start()
    stack = Stack(server, envoy)
    yield stack
    stack.session.close()
    stack.engine.dispose()
    envoy.stop()
    server.stop()


def assert_json_error(response: schemathesis.Response | httpx.Response) -> dict[str, Any]:
    """A 4xx: JSON (google.rpc.Status) with a message, no word of CTS's insides."""
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):  # schemathesis keeps every value of a header
        content_type = content_type[0] if content_type else ""
    assert content_type.startswith("application/json"), (
        response.status_code,
        content_type,
        response.text,
    )
    body = json.loads(response.text)
    assert isinstance(body, dict) and isinstance(body.get("code"), int), response.text
    assert isinstance(body.get("message"), str) and body["message"].strip(), response.text
    assert not any(word in response.text for word in INTERNAL_WORDS), response.text
    return body


def name_a_known_connection(case: schemathesis.Case, known: str) -> None:
    if (case.method.upper(), case.path) in CALLS_THE_EXCHANGE:
        return
    for name in CONNECTION_FIELDS:
        if isinstance(case.path_parameters, dict) and name in case.path_parameters:
            case.path_parameters[name] = known
        if isinstance(case.body, dict) and isinstance(case.body.get(name), str):
            case.body[name] = known


@schema.parametrize()
@schema.given(known=st.booleans())
def test_no_input_is_a_server_error_and_a_refused_one_changes_nothing(
    case: schemathesis.Case, known: bool, stack: Stack
) -> None:
    if known:
        name_a_known_connection(case, stack.known_connection())
    before = stack.storage()
    response = case.call(
        base_url=stack.envoy.base_url, session=stack.session, headers=HEADERS, timeout=10
    )
    assert response.status_code < 500, (case.as_curl_command(), response.text)
    if response.status_code >= 400:
        assert_json_error(response)
        assert stack.storage() == before, case.as_curl_command()
    case.validate_response(
        response,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )


def _operations() -> list[tuple[str, str]]:
    """(verb, path) of every documented operation, streams included, with a made-up id."""
    document = json.loads(DOCUMENT.read_text())
    some_id = str(uuid.uuid4())
    return [
        (verb.upper(), re.sub(r"\{[^}]+\}", some_id, path))
        for path, item in document["paths"].items()
        for verb in item
    ]


@pytest.mark.parametrize("token", [None, "not-a-token", "cts_" + "x" * 40])
def test_every_operation_without_a_valid_token_is_a_401_json_error(
    stack: Stack, token: str | None
) -> None:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    before = stack.storage()
    with httpx.Client(base_url=stack.envoy.base_url, headers=headers, timeout=5) as client:
        for verb, path in _operations():
            body = b"{}" if verb in ("POST", "PUT", "PATCH") else None
            response = client.request(verb, path, content=body)
            assert response.status_code == 401, (verb, path, response.status_code, response.text)
            assert assert_json_error(response)["code"] == 16, (verb, path)
    assert stack.storage() == before
