"""What a connection may be: the rules a create, an update or a filter is checked against
before anything is stored (each refusal names the field and why)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from server.connections.draft import ConnectionDraft
from server.connections.repository import ConnectionRepository
from server.connections.view import ConnectionFilter
from server.connections.vocabulary import ApiType, Exchange
from server.errors import AlreadyExists, FieldViolation, InvalidArgument
from server.exchange.catalogue import supported_api_types


def connection_filter(
    *,
    exchange: str | None = None,
    api_type: str | None = None,
    enabled: bool | None = None,
    active: bool | None = None,
) -> ConnectionFilter:
    """A validated filter (INVALID_ARGUMENT for values that no connection can have)."""
    violations = []
    if exchange is not None and exchange not in Exchange._value2member_map_:
        violations.append(FieldViolation("exchange", f"must be one of {', '.join(Exchange)}"))
    if api_type is not None and api_type not in ApiType._value2member_map_:
        violations.append(FieldViolation("api_type", f"must be one of {', '.join(ApiType)}"))
    if violations:
        raise InvalidArgument(violations)
    return ConnectionFilter(exchange=exchange, api_type=api_type, enabled=enabled, active=active)


def reject_unknown(fields: Mapping[str, Any], allowed: frozenset[str] | set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidArgument([FieldViolation(name, "cannot be set") for name in unknown])


def name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"a connection named '{name}' already exists",
        reason="CONNECTION_NAME_TAKEN",
        metadata={"name": name},
    )


def ensure_name_free(repo: ConnectionRepository, name: str, own_id: uuid.UUID | None) -> None:
    existing = repo.id_with_name(name)
    if existing is not None and existing != own_id:
        raise name_taken(name)


def ensure_supported(draft: ConnectionDraft) -> None:
    """A connection of an exchange and API type CTS cannot trade is refused when it is made
    (or changed to that pair), naming what is supported, never at test time."""
    exchange, api_type = str(draft.exchange), str(draft.api_type)
    supported = supported_api_types(exchange)
    if api_type in supported:
        return
    what = (
        f"CTS supports {exchange} as {', '.join(supported)}"
        if supported
        else f"CTS does not support {exchange} yet"
    )
    raise InvalidArgument.field(
        "api_type", f"{exchange} {api_type} is not supported: {what}", reason="UNSUPPORTED_API_TYPE"
    )
